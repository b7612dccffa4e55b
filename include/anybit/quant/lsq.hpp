// anybit/quant/lsq.hpp — LSQ, learned step size quantization (Esser et al., ICLR 2020).
//
// Parameters: step[channels] (one learned step s per channel; channels == 1 is per-tensor).
// Grid: {s, zp, bits} with zp = range_zero_point(range, bits); Q_N = zp, Q_P = 2^b - 1 - zp
// (unsigned: 0 / 2^b - 1; signed: 2^(b-1) / 2^(b-1) - 1; symmetric: (2^b - 1) / 2 both sides).
// Forward: x_hat = decode(encode(x)) = s * (c - zp).
// Backward, with v = x / s and c = encode(x):
//     dx = dy                               for x in [lowest, highest], else 0
//     ds += g * sum dy * ((c - zp) - v)     inside
//                        (c - zp)           outside: -Q_N below, Q_P above
//     g = 1 / sqrt(count * Q_P)             (the paper's gradient scale)
// `count` is the caller's: weights per channel for weights, features per sample for activations.
// Init: s = 2 * mean|x| / sqrt(Q_P) per channel (the paper's); all-zero data gets s = 1 (our
// choice: any step represents it, except symmetric ranges, which have no zero level).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/policy_support.hpp"

namespace anybit {

namespace detail {

/// Per-channel sums of one LSQ / LSQ+ backward pass (before the gradient scale).
struct lsq_channel_sums {
  double step = 0.0;    // sum dy * d x_hat / d s
  double offset = 0.0;  // sum dy * d x_hat / d beta (LSQ+)
};

/// One channel of LSQ (offset 0) or LSQ+: the grid g has zero point zp - offset / step, so
/// x_hat = step * (c - zp) + offset. Writes dx (dx may be dy).
inline lsq_channel_sums lsq_backward_channel(const float* x, const float* dy, std::size_t n, const affine_grid& g,
                                             float step, float range_zp, float offset, float* dx) {
  lsq_channel_sums sums;
  const float lo = g.lowest(), hi = g.highest();
  const double inv_step = 1.0 / static_cast<double>(step);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = dy[i];
    const double level = static_cast<double>(g.encode(x[i])) - static_cast<double>(range_zp);  // c - zp
    if (x[i] >= lo && x[i] <= hi) {
      sums.step += d * (level - (static_cast<double>(x[i]) - static_cast<double>(offset)) * inv_step);
      dx[i] = dy[i];
    } else {
      sums.step += d * level;  // clamped: -Q_N or Q_P
      sums.offset += d;
      dx[i] = 0.0f;
    }
  }
  return sums;
}

}  // namespace detail

struct lsq_quantizer {
  int bits = 4;
  code_range range = code_range::signed_codes;
  std::size_t channels = 1;
  std::size_t count = 1;  // g = 1 / sqrt(count * Q_P)

  std::array<parameter_array, 1> parameter_arrays() const { return {{{"step", channels, true}}}; }
  std::size_t parameter_count() const { return channels; }

  /// zp of the range at `bits` (validates bits and range).
  float zero_point() const { return range_zero_point(range, check_bits(bits, "LSQ bits")); }
  /// Q_P: levels above zero, 2^b - 1 - zp.
  double positive_levels() const { return static_cast<double>(max_code(bits)) - zero_point(); }
  double gradient_scale() const {
    detail::check_gradient_count(count, "LSQ");
    return detail::lsq_gradient_scale(count, positive_levels());
  }

  /// step[c] = 2 * mean|x_c| / sqrt(Q_P).
  void initialize(const float* x, std::size_t n, float* step) const {
    const std::size_t group = detail::check_init_data(x, n, channels, "LSQ");
    const double root_qp = std::sqrt(positive_levels());
    for (std::size_t c = 0; c < channels; ++c) {
      step[c] = detail::step_or(2.0 * detail::mean_abs(x + c * group, group) / root_qp, 1.0f);
    }
  }

  affine_grid grid(const float* step, std::size_t channel) const {
    const float zp = zero_point();
    detail::check_channel_index(channel, channels, "LSQ");
    detail::check_step(step[channel], "LSQ", "step", channel);
    return {step[channel], zp, bits};
  }

  /// y = decode(encode(x)); y may be x.
  void forward(const float* x, std::size_t n, const float* step, float* y) const {
    const std::size_t group = detail::channel_size(n, channels, "LSQ");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(step, c);
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) y[i] = g.decode(g.encode(x[i]));
    }
  }

  /// Overwrites dx (dx may be dy); adds into dstep.
  void backward(const float* x, const float* dy, std::size_t n, const float* step, float* dx, float* dstep) const {
    const std::size_t group = detail::channel_size(n, channels, "LSQ");
    const double gscale = gradient_scale();
    const float zp = zero_point();
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t first = c * group;
      const detail::lsq_channel_sums s =
          detail::lsq_backward_channel(x + first, dy + first, group, grid(step, c), step[c], zp, 0.0f, dx + first);
      dstep[c] += static_cast<float>(gscale * s.step);
    }
  }
};

/// An LSQ quantizer; `bits_c<B>{}` checks the width at compile time, `dynamic_bits(b)` at run time.
inline lsq_quantizer make_lsq(dynamic_bits bits, code_range range, std::size_t channels = 1, std::size_t count = 1) {
  lsq_quantizer q;
  q.bits = bits;
  q.range = range;
  q.channels = channels;
  q.count = count;
  return q;
}

}  // namespace anybit
