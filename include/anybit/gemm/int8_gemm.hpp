// anybit/gemm/int8_gemm.hpp — the int8 path: codes as bytes, multiplied with vpmaddubsw.
//
// Bit-serial cost grows with W * A plane pairs; the int8 path's does not, so it wins once W * A
// is large (research/perf-anchors.md: from about 3 plane pairs on AVX2). Weights become signed
// byte panels once per nested width (cached beside the planes: packed_weights' derived forms);
// 8-bit weight codes are stored as q - 128 and corrected by 128 * (activation row sum).
// Activations are unpacked from their planes into bytes per call. Output: the same exact int64
// sums the bit-serial path gives, so every output stage is shared and bit-identical.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/gemm/bitserial_gemm.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/parallel.hpp"
#include "anybit/kernels/int8_args.hpp"
#include "anybit/kernels/int8_avx2.hpp"
#include "anybit/kernels/pack_avx2.hpp"
#include "anybit/kernels/pack_scalar.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

/// Weights as signed byte panels (kernels/int8_args.hpp): value = code - offset.
struct int8_panels {
  std::size_t cols, k, k_groups;
  int offset;  // 128 for 8-bit codes (so they fit int8), else 0
  int max_abs;  // the largest |value|
  aligned_buffer<std::int8_t> data;

  explicit int8_panels(const packed_weights_view& w)
      : cols(w.cols()), k(w.k()), k_groups(ceil_div(w.k(), std::size_t{4})), offset(w.bits() == 8 ? 128 : 0),
        max_abs(w.bits() == 8 ? 128 : static_cast<int>(max_code(w.bits()))),
        data(w.panels() * panel_stride()) {
    for (std::size_t n = 0; n < cols; ++n) {
      std::int8_t* panel = data.data() + (n / kernels::panel_width) * panel_stride() + (n % kernels::panel_width) * 4;
      for (std::size_t x = 0; x < k; ++x) {
        int code = 0;
        for (int j = 0; j < w.bits(); ++j) code |= static_cast<int>((w.word(j, n, x / 64) >> (x % 64)) & 1u) << j;
        panel[(x / 4) * 32 + x % 4] = static_cast<std::int8_t>(code - offset);
      }
    }
  }
  std::size_t panel_stride() const { return k_groups * 32; }
  std::size_t panels() const { return ceil_div(cols, static_cast<std::size_t>(kernels::panel_width)); }
};

namespace detail {

/// The byte panels of w, built once per packed_weights and nested width (thread-safe);
/// a bare view gets a private copy in `scratch`.
inline const int8_panels& int8_form(const packed_weights_view& w, std::unique_ptr<int8_panels>& scratch) {
  derived_forms* forms = w.forms();
  if (forms == nullptr) {
    scratch = std::make_unique<int8_panels>(w);
    return *scratch;
  }
  const auto slot = static_cast<std::size_t>(w.bits() - 1);
  std::call_once(forms->once[slot], [&] { forms->form[slot] = std::make_shared<const int8_panels>(w); });
  return *static_cast<const int8_panels*>(forms->form[slot].get());
}

/// Sums as bitserial_sums, on the int8 path (path::avx2_int8; the caller checked it is supported).
template <class Sink>
void int8_sums(const bitplane_view& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  ctx.last_path = path::avx2_int8;
  if (a.rows() * w.cols() == 0) return;
#if ANYBIT_X86_KERNELS
  std::unique_ptr<int8_panels> scratch;
  const int8_panels& wb = int8_form(w, scratch);
  const std::size_t a_stride = round_up(wb.k_groups * 4, std::size_t{32});
  aligned_buffer<std::uint8_t> bytes(a.rows() * a_stride);
  for (std::size_t m = 0; m < a.rows(); ++m) {
    kernels::avx2::unpack_row(a.plane_row(0, m), a.plane_stride(), a.bits(), a.cols(), bytes.data() + m * a_stride, a_stride);
  }
  std::vector<std::int64_t> row_sums;
  if (wb.offset != 0) row_sums = a.row_sums();
  const std::int64_t a_max = max_code(a.bits());
  // vpmaddubsw adds two u8 x s8 products into int16; split A's nibbles when that could saturate.
  const bool split = 2 * a_max * wb.max_abs > std::numeric_limits<std::int16_t>::max();
  const std::int64_t per_group = 4 * (split ? 15 + 16 * 15 : a_max) * wb.max_abs;  // bound on one group's int32 increment
  const auto chunk = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() / per_group);
  const auto work = [&](std::size_t p_begin, std::size_t p_end) {
    constexpr std::size_t row_block = 32, width = kernels::avx2_int8::np * kernels::panel_width;
    alignas(64) std::int64_t tile[row_block * width];
    for (std::size_t p0 = p_begin; p0 < p_end; p0 += kernels::avx2_int8::np) {
      const int panels = static_cast<int>(std::min<std::size_t>(kernels::avx2_int8::np, p_end - p0));
      const std::size_t n0 = p0 * kernels::panel_width;
      const std::size_t cols = std::min(static_cast<std::size_t>(panels) * kernels::panel_width, w.cols() - n0);
      for (std::size_t m0 = 0; m0 < a.rows(); m0 += row_block) {
        const std::size_t rows = std::min(row_block, a.rows() - m0);
        kernels::avx2_int8::run({bytes.data() + m0 * a_stride, a_stride, wb.data.data() + p0 * wb.panel_stride(),
                                 wb.panel_stride(), wb.k_groups, chunk, split, static_cast<int>(rows), panels, tile, width});
        if (wb.offset != 0) {
          for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t x = 0; x < cols; ++x) tile[r * width + x] += wb.offset * row_sums[m0 + r];
          }
        }
        sink.take(tile, width, m0, rows, n0, cols);
      }
    }
  };
  parallel_panels(wb.panels(), static_cast<std::size_t>(kernels::avx2_int8::np), ctx.threads, work);
#else
  (void)sink;
  throw error("anybit: the avx2_int8 gemm path is not compiled into this build");
#endif
}

}  // namespace detail
}  // namespace anybit
