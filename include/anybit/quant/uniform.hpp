// anybit/quant/uniform.hpp — uniform affine quantization with calibrated (not learned) grids.
//
// Parameters: scale[channels], zero_point[channels] (set by calibration; no gradients).
// Calibration picks a range [lo, hi] per channel, widened to contain 0, then
//     scale = (hi - lo) / (2^b - 1),  zero_point = clamp(round(-lo / scale), 0, 2^b - 1)
// The zero point is an integer so that real 0 is exactly a code (convolution zero padding needs
// that); rounding it moves the range by at most scale / 2.
//   - min/max: [lo, hi] = [min(x, 0), max(x, 0)].
//   - MSE (our choice of search): the candidates f * [lo, hi] of the min/max range for shrink
//     factors f = k / mse_candidates, k = mse_candidates .. 1, each made into a grid as above;
//     the one with the least sum of squared fake-quant errors wins (ties: the wider range).
// Forward: decode(encode(x)). Backward: clip STE, dx = dy for x in [lowest, highest], else 0.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/policy_support.hpp"

namespace anybit {

enum class uniform_calibration { min_max, mse };

struct uniform_quantizer {
  int bits = 8;
  std::size_t channels = 1;
  uniform_calibration method = uniform_calibration::min_max;  // what initialize() runs
  int mse_candidates = 100;                                   // shrink factors tried by calibrate_mse

  std::array<parameter_array, 2> parameter_arrays() const {
    return {{{"scale", channels, false}, {"zero_point", channels, false}}};
  }
  std::size_t parameter_count() const { return 2 * channels; }

  /// The integer-zero-point grid of the range [lo, hi] (lo <= 0 <= hi).
  affine_grid grid_of_range(double lo, double hi) const {
    check_bits(bits, "uniform bits");
    const double levels = static_cast<double>(max_code(bits));
    const float scale = detail::step_or((hi - lo) / levels, 1.0f);  // all-zero data: any scale
    const double zp = std::nearbyint(-lo / static_cast<double>(scale));
    return {scale, static_cast<float>(zp < 0.0 ? 0.0 : (zp > levels ? levels : zp)), bits};
  }

  void calibrate_min_max(const float* x, std::size_t n, float* scale, float* zero_point) const {
    const std::size_t group = detail::check_init_data(x, n, channels, "uniform");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = min_max_grid(x + c * group, group);
      scale[c] = g.scale;
      zero_point[c] = g.zero_point;
    }
  }

  void calibrate_mse(const float* x, std::size_t n, float* scale, float* zero_point) const {
    const std::size_t group = detail::check_init_data(x, n, channels, "uniform");
    if (mse_candidates < 1) {
      throw error(detail::message("anybit: uniform mse_candidates = ", mse_candidates, ", expected >= 1"));
    }
    for (std::size_t c = 0; c < channels; ++c) {
      const float* xc = x + c * group;
      double lo = 0.0, hi = 0.0;
      range_with_zero(xc, group, lo, hi);
      affine_grid best = grid_of_range(lo, hi);
      double best_error = squared_error(best, xc, group);
      for (int k = mse_candidates - 1; k >= 1; --k) {
        const double f = static_cast<double>(k) / static_cast<double>(mse_candidates);
        const affine_grid candidate = grid_of_range(f * lo, f * hi);
        const double e = squared_error(candidate, xc, group);
        if (e < best_error) {
          best = candidate;
          best_error = e;
        }
      }
      scale[c] = best.scale;
      zero_point[c] = best.zero_point;
    }
  }

  /// Calibrates with `method`.
  void initialize(const float* x, std::size_t n, float* scale, float* zero_point) const {
    if (method == uniform_calibration::mse) {
      calibrate_mse(x, n, scale, zero_point);
    } else {
      calibrate_min_max(x, n, scale, zero_point);
    }
  }

  affine_grid grid(const float* scale, const float* zero_point, std::size_t channel) const {
    check_bits(bits, "uniform bits");
    detail::check_channel_index(channel, channels, "uniform");
    detail::check_step(scale[channel], "uniform", "scale", channel);
    detail::check_finite(zero_point[channel], "uniform", "zero_point", channel);
    return {scale[channel], zero_point[channel], bits};
  }

  /// y = decode(encode(x)) per channel; y may be x.
  void forward(const float* x, std::size_t n, const float* scale, const float* zero_point, float* y) const {
    const std::size_t group = detail::channel_size(n, channels, "uniform");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(scale, zero_point, c);
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) y[i] = g.decode(g.encode(x[i]));
    }
  }

  /// dx = dy inside [lowest, highest], else 0 (overwrites dx; dx may be dy). No parameter gradients.
  void backward(const float* x, const float* dy, std::size_t n, const float* scale, const float* zero_point,
                float* dx) const {
    const std::size_t group = detail::channel_size(n, channels, "uniform");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(scale, zero_point, c);
      const float lo = g.lowest(), hi = g.highest();
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
    }
  }

 private:
  static void range_with_zero(const float* x, std::size_t n, double& lo, double& hi) {
    lo = 0.0;
    hi = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      lo = x[i] < lo ? x[i] : lo;
      hi = x[i] > hi ? x[i] : hi;
    }
  }

  affine_grid min_max_grid(const float* x, std::size_t n) const {
    double lo = 0.0, hi = 0.0;
    range_with_zero(x, n, lo, hi);
    return grid_of_range(lo, hi);
  }

  static double squared_error(const affine_grid& g, const float* x, std::size_t n) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = static_cast<double>(x[i]) - static_cast<double>(g.decode(g.encode(x[i])));
      sum += e * e;
    }
    return sum;
  }
};

/// A uniform quantizer; `bits_c<B>{}` checks the width at compile time, `dynamic_bits(b)` at run time.
inline uniform_quantizer make_uniform(dynamic_bits bits, std::size_t channels = 1,
                                      uniform_calibration method = uniform_calibration::min_max) {
  uniform_quantizer q;
  q.bits = bits;
  q.channels = channels;
  q.method = method;
  return q;
}

}  // namespace anybit
