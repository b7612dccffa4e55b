// anybit/quant/lsq_plus.hpp — LSQ+, learned step and offset (Bhalgat et al., CVPR-W 2020).
//
// Parameters: step[channels] (s) and offset[channels] (beta). LSQ on (x - beta):
//     x_hat = s * (c - zp) + beta,  c = clamp(round((x - beta) / s + zp), 0, 2^b - 1)
// which is the affine grid {s, zp - beta / s, bits} (fractional zero point; the integer GEMM
// applies it exactly). zp, Q_N, Q_P and g = 1 / sqrt(count * Q_P) are LSQ's (quant/lsq.hpp).
// Backward, with u = (x - beta) / s:
//     dx    = dy                               for x in [lowest, highest], else 0
//     ds    += g * sum dy * ((c - zp) - u)     inside;  (c - zp) = -Q_N / Q_P outside
//     dbeta += g * sum dy * (outside ? 1 : 0)
// Init (the paper's): unsigned codes (activations): s = (max - min) / (2^b - 1), beta = min;
// signed or symmetric (weights): s = max(|mu - 3 sigma|, |mu + 3 sigma|) / 2^(b-1), beta = 0.
// Constant data gets s = 1 (our choice; with beta = min the constant is a level).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/lsq.hpp"
#include "anybit/quant/policy_support.hpp"

namespace anybit {

struct lsq_plus_quantizer {
  int bits = 4;
  code_range range = code_range::unsigned_codes;
  std::size_t channels = 1;
  std::size_t count = 1;  // g = 1 / sqrt(count * Q_P)

  std::array<parameter_array, 2> parameter_arrays() const {
    return {{{"step", channels, true}, {"offset", channels, true}}};
  }
  std::size_t parameter_count() const { return 2 * channels; }

  /// zp of the range at `bits` (validates bits and range).
  float zero_point() const { return range_zero_point(range, check_bits(bits, "LSQ+ bits")); }
  /// Q_P: levels above the offset, 2^b - 1 - zp.
  double positive_levels() const { return static_cast<double>(max_code(bits)) - zero_point(); }
  double gradient_scale() const {
    detail::check_gradient_count(count, "LSQ+");
    return detail::lsq_gradient_scale(count, positive_levels());
  }

  void initialize(const float* x, std::size_t n, float* step, float* offset) const {
    const std::size_t group = detail::check_init_data(x, n, channels, "LSQ+");
    static_cast<void>(zero_point());  // validates bits and range
    for (std::size_t c = 0; c < channels; ++c) {
      const float* xc = x + c * group;
      if (range == code_range::unsigned_codes) {
        double lo = xc[0], hi = xc[0];
        for (std::size_t i = 1; i < group; ++i) {
          lo = xc[i] < lo ? xc[i] : lo;
          hi = xc[i] > hi ? xc[i] : hi;
        }
        step[c] = detail::step_or((hi - lo) / static_cast<double>(max_code(bits)), 1.0f);
        offset[c] = static_cast<float>(lo);
      } else {
        double mean = 0.0, var = 0.0;
        for (std::size_t i = 0; i < group; ++i) mean += xc[i];
        mean /= static_cast<double>(group);
        for (std::size_t i = 0; i < group; ++i) var += (xc[i] - mean) * (xc[i] - mean);
        const double sigma = std::sqrt(var / static_cast<double>(group));
        const double reach = std::fmax(std::fabs(mean - 3.0 * sigma), std::fabs(mean + 3.0 * sigma));
        step[c] = detail::step_or(reach / static_cast<double>(1u << (bits - 1)), 1.0f);
        offset[c] = 0.0f;
      }
    }
  }

  affine_grid grid(const float* step, const float* offset, std::size_t channel) const {
    const float zp = zero_point();
    detail::check_channel_index(channel, channels, "LSQ+");
    detail::check_step(step[channel], "LSQ+", "step", channel);
    detail::check_finite(offset[channel], "LSQ+", "offset", channel);
    const affine_grid g{step[channel], zp - offset[channel] / step[channel], bits};
    detail::check_finite(g.zero_point, "LSQ+", "grid zero point (zp - offset / step)", channel);
    return g;
  }

  /// y = decode(encode(x)); y may be x.
  void forward(const float* x, std::size_t n, const float* step, const float* offset, float* y) const {
    const std::size_t group = detail::channel_size(n, channels, "LSQ+");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(step, offset, c);
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) y[i] = g.decode(g.encode(x[i]));
    }
  }

  /// Overwrites dx (dx may be dy); adds into dstep and doffset.
  void backward(const float* x, const float* dy, std::size_t n, const float* step, const float* offset, float* dx,
                float* dstep, float* doffset) const {
    const std::size_t group = detail::channel_size(n, channels, "LSQ+");
    const double gscale = gradient_scale();
    const float zp = zero_point();
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t first = c * group;
      const detail::lsq_channel_sums s = detail::lsq_backward_channel(
          x + first, dy + first, group, grid(step, offset, c), step[c], zp, offset[c], dx + first);
      dstep[c] += static_cast<float>(gscale * s.step);
      doffset[c] += static_cast<float>(gscale * s.offset);
    }
  }
};

/// An LSQ+ quantizer; `bits_c<B>{}` checks the width at compile time, `dynamic_bits(b)` at run time.
inline lsq_plus_quantizer make_lsq_plus(dynamic_bits bits, code_range range = code_range::unsigned_codes,
                                        std::size_t channels = 1, std::size_t count = 1) {
  lsq_plus_quantizer q;
  q.bits = bits;
  q.range = range;
  q.channels = channels;
  q.count = count;
  return q;
}

}  // namespace anybit
