// anybit/quant/policy_support.hpp — what every quantizer policy shares: how a tensor splits into
// channels, how a policy describes its parameter arrays, and the argument checks (one wording).
//
// Layout: a tensor of n elements is `channels` equal contiguous groups (weights OIHW or out x in
// row-major: group c is output channel c); channels == 1 is per-tensor.
#pragma once

#include <cmath>
#include <cstddef>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"

namespace anybit {

/// One parameter array of a policy, in the order its functions take them.
struct parameter_array {
  const char* name;   // "step", "offset", "alpha", ...
  std::size_t size;   // number of floats
  bool learned;       // false: set by calibration, gets no gradient
};

namespace detail {

/// Elements per channel; throws shape_error unless channels >= 1 divides n.
inline std::size_t channel_size(std::size_t n, std::size_t channels, const char* policy) {
  if (channels == 0) throw shape_error(message("anybit: ", policy, " channels = 0, expected at least 1"));
  if (n % channels != 0) {
    throw shape_error(message("anybit: ", policy, " got n = ", n, " elements, expected a multiple of channels = ",
                              channels, " (equal contiguous groups)"));
  }
  return n / channels;
}

/// For initialisation from data: at least one element per channel, all finite.
inline std::size_t check_init_data(const float* x, std::size_t n, std::size_t channels, const char* policy) {
  const std::size_t group = channel_size(n, channels, policy);
  if (group == 0) {
    throw shape_error(message("anybit: ", policy, " initialisation got n = ", n,
                              " elements, expected at least one per channel"));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      throw error(message("anybit: ", policy, " initialisation data x[", i, "] = ", x[i], ", expected finite values"));
    }
  }
  return group;
}

inline void check_channel_index(std::size_t channel, std::size_t channels, const char* policy) {
  if (channel >= channels) {
    throw shape_error(message("anybit: ", policy, " channel ", channel, ", expected < channels = ", channels));
  }
}

/// A step, scale or clip value: finite and > 0.
inline void check_step(float s, const char* policy, const char* name, std::size_t index) {
  if (!(std::isfinite(s) && s > 0.0f)) {
    throw error(message("anybit: ", policy, " ", name, "[", index, "] = ", s, ", expected a finite value > 0"));
  }
}

inline void check_finite(float v, const char* policy, const char* name, std::size_t index) {
  if (!std::isfinite(v)) {
    throw error(message("anybit: ", policy, " ", name, "[", index, "] = ", v, ", expected a finite value"));
  }
}

/// The element count of LSQ's gradient scale g = 1 / sqrt(count * Q_P).
inline void check_gradient_count(std::size_t count, const char* policy) {
  if (count == 0) {
    throw error(message("anybit: ", policy, " gradient count = 0, expected >= 1 (weights per channel or "
                        "features per sample)"));
  }
}

/// LSQ's gradient scale (Esser et al. 2020): keeps the step's update in proportion to its value.
inline double lsq_gradient_scale(std::size_t count, double positive_levels) {
  return 1.0 / std::sqrt(static_cast<double>(count) * positive_levels);
}

inline double mean_abs(const float* x, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(x[i]));
  return sum / static_cast<double>(n);
}

/// `value` if it is a usable step (finite, > 0), else `fallback`: constant or all-zero data
/// gives no scale of its own, and any positive step represents it.
inline float step_or(double value, float fallback) {
  const float s = static_cast<float>(value);
  return std::isfinite(s) && s > 0.0f ? s : fallback;
}

}  // namespace detail
}  // namespace anybit
