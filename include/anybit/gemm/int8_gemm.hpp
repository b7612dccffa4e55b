// anybit/gemm/int8_gemm.hpp — the int8 paths: codes as bytes (vpdpbusd with AVX-512 VNNI,
// vpmaddubsw on AVX2, udot on NEON with the dot product, else vmull_u8).
//
// Bit-serial cost grows with W * A plane pairs; the int8 path's does not, so it wins once W * A
// is large (research/perf-anchors.md: from about 3 plane pairs on AVX2). Weights become signed
// byte panels once per nested width (cached beside the planes: packed_weights' derived forms);
// for the u8 x s8 instructions 8-bit weight codes are stored as q - 128 and corrected by
// 128 * (activation row sum); both NEON kernels multiply unsigned codes directly.
// Activations come as bytes (byte_activations.hpp), or as planes unpacked per call. Output: the same exact int64
// sums the bit-serial path gives, so every output stage is shared and bit-identical.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ios>
#include <limits>
#include <memory>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/bitserial_gemm.hpp"
#include "anybit/gemm/byte_activations.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/parallel.hpp"
#include "anybit/kernels/int8_args.hpp"
#include "anybit/kernels/int8_avx2.hpp"
#include "anybit/kernels/int8_avx512.hpp"
#include "anybit/kernels/int8_neon.hpp"
#include "anybit/kernels/int8_neon_dot.hpp"
#include "anybit/kernels/pack_avx2.hpp"
#include "anybit/kernels/pack_scalar.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

/// Weights as byte panels (kernels/int8_args.hpp): value = code - offset, as int8 or, for
/// kernels that multiply unsigned bytes, as uint8 (offset 0); groups of 4 k in order, or in
/// pairs (group_pairs: each column's groups g and g + 1 side by side, K padded to whole pairs).
struct int8_panels {
  std::size_t cols, k, k_groups;
  bool group_pairs;
  int offset;   // 128 for 8-bit codes in signed bytes, else 0
  int max_abs;  // the largest |value|
  aligned_buffer<std::int8_t> data;

  int8_panels(const packed_weights_view& w, bool unsigned_bytes, bool pairs)
      : cols(w.cols()), k(w.k()), k_groups(ceil_div(w.k(), std::size_t{4})), group_pairs(pairs),
        offset(w.bits() == 8 && !unsigned_bytes ? 128 : 0),
        max_abs(unsigned_bytes ? static_cast<int>(max_code(w.bits())) : kernels::signed_weight_max(w.bits())),
        data(w.panels() * panel_stride()) {
    for (std::size_t n = 0; n < cols; ++n) {
      std::int8_t* panel = data.data() + (n / kernels::panel_width) * panel_stride();
      const std::size_t col = n % kernels::panel_width;
      for (std::size_t x = 0; x < k; ++x) {
        int code = 0;
        for (int j = 0; j < w.bits(); ++j) code |= static_cast<int>((w.word(j, n, x / 64) >> (x % 64)) & 1u) << j;
        const std::size_t g = x / 4;
        const std::size_t at = group_pairs ? (g / 2) * 64 + col * 8 + (g % 2) * 4 : g * 32 + col * 4;
        panel[at + x % 4] = static_cast<std::int8_t>(static_cast<std::uint8_t>(code - offset));
      }
    }
  }
  std::size_t panel_stride() const { return (group_pairs ? round_up(k_groups, std::size_t{2}) : k_groups) * 32; }
  std::size_t panels() const { return ceil_div(cols, static_cast<std::size_t>(kernels::panel_width)); }
};

namespace detail {

// One tile of int8 sums: up to 32 rows x 8 panels (64 columns), several kernel calls wide.
inline constexpr std::size_t int8_row_block = 32, int8_tile_panels = 8,
                             int8_tile_width = int8_tile_panels * kernels::panel_width;

struct int8_kernel {
  path which;
  void (*run)(const kernels::int8_tile_args&);
  std::size_t row_block;  // rows per kernel call, at most int8_row_block
  int np;
  bool unsigned_weights;
  bool group_pairs;  // reads weights in group pairs (int8_args.hpp)
};

/// The int8 micro-kernels of this build, fastest first (built once: gemm calls must not
/// allocate).
inline const std::vector<int8_kernel>& compiled_int8_kernels() {
  static const std::vector<int8_kernel> list = [] {
    std::vector<int8_kernel> l;
#if ANYBIT_X86_KERNELS
    l.push_back({path::avx512_int8, kernels::avx512_int8::run, kernels::avx512_int8::row_block, kernels::avx512_int8::np,
                 false, true});
    l.push_back({path::avx2_int8, kernels::avx2_int8::run, int8_row_block, kernels::avx2_int8::np, false, false});
#elif ANYBIT_ARCH_AARCH64
#if ANYBIT_NEON_DOT_KERNEL
    l.push_back({path::neon_dot, kernels::neon_dot::run, int8_row_block, kernels::neon_dot::np,
                 kernels::neon_dot::unsigned_weights, false});
#endif
    l.push_back({path::neon_int8, kernels::neon_int8::run, int8_row_block, kernels::neon_int8::np,
                 kernels::neon_int8::unsigned_weights, false});
#endif
    return l;
  }();
  return list;
}

/// The fastest int8 kernel that is compiled, supported by this CPU and allowed, or null.
inline const int8_kernel* usable_int8_kernel(path_mask allowed) {
  const path_mask usable = allowed & supported_paths();
  for (const auto& k : compiled_int8_kernels()) {
    if (usable & mask_of(k.which)) return &k;
  }
  return nullptr;
}

/// The byte panels of w in kernel's format, built once per packed_weights, nested width and
/// group order (thread-safe); a bare view gets a private copy in `scratch`.
inline const int8_panels& int8_form(const packed_weights_view& w, const int8_kernel& kernel,
                                    std::unique_ptr<int8_panels>& scratch) {
  return derived_form(w, kernel.group_pairs ? derived_forms::int8_pairs_slot : derived_forms::int8_slot, scratch,
                      kernel.unsigned_weights, kernel.group_pairs);
}

/// Sums of byte activations x w into sink, on the fastest int8 path ctx allows (the caller
/// checked that a.cols() == w.k()).
template <class Sink>
void int8_byte_sums(const byte_activations& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  const int8_kernel* kernel = usable_int8_kernel(ctx.allowed);
  if (kernel == nullptr) {
    throw error(message("anybit: no int8 gemm path is both allowed (mask 0x", std::hex, ctx.allowed,
                        ") and supported here (mask 0x", supported_paths(), "), expected one of mask 0x", int8_paths));
  }
  ctx.last_path = kernel->which;
  if (a.rows() * w.cols() == 0) return;
  std::unique_ptr<int8_panels> scratch;
  const int8_panels& wb = int8_form(w, *kernel, scratch);
  // Weights stored as q - offset: each sum is short by offset * (the row's code sum).
  std::vector<std::int64_t> row_add;
  if (wb.offset != 0) {
    row_add.resize(a.rows());
    for (std::size_t m = 0; m < a.rows(); ++m) row_add[m] = wb.offset * a.row_sums()[m];
  }
  const std::int64_t a_max = max_code(a.bits());
  // vpmaddubsw adds two u8 x s8 products into int16: split A's nibbles when one pair could
  // saturate, else add as many groups in int16 as cannot overflow before widening (kernels
  // without an int16 stage ignore both).
  const long long groups16 = kernels::int16_groups(2 * a_max * wb.max_abs);
  const bool split = groups16 == 0;
  const std::int64_t per_group = 4 * a_max * wb.max_abs;  // bound on one group's 32-bit increment (split too)
  // Whole group pairs (at least one: per_group < 2^18), so a kernel reading two groups at a
  // time never straddles two chunks.
  const auto chunk = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() / per_group) & ~std::size_t{1};
  const auto i16_groups = static_cast<std::size_t>(std::max<long long>(1, groups16));
  const auto np = static_cast<std::size_t>(kernel->np);
  if (int8_tile_panels % np != 0) throw error("anybit: int8 micro-kernel panels do not divide the output tile");
  static_assert(byte_activations::row_align % 8 == 0, "int8 kernels read activation groups in pairs (int8_args.hpp)");
  const std::size_t row_block = kernel->row_block;
  if (row_block == 0 || row_block > int8_row_block) throw error("anybit: int8 micro-kernel rows do not fit the output tile");
  // A block: up to row_block rows x 8 panels, the kernel called per np panels; the sink then
  // converts whole rows of up to 64 columns at once.
  const auto block = [&](std::size_t p0, std::size_t p_end, std::size_t m0, std::int64_t* tile) {
    const std::size_t panels = std::min(int8_tile_panels, p_end - p0);
    const std::size_t n0 = p0 * kernels::panel_width;
    const std::size_t cols = std::min(panels * kernels::panel_width, w.cols() - n0);
    const std::size_t rows = std::min(row_block, a.rows() - m0);
    // Whole panels go straight to the output when the sink has one (raw sums), else via the tile.
    std::int64_t* direct = cols == panels * kernels::panel_width ? sink.direct(m0, n0) : nullptr;
    std::int64_t* out = direct != nullptr ? direct : tile;
    const std::size_t out_stride = direct != nullptr ? sink.direct_stride() : int8_tile_width;
    for (std::size_t p = 0; p < panels; p += np) {
      kernel->run({a.row(m0), a.stride(), wb.data.data() + (p0 + p) * wb.panel_stride(), wb.panel_stride(), wb.k_groups,
                   chunk, split, i16_groups, static_cast<int>(rows), static_cast<int>(std::min(np, panels - p)),
                   out + p * kernels::panel_width, out_stride, row_add.empty() ? nullptr : row_add.data() + m0});
    }
    if (direct == nullptr) sink.take(tile, int8_tile_width, m0, rows, n0, cols);
  };
  // Weights that fit in L2 are swept once per block of rows, so each block of activations is
  // read from L1 for every panel (large batches: the activations are the big operand).
  // Larger weights stay put instead: each panel group serves every row.
  constexpr std::size_t l2_budget = 256 * 1024;
  const auto work = [&](std::size_t p_begin, std::size_t p_end) {
    alignas(64) std::int64_t tile[int8_row_block * int8_tile_width];
    if ((p_end - p_begin) * wb.panel_stride() <= l2_budget) {
      for (std::size_t m0 = 0; m0 < a.rows(); m0 += row_block) {
        for (std::size_t p0 = p_begin; p0 < p_end; p0 += int8_tile_panels) block(p0, p_end, m0, tile);
      }
      return;
    }
    for (std::size_t p0 = p_begin; p0 < p_end; p0 += int8_tile_panels) {
      for (std::size_t m0 = 0; m0 < a.rows(); m0 += row_block) block(p0, p_end, m0, tile);
    }
  };
  parallel_panels(wb.panels(), np, ctx, work);
}

/// Sums as bitserial_sums, on the fastest int8 path ctx allows: the planes are unpacked to
/// bytes first.
template <class Sink>
void int8_sums(const bitplane_view& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  byte_activations bytes;
  unpack_planes(a, bytes, ctx);
  int8_byte_sums(bytes, w, sink, ctx);
}

}  // namespace detail
}  // namespace anybit
