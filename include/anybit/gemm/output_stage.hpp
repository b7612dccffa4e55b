// anybit/gemm/output_stage.hpp — from exact integer sums to what the next layer wants.
//
// With real = scale * (q - zero_point) on both operands, each output is
//
//   y[m][n] = sa * sw[n] * ( sum_k qa qw  -  zw[n] * rowsum_a[m]  -  za * colsum_w[n]  +  K za zw[n] )
//             + bias[n],   then clamped to [min, max],
//
// computed in double from the exact int64 sum, so every path that produces the same sums
// produces bit-identical outputs. Codes out round half to even (std::nearbyint, default mode).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "anybit/core/bits.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"

namespace anybit::detail {

class dequantizer {
 public:
  /// row_sums: M activation code sums, needed only when a weight zero point is nonzero (else null).
  dequantizer(const activation_quant& a, const weight_quant& w, const output_stage& out, const packed_weights_view& wv,
              const std::int64_t* row_sums)
      : a_scale_(a.scale), a_zero_(a.zero_point), w_scale_(w.scale.data()), w_zero_(w.zero_point.data()),
        scale_step_(w.scale.size() > 1 ? 1 : 0), zero_step_(w.zero_point.size() > 1 ? 1 : 0),
        bias_(out.bias.empty() ? nullptr : out.bias.data()), min_(out.min), max_(out.max),
        k_(static_cast<double>(wv.k())), column_sums_(wv.column_sums()), row_sums_(row_sums) {}

  static bool needs_row_sums(const weight_quant& w) {
    return std::any_of(w.zero_point.begin(), w.zero_point.end(), [](float z) { return z != 0.0f; });
  }

  double operator()(std::int64_t sum, std::size_t m, std::size_t n) const {
    const double zw = w_zero_[n * zero_step_];
    double centered = static_cast<double>(sum) - a_zero_ * static_cast<double>(column_sums_[n]) + k_ * a_zero_ * zw;
    if (row_sums_ != nullptr) centered -= zw * static_cast<double>(row_sums_[m]);
    double y = a_scale_ * static_cast<double>(w_scale_[n * scale_step_]) * centered;
    if (bias_ != nullptr) y += bias_[n];
    return std::min<double>(std::max<double>(y, min_), max_);
  }

 private:
  double a_scale_, a_zero_;
  const float* w_scale_;
  const float* w_zero_;
  std::size_t scale_step_, zero_step_;
  const float* bias_;
  float min_, max_;
  double k_;
  const std::int64_t* column_sums_;
  const std::int64_t* row_sums_;
};

/// The code of y: clamp(round_half_even(y / scale + zero_point), 0, 2^bits - 1).
inline std::uint8_t quantize_to_code(double y, const code_output& q) {
  const double code = std::nearbyint(y / static_cast<double>(q.scale) + static_cast<double>(q.zero_point));
  return static_cast<std::uint8_t>(std::clamp(code, 0.0, static_cast<double>(max_code(q.bits))));
}

}  // namespace anybit::detail
