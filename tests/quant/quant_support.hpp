// Shared by the quantizer tests: the papers' level counts, test data and comparisons.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/grid.hpp"
#include "support/test_support.hpp"

namespace anybit::test {

constexpr code_range all_ranges[] = {code_range::unsigned_codes, code_range::signed_codes, code_range::symmetric};

/// Q_N and Q_P (levels below and above zero) as the papers tabulate them.
inline double paper_q_n(code_range r, int b) {
  if (r == code_range::unsigned_codes) return 0.0;
  if (r == code_range::signed_codes) return std::pow(2.0, b - 1);
  return (std::pow(2.0, b) - 1.0) / 2.0;
}
inline double paper_q_p(code_range r, int b) {
  if (r == code_range::unsigned_codes) return std::pow(2.0, b) - 1.0;
  if (r == code_range::signed_codes) return std::pow(2.0, b - 1) - 1.0;
  return (std::pow(2.0, b) - 1.0) / 2.0;
}

/// The level of v in step units: round(v) for integer ranges, the nearest half-integer for symmetric.
inline double nearest_level(code_range r, double v) {
  return r == code_range::symmetric ? std::floor(v) + 0.5 : std::nearbyint(v);
}

/// n values uniform in [lo, hi), seeded.
inline std::vector<float> uniform_data(std::size_t n, float lo, float hi, std::uint64_t seed) {
  xoshiro256ss rng(seed);
  std::vector<float> x(n);
  for (auto& v : x) v = lo + (hi - lo) * rng.uniform01();
  return x;
}

/// sum y_i w_i in double: a scalar loss whose gradient with respect to y is w.
inline double weighted_sum(const std::vector<float>& y, const std::vector<float>& w) {
  double sum = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += static_cast<double>(y[i]) * w[i];
  return sum;
}

inline void check_close(double got, double want, double tolerance) {
  CHECK_MESSAGE(std::fabs(got - want) <= tolerance, "got ", got, ", expected ", want, " +- ", tolerance);
}

}  // namespace anybit::test
