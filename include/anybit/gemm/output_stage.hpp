// anybit/gemm/output_stage.hpp — from exact integer sums to what the next layer wants.
//
// With real = scale * (q - zero_point) on both operands, each output is
//
//   y[m][n] = ( sum_k qa qw  +  offset[n]  -  zw[n] * rowsum_a[m] ) * sa * sw[n]  +  bias[n],
//   offset[n] = -za * colsum_w[n] + K za zw[n],   then clamped to [min, max],
//
// computed in double from the exact int64 sum, so every path that produces the same sums
// produces bit-identical outputs. Codes out round half to even (std::nearbyint, default mode).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"

namespace anybit::detail {

class dequantizer {
 public:
  /// row_sums: M activation code sums, needed only when a weight zero point is nonzero (else null).
  /// Per-column terms are folded once per call, so a tile row costs a multiply-add per output.
  dequantizer(const activation_quant& a, const weight_quant& w, const output_stage& out, const packed_weights_view& wv,
              const std::int64_t* row_sums)
      : scale_(wv.cols()), offset_(wv.cols()), zero_(wv.cols()), bias_(wv.cols(), 0.0), min_(out.min), max_(out.max),
        row_sums_(row_sums) {
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
  void row(const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols, double* out) const {
    const double rs = row_sums_ != nullptr ? static_cast<double>(row_sums_[m]) : 0.0;
    for (std::size_t x = 0; x < cols; ++x) {
      const std::size_t n = n0 + x;
      const double y = (static_cast<double>(raw[x]) + offset_[n] - zero_[n] * rs) * scale_[n] + bias_[n];
      out[x] = std::min(std::max(y, min_), max_);
    }
  }

 private:
  std::vector<double> scale_, offset_, zero_, bias_;
  double min_, max_;
  const std::int64_t* row_sums_;
};

/// The code of y: clamp(round_half_even(y / scale + zero_point), 0, 2^bits - 1).
inline std::uint8_t quantize_to_code(double y, const code_output& q) {
  const double code = std::nearbyint(y / static_cast<double>(q.scale) + static_cast<double>(q.zero_point));
  return static_cast<std::uint8_t>(std::clamp(code, 0.0, static_cast<double>(max_code(q.bits))));
}

}  // namespace anybit::detail
