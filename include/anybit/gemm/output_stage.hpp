// anybit/gemm/output_stage.hpp — from exact integer sums to what the next layer wants.
//
// With real = scale * (q - zero_point) on both operands, each output is
//
//   y[m][n] = ( sum_k qa qw  +  offset[n]  -  zw[n] * rowsum_a[m] ) * sa * sw[n]  +  bias[n],
//   offset[n] = -za * colsum_w[n] + K za zw[n],   then clamped to [min, max],
//
// computed in double from the exact int64 sum, so every path that produces the same sums
// produces bit-identical outputs. Codes out are training's quantize_code of (float) y: round
// half to even of fma(y, 1 / scale, zero_point) in float (quant/affine.hpp).
// Rows may go through kernels/requantize_avx2.hpp, which performs the same double operations
// in the same order, 4 columns at a time; floating-point contraction is off in both, so that a
// build with FMA enabled cannot fuse one of them differently.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/cpu_features.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/kernels/requantize_avx2.hpp"
#include "anybit/quant/affine.hpp"

namespace anybit::detail {

#if defined(__GNUC__) && !defined(__clang__)
#define ANYBIT_DETAIL_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define ANYBIT_DETAIL_NO_CONTRACT
#endif

/// The code of y for the next layer: training's quantize_code (quant/affine.hpp) of (float) y,
/// i.e. clamp(round_half_even(fma(y, 1 / scale, zero_point)), 0, 2^bits - 1) in float, so a
/// layer's codes are exactly what fake quantization makes of its real output.
inline std::uint8_t quantize_to_code(double y, const code_output& q) {
  return quantize_code(static_cast<float>(y), quantization_inverse_scale(q.scale), q.zero_point,
                       static_cast<float>(max_code(q.bits)));
}

class dequantizer {
 public:
  /// row_sums: M activation code sums, needed only when a weight zero point is nonzero (else null).
  /// Per-column terms are folded once per call, so a tile row costs a multiply-add per output.
  /// With `vectorized` (and AVX2 with FMA in this build), whole rows go through the AVX2 stage,
  /// which gives the same bits as the scalar one; the arrays are padded for its 8-wide steps.
  dequantizer(const activation_quant& a, const weight_quant& w, const output_stage& out, const packed_weights_view& wv,
              const std::int64_t* row_sums, bool vectorized = false)
      : scale_(round_up(wv.cols(), 8), 1.0), offset_(scale_.size(), 0.0), zero_(scale_.size(), 0.0),
        bias_(scale_.size(), 0.0), min_(out.min), max_(out.max), row_sums_(row_sums),
        vectorized_(vectorized && vector_stage_usable(wv)) {
    const double za = a.zero_point, k = static_cast<double>(wv.k());
    for (std::size_t n = 0; n < wv.cols(); ++n) {
      zero_[n] = w.zero_point[w.zero_point.size() > 1 ? n : 0];
      scale_[n] = static_cast<double>(a.scale) * static_cast<double>(w.scale[w.scale.size() > 1 ? n : 0]);
      offset_[n] = -za * static_cast<double>(wv.column_sum(n)) + k * za * zero_[n];
      if (!out.bias.empty()) bias_[n] = out.bias[n];
    }
  }

  static bool needs_row_sums(const weight_quant& w) {
    return std::any_of(w.zero_point.begin(), w.zero_point.end(), [](float z) { return z != 0.0f; });
  }

  /// out[x] = the output of row m, column n0 + x, from its exact sum raw[x], for x < cols.
  ANYBIT_DETAIL_NO_CONTRACT void row(const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols,
                                     double* out) const {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    const double rs = row_sum(m);
    for (std::size_t x = 0; x < cols; ++x) {
      const std::size_t n = n0 + x;
      const double y = (static_cast<double>(raw[x]) + offset_[n] - zero_[n] * rs) * scale_[n] + bias_[n];
      out[x] = std::min(std::max(y, min_), max_);
    }
  }

  /// As row(), written as float to out[x].
  void float_row(const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols, float* out) const {
#if ANYBIT_X86_KERNELS
    if (vectorized_) return kernels::avx2::stage_row_float(raw, cols, columns(m, n0), out);
#endif
    double y[chunk];
    for (std::size_t x0 = 0; x0 < cols; x0 += chunk) {
      const std::size_t width = std::min(chunk, cols - x0);
      row(raw + x0, m, n0 + x0, width, y);
      for (std::size_t x = 0; x < width; ++x) out[x0 + x] = static_cast<float>(y[x]);
    }
  }

  /// As row(), written as codes of q to out[x].
  void code_row(const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols, const code_output& q,
                std::uint8_t* out) const {
#if ANYBIT_X86_KERNELS
    if (vectorized_) {
      return kernels::avx2::stage_row_codes(raw, cols, columns(m, n0), quantization_inverse_scale(q.scale), q.zero_point,
                                            static_cast<float>(max_code(q.bits)), out);
    }
#endif
    double y[chunk];
    for (std::size_t x0 = 0; x0 < cols; x0 += chunk) {
      const std::size_t width = std::min(chunk, cols - x0);
      row(raw + x0, m, n0 + x0, width, y);
      for (std::size_t x = 0; x < width; ++x) out[x0 + x] = quantize_to_code(y[x], q);
    }
  }

  bool vectorized() const noexcept { return vectorized_; }

 private:
  static constexpr std::size_t chunk = 32;

  double row_sum(std::size_t m) const { return row_sums_ != nullptr ? static_cast<double>(row_sums_[m]) : 0.0; }

  // The vector stage needs AVX2 and FMA, and converts sums exactly below 2^51:
  // |sum| <= K * (2^A - 1) * (2^W - 1) < K * 2^16.
  static bool vector_stage_usable(const packed_weights_view& wv) {
#if ANYBIT_X86_KERNELS
    return cpu().avx2 && cpu().fma && static_cast<double>(wv.k()) * 65536.0 < kernels::avx2::exact_int64_limit;
#else
    (void)wv;
    return false;
#endif
  }

#if ANYBIT_X86_KERNELS
  kernels::avx2::stage_columns columns(std::size_t m, std::size_t n0) const {
    return {offset_.data() + n0, zero_.data() + n0, scale_.data() + n0, bias_.data() + n0, row_sum(m), min_, max_};
  }
#endif

  std::vector<double> scale_, offset_, zero_, bias_;
  double min_, max_;
  const std::int64_t* row_sums_;
  bool vectorized_;
};

#undef ANYBIT_DETAIL_NO_CONTRACT

}  // namespace anybit::detail
