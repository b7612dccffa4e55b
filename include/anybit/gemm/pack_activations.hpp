// anybit/gemm/pack_activations.hpp — activations to bit-planes at run time, cheaply.
//
// From codes (uint8, row-major with stride ld) or from floats, quantized with quantize_code
// (quant/affine.hpp: the same function training's fake quantization uses). The output tensor
// is reused when its shape and width already match, so a layer packs without allocating.
// Paths follow ctx.allowed: on x86 the AVX-512BW packer when avx512 or avx512bw is allowed and
// supported (floats go straight to planes, no code bytes), else avx2 when allowed and supported,
// else the portable packer (reference = the bit-plane codec itself). Every path gives identical
// planes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/kernels/pack_avx2.hpp"
#include "anybit/kernels/pack_avx512.hpp"
#include "anybit/kernels/pack_scalar.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"

namespace anybit {
namespace detail {

using pack_row_fn = std::uint8_t (*)(const std::uint8_t*, std::size_t, int, std::uint64_t*, std::size_t, std::size_t);
using quantize_row_fn = void (*)(const float*, std::size_t, float, float, float, std::uint8_t*);

struct packer {
  path which;
  pack_row_fn pack;
  quantize_row_fn quantize;
};

inline packer choose_packer(const gemm_context& ctx) {
  const path_mask usable = ctx.allowed & supported_paths();
#if ANYBIT_X86_KERNELS
  if ((usable & (mask_of(path::avx512) | mask_of(path::avx512bw))) && cpu().avx512bw) {
    return {path::avx512bw, kernels::avx512bw::pack_row, kernels::avx512bw::quantize_row};
  }
  if ((usable & mask_of(path::avx2)) && cpu().fma) return {path::avx2, kernels::avx2::pack_row, kernels::avx2::quantize_row};
#endif
  if (usable & (mask_of(path::scalar) | mask_of(path::neon) | mask_of(path::avx512) | mask_of(path::avx2))) {
    return {path::scalar, kernels::scalar::pack_row, kernels::scalar::quantize_row};
  }
  return {path::reference, nullptr, kernels::scalar::quantize_row};
}

inline void prepare_output(bitplane_tensor<>& out, std::size_t rows, std::size_t cols, int bits) {
  if (out.rows() != rows || out.cols() != cols || out.bits() != bits) out = bitplane_tensor<>(rows, cols, bits);
}

inline void check_source(const void* p, std::size_t rows, std::size_t cols, std::size_t ld) {
  if (ld < cols) throw shape_error(message("anybit: activation row stride ld = ", ld, ", expected at least cols = ", cols));
  if (rows * cols != 0 && p == nullptr) throw shape_error("anybit: activation pointer is null");
}

// Names the first code that does not fit among `count` rows of `cols` codes (row i at
// codes + i * ld, reported as row first + i); called only when one does not.
[[noreturn]] inline void throw_code_range(const std::uint8_t* codes, std::size_t ld, std::size_t first, std::size_t count,
                                          std::size_t cols, int bits) {
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t k = 0; k < cols; ++k) {
      const std::uint8_t code = codes[i * ld + k];
      if (code > max_code(bits)) {
        throw bit_width_error(message("anybit: activation code ", unsigned{code}, " at row ", first + i, ", column ", k,
                                      " does not fit in ", bits, " bits, expected 0..", max_code(bits)));
      }
    }
  }
  throw error("anybit: activation code range check failed without an offending code");
}

// The rows as the packers walk them: when they follow each other without a gap both in the
// source (ld == cols) and in every plane (cols fills its words: no row padding), as one long
// row. That is faster than row by row: from floats (pack_vs_gemm W1A1 64x1024x1024) 3.02-3.07 %
// against 3.08-3.17 % of the GEMM, medians of 10 in alternation, as the loop runs on without an
// exit per row; from codes (pack_codes_vs_gemm W1A1) 1.18-1.44 % against 2.16-2.20 %, with
// kernels::avx512bw::pack_row's whole words in a loop of their own (3 alternations, session 10).
struct row_runs {
  std::size_t count, cols, words;
};

inline row_runs runs_of(std::size_t rows, std::size_t cols, std::size_t ld, std::size_t words_per_row) {
  const bool one_run = ld == cols && cols == words_per_row * 64 && rows > 0;
  return one_run ? row_runs{1, rows * cols, rows * words_per_row} : row_runs{rows, cols, words_per_row};
}

inline void pack_rows(const packer& pk, const std::uint8_t* codes, std::size_t rows, std::size_t cols, std::size_t ld,
                      int bits, bitplane_tensor<>& out) {
  const bitplane_view v = out.view();
  const row_runs runs = runs_of(rows, cols, ld, v.words_per_row());
  for (std::size_t r = 0; r < runs.count; ++r) {
    const std::uint8_t seen = pk.pack(codes + r * ld, runs.cols, bits, out.plane_row(0, r), v.plane_stride(), runs.words);
    if ((seen >> bits) != 0) throw_code_range(codes + r * ld, ld, r, rows - r, cols, bits);  // earlier runs fit
  }
}

}  // namespace detail

/// Packs rows x cols codes (row stride ld) of `bits` bits into out. A code >= 2^bits throws
/// bit_width_error naming it; out's contents are then unspecified.
inline void pack_activations(const std::uint8_t* codes, std::size_t rows, std::size_t cols, std::size_t ld, int bits,
                             bitplane_tensor<>& out, gemm_context& ctx) {
  check_bits(bits);
  detail::check_source(codes, rows, cols, ld);
  detail::prepare_output(out, rows, cols, bits);
  const detail::packer pk = detail::choose_packer(ctx);
  if (pk.pack == nullptr) {  // reference: the codec, row by row through a contiguous copy
    std::vector<std::uint8_t> dense(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) std::copy_n(codes + r * ld, cols, dense.begin() + static_cast<std::ptrdiff_t>(r * cols));
    out.assign_codes(dense.data());
    return;
  }
  detail::pack_rows(pk, codes, rows, cols, ld, bits, out);
}

/// Quantizes rows x cols floats (row stride ld) with q to `bits`-bit codes and packs them.
inline void quantize_activations(const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                                 const activation_quant& q, int bits, bitplane_tensor<>& out, gemm_context& ctx) {
  check_bits(bits);
  detail::check_source(x, rows, cols, ld);
  detail::check_scale(q.scale, "activation scale");
  detail::check_zero_point(q.zero_point, "activation zero point");
  detail::prepare_output(out, rows, cols, bits);
  const detail::packer pk = detail::choose_packer(ctx);
  const float inv = quantization_inverse_scale(q.scale), top = static_cast<float>(max_code(bits));
#if ANYBIT_X86_KERNELS
  if (bits == 1 && (pk.which == path::avx512bw || pk.which == path::avx2)) {  // the binary-activation hot case:
    const float threshold = binary_threshold(inv, q.zero_point);                // one compare per float
    const auto pack_row = pk.which == path::avx512bw ? kernels::avx512bw::quantize_pack_row_1bit
                                                     : kernels::avx2::quantize_pack_row_1bit;
    const detail::row_runs runs = detail::runs_of(rows, cols, ld, out.view().words_per_row());
    for (std::size_t r = 0; r < runs.count; ++r) pack_row(x + r * ld, runs.cols, threshold, out.plane_row(0, r), runs.words);
    return;
  }
  if (pk.which == path::avx512bw) {  // every other width fused: floats to plane words, no code bytes
    const bitplane_view v = out.view();
    const detail::row_runs runs = detail::runs_of(rows, cols, ld, v.words_per_row());
    for (std::size_t r = 0; r < runs.count; ++r) {
      kernels::avx512bw::quantize_pack_row(x + r * ld, runs.cols, inv, q.zero_point, bits, out.plane_row(0, r), v.plane_stride(),
                                           runs.words);
    }
    return;
  }
#endif
  std::vector<std::uint8_t> codes(pk.pack == nullptr ? rows * cols : cols);
  for (std::size_t r = 0; r < rows; ++r) {
    std::uint8_t* row = pk.pack == nullptr ? codes.data() + r * cols : codes.data();
    pk.quantize(x + r * ld, cols, inv, q.zero_point, top, row);
    if (pk.pack != nullptr) {
      const bitplane_view v = out.view();
      pk.pack(row, cols, bits, out.plane_row(0, r), v.plane_stride(), v.words_per_row());
    }
  }
  if (pk.pack == nullptr) out.assign_codes(codes.data());
}

}  // namespace anybit
