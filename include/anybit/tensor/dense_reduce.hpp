// anybit/tensor/dense_reduce.hpp — deterministic sums that still vectorize.
//
// A plain `for (...) total += x[i]` cannot be vectorized without -ffast-math: reordering a
// float sum changes its rounding. Here the order is fixed by construction instead: 8 float
// lanes over blocks of 512 terms, each block's lanes added into a double total. The result
// depends only on n and the terms, never on the compiler or thread count, and a lane sums at
// most 64 terms in float before they reach double.
#pragma once

#include <algorithm>
#include <cstddef>

namespace anybit {

/// Sum of term(i) for i in [0, n), e.g. `lane_sum(n, [&](std::size_t i) { return x[i] * y[i]; })`.
template <class Term>
double lane_sum(std::size_t n, Term term) {
  constexpr std::size_t lanes = 8, block = 512;
  double total = 0;
  std::size_t i = 0;
  while (n - i >= lanes) {
    float acc[lanes] = {};
    const std::size_t end = i + std::min(block, (n - i) / lanes * lanes);
    for (; i < end; i += lanes) {
      for (std::size_t j = 0; j < lanes; ++j) acc[j] += term(i + j);
    }
    for (std::size_t j = 0; j < lanes; ++j) total += static_cast<double>(acc[j]);
  }
  for (; i < n; ++i) total += static_cast<double>(term(i));
  return total;
}

/// Sum of x[0..n).
inline double lane_sum(const float* x, std::size_t n) {
  return lane_sum(n, [x](std::size_t i) { return x[i]; });
}

}  // namespace anybit
