// anybit/quant/nested.hpp — nested any-precision quantization: one 8-bit code, views at b <= 8
// bits by reading its top b bit-planes, one learned step per bit-width (ABN-style super-networks).
//
// Parameters: step[channels * 8], step[c * 8 + (b - 1)] = step_b of channel c.
// The stored code is the 8-bit LSQ code c8 = encode(x) on the grid {step_8, zp_8, 8}, zp_8 =
// range_zero_point(range, 8). The view at b bits (m = 8 - b) is
//     c_b = c8 >> m,  decoded on {step_b, zp_b, b},  zp_b = (zp_8 - (2^m - 1) / 2) / 2^m
// (floor slicing with a centred reconstruction: with step_b = 2^m step_8 the level of c_b is the
// mean of the 8-bit levels it merges; zp_b = (2^b - 1) / 2 for symmetric ranges). That is the
// integer model's weights exactly: pack the 8-bit codes once, read the top b planes, and use
// grid() per width.
// Quantizing a float straight to a view code uses encoding_grid() = {2^m step_8, zp_b, b}: its
// encode equals c8 >> m except when x sits exactly on a rounding tie (then round-half-even at 8
// bits and at b bits may pick different neighbours). Training always uses c8 >> m; an integer
// model that must agree at ties too quantizes at 8 bits and reads the top planes.
// Forward at b bits: x_hat = step_b * (c_b - zp_b).
// Backward (ours, following LSQ): dx = dy for x in the 8-bit range [decode8(0), decode8(255)],
// else 0; at b = 8, step_8 gets LSQ's gradient (quant/lsq.hpp); at b < 8 only step_b gets a
// gradient, g_b * sum dy * (c_b - zp_b) (the codes do not depend on step_b), with LSQ's
// g_b = 1 / sqrt(count * Q_P(b)), Q_P(b) = 2^b - 1 - zp_b.
// Init (ours): step_8 = 2 mean|x| / sqrt(Q_P(8)) (LSQ's), step_b = 2^(8-b) step_8, so every view
// starts as the exact floor slice of the 8-bit grid; all-zero data gets step_8 = 1.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/lsq.hpp"
#include "anybit/quant/policy_support.hpp"

namespace anybit {

struct nested_quantizer {
  static constexpr int stored_bits = 8;
  int bits = 8;  // the view in use: codes c8 >> (8 - bits)
  code_range range = code_range::signed_codes;
  std::size_t channels = 1;
  std::size_t count = 1;  // LSQ gradient scale g = 1 / sqrt(count * Q_P)

  std::array<parameter_array, 1> parameter_arrays() const {
    return {{{"step", channels * stored_bits, true}}};
  }
  std::size_t parameter_count() const { return channels * stored_bits; }

  /// zp_8 of the stored codes.
  float stored_zero_point() const { return range_zero_point(range, stored_bits); }
  /// zp_b of the view at `bits` (validates bits).
  float zero_point() const {
    const int m = stored_bits - check_bits(bits, "nested bits");
    const double block = static_cast<double>(1u << m);
    return static_cast<float>((static_cast<double>(stored_zero_point()) - (block - 1.0) / 2.0) / block);
  }
  /// Q_P(b) = 2^b - 1 - zp_b.
  double positive_levels() const { return static_cast<double>(max_code(bits)) - zero_point(); }
  double gradient_scale() const {
    detail::check_gradient_count(count, "nested");
    return detail::lsq_gradient_scale(count, positive_levels());
  }

  /// {step_8, zp_8, 8}: the grid of the stored codes.
  affine_grid stored_grid(const float* step, std::size_t channel) const {
    return {checked_step(step, channel, stored_bits), stored_zero_point(), stored_bits};
  }

  /// {step_b, zp_b, b}: what the view's codes c8 >> (8 - b) mean.
  affine_grid grid(const float* step, std::size_t channel) const {
    const float zp = zero_point();
    return {checked_step(step, channel, bits), zp, bits};
  }

  /// {2^(8-b) step_8, zp_b, b}: its encode is c8 >> (8 - b), except at exact rounding ties.
  affine_grid encoding_grid(const float* step, std::size_t channel) const {
    const float zp = zero_point();
    const float scale = checked_step(step, channel, stored_bits) * static_cast<float>(1u << (stored_bits - bits));
    detail::check_step(scale, "nested", "encoding scale (2^(8-b) step_8)", channel);
    return {scale, zp, bits};
  }

  /// step_8 = 2 mean|x| / sqrt(Q_P(8)), step_b = 2^(8-b) step_8, per channel.
  void initialize(const float* x, std::size_t n, float* step) const {
    const std::size_t group = detail::check_init_data(x, n, channels, "nested");
    const double root_qp = std::sqrt(static_cast<double>(max_code(stored_bits)) - stored_zero_point());
    for (std::size_t c = 0; c < channels; ++c) {
      const float s8 = detail::step_or(2.0 * detail::mean_abs(x + c * group, group) / root_qp, 1.0f);
      for (int b = 1; b <= stored_bits; ++b) {
        step[c * stored_bits + static_cast<std::size_t>(b - 1)] = s8 * static_cast<float>(1u << (stored_bits - b));
      }
    }
  }

  /// y = step_b * ((c8 >> (8 - b)) - zp_b); y may be x.
  void forward(const float* x, std::size_t n, const float* step, float* y) const {
    const std::size_t group = detail::channel_size(n, channels, "nested");
    const int m = stored_bits - check_bits(bits, "nested bits");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid stored = stored_grid(step, c), view = grid(step, c);
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) {
        y[i] = view.decode(static_cast<std::uint8_t>(stored.encode(x[i]) >> m));
      }
    }
  }

  /// Overwrites dx (dx may be dy); adds into dstep (step_8 at b = 8, else step_b only).
  void backward(const float* x, const float* dy, std::size_t n, const float* step, float* dx, float* dstep) const {
    const std::size_t group = detail::channel_size(n, channels, "nested");
    const int m = stored_bits - check_bits(bits, "nested bits");
    const double gscale = gradient_scale();
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t first = c * group;
      const affine_grid stored = stored_grid(step, c), view = grid(step, c);
      float& dstep_b = dstep[c * stored_bits + static_cast<std::size_t>(bits - 1)];
      if (m == 0) {
        const detail::lsq_channel_sums s = detail::lsq_backward_channel(
            x + first, dy + first, group, stored, stored.scale, stored.zero_point, 0.0f, dx + first);
        dstep_b += static_cast<float>(gscale * s.step);
        continue;
      }
      const float lo = stored.lowest(), hi = stored.highest();
      const double zp = view.zero_point;
      double sum = 0.0;
      for (std::size_t i = first; i < first + group; ++i) {
        const double d = dy[i];
        sum += d * (static_cast<double>(stored.encode(x[i]) >> m) - zp);
        dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.0f;
      }
      dstep_b += static_cast<float>(gscale * sum);
    }
  }

 private:
  float checked_step(const float* step, std::size_t channel, int width) const {
    check_bits(bits, "nested bits");
    detail::check_channel_index(channel, channels, "nested");
    const std::size_t index = channel * stored_bits + static_cast<std::size_t>(width - 1);
    detail::check_step(step[index], "nested", "step", index);
    return step[index];
  }
};

/// A nested quantizer used at view `bits`; `bits_c<B>{}` checks it at compile time.
inline nested_quantizer make_nested(dynamic_bits bits, code_range range = code_range::signed_codes,
                                    std::size_t channels = 1, std::size_t count = 1) {
  nested_quantizer q;
  q.bits = bits;
  q.range = range;
  q.channels = channels;
  q.count = count;
  return q;
}

}  // namespace anybit
