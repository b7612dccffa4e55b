// anybit/nn/init.hpp — Kaiming (He) initialisation from the library's seeded generator.
//
// He et al. (2015): for a layer followed by ReLU, weights with variance gain^2 / fan_in, gain =
// sqrt(2), keep the activations' variance constant through depth (PyTorch's kaiming_normal_ /
// kaiming_uniform_ with mode "fan_in" and nonlinearity "relu"). Normal samples come from
// Box-Muller on xoshiro256**, so a seed gives the same weights wherever libm's log, cos and sin
// round alike (checked: a million samples are bit-identical on x86-64 and aarch64, glibc 2.36).
#pragma once

#include <cmath>
#include <cstddef>

#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit::nn {

enum class kaiming_distribution { normal, uniform };

/// The gain of ReLU layers.
inline const double relu_gain = std::sqrt(2.0);

/// Fan-in of a weight stored output-major: every extent but the first (in for a linear layer's
/// out x in, C * KH * KW for a convolution's OC x C x KH x KW). Throws shape_error for rank < 2
/// or an empty fan-in.
inline std::size_t fan_in_of(const dense_shape& weight) {
  if (weight.rank() < 2 || weight[0] == 0 || weight.size() == 0) {
    throw shape_error(detail::message("anybit: fan-in of a weight of shape ", weight,
                                      ", expected rank 2..4 with non-zero extents"));
  }
  return weight.size() / weight[0];
}

/// Fills `values` with independent standard normal samples, two per Box-Muller pair:
/// sqrt(-2 ln u1) (cos 2 pi u2, sin 2 pi u2) with u1 in (0, 1], u2 in [0, 1).
inline void fill_standard_normal(float* values, std::size_t count, xoshiro256ss& rng) {
  constexpr double two_pi = 6.283185307179586476925286766559;
  for (std::size_t i = 0; i < count; i += 2) {
    const double u1 = 1.0 - static_cast<double>(rng.next() >> 11) * 0x1.0p-53;  // never 0: no log(0)
    const double u2 = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    values[i] = static_cast<float>(radius * std::cos(two_pi * u2));
    if (i + 1 < count) values[i + 1] = static_cast<float>(radius * std::sin(two_pi * u2));
  }
}

/// He initialisation of `weight` for fan-in `fan_in`: normal with standard deviation
/// gain / sqrt(fan_in), or uniform on +-gain * sqrt(3 / fan_in) (the same variance).
inline void kaiming_init(dense_tensor& weight, std::size_t fan_in, xoshiro256ss& rng,
                         kaiming_distribution distribution = kaiming_distribution::normal, double gain = relu_gain) {
  if (fan_in == 0) throw shape_error("anybit: Kaiming initialisation with fan-in 0, expected at least 1");
  if (!(gain > 0.0) || !std::isfinite(gain)) {
    throw error(detail::message("anybit: Kaiming gain ", gain, ", expected a positive finite number"));
  }
  const double stddev = gain / std::sqrt(static_cast<double>(fan_in));
  if (distribution == kaiming_distribution::normal) {
    fill_standard_normal(weight.data(), weight.size(), rng);
    for (float& w : weight) w = static_cast<float>(w * stddev);
    return;
  }
  const double bound = stddev * std::sqrt(3.0);
  for (float& w : weight) {
    const double u = static_cast<double>(rng.next() >> 11) * 0x1.0p-53;  // [0, 1)
    w = static_cast<float>((2.0 * u - 1.0) * bound);
  }
}

/// He initialisation with the fan-in read from the weight's shape (fan_in_of).
inline void kaiming_init(dense_tensor& weight, xoshiro256ss& rng,
                         kaiming_distribution distribution = kaiming_distribution::normal) {
  kaiming_init(weight, fan_in_of(weight.shape()), rng, distribution);
}

}  // namespace anybit::nn
