// anybit/quant/pact.hpp — PACT, parameterized clipping activation (Choi et al., 2018).
//
// For activations, per tensor. Parameter: alpha[1], the learned clip.
// Grid: {alpha / (2^b - 1), 0, bits} (unsigned codes), so x_hat = decode(encode(x)) is
// round(clip(x, 0, alpha) * (2^b - 1) / alpha) * alpha / (2^b - 1).
// Backward (the paper's straight-through form):
//     dx      = dy        for 0 <= x < alpha, else 0
//     dalpha += sum dy    over x >= alpha
// (the paper drops the inside term d x_hat / d alpha = c / (2^b - 1) - x / alpha; so do we).
// Init: alpha = init_alpha (the paper starts at 10), or, when init_percentile > 0, that
// percentile of the data (nearest rank); a percentile that is not > 0 (all-negative or all-zero
// data) falls back to init_alpha (our choice).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/policy_support.hpp"

namespace anybit {

struct pact_quantizer {
  int bits = 4;
  float init_alpha = 10.0f;
  float init_percentile = 0.0f;  // in (0, 100]: initialise alpha from the data; 0: use init_alpha

  std::array<parameter_array, 1> parameter_arrays() const { return {{{"alpha", 1, true}}}; }
  std::size_t parameter_count() const { return 1; }

  void initialize(const float* x, std::size_t n, float* alpha) const {
    check_bits(bits, "PACT bits");
    detail::check_step(init_alpha, "PACT", "init_alpha", 0);
    if (!(init_percentile >= 0.0f && init_percentile <= 100.0f)) {
      throw error(detail::message("anybit: PACT init_percentile = ", init_percentile, ", expected a value in [0, 100]"));
    }
    alpha[0] = init_alpha;
    if (init_percentile == 0.0f) return;
    detail::check_init_data(x, n, 1, "PACT");
    std::vector<float> sorted(x, x + n);
    const double rank = std::ceil(static_cast<double>(init_percentile) * static_cast<double>(n) / 100.0);
    const std::size_t index = rank < 1.0 ? 0 : static_cast<std::size_t>(rank) - 1;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index), sorted.end());
    if (sorted[index] > 0.0f) alpha[0] = sorted[index];
  }

  affine_grid grid(const float* alpha, std::size_t channel = 0) const {
    check_bits(bits, "PACT bits");
    detail::check_channel_index(channel, 1, "PACT");
    detail::check_step(alpha[0], "PACT", "alpha", 0);
    const affine_grid g{alpha[0] / static_cast<float>(max_code(bits)), 0.0f, bits};
    detail::check_step(g.scale, "PACT", "scale (alpha / (2^b - 1))", 0);
    return g;
  }

  /// y = decode(encode(x)); y may be x.
  void forward(const float* x, std::size_t n, const float* alpha, float* y) const {
    const affine_grid g = grid(alpha);
    for (std::size_t i = 0; i < n; ++i) y[i] = g.decode(g.encode(x[i]));
  }

  /// Overwrites dx (dx may be dy); adds into dalpha.
  void backward(const float* x, const float* dy, std::size_t n, const float* alpha, float* dx, float* dalpha) const {
    static_cast<void>(grid(alpha));  // validates bits and alpha
    const float a = alpha[0];
    double clipped = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float d = dy[i];
      if (x[i] >= a) clipped += d;
      dx[i] = (x[i] >= 0.0f && x[i] < a) ? d : 0.0f;
    }
    dalpha[0] += static_cast<float>(clipped);
  }
};

/// A PACT quantizer; `bits_c<B>{}` checks the width at compile time, `dynamic_bits(b)` at run time.
inline pact_quantizer make_pact(dynamic_bits bits, float init_alpha = 10.0f) {
  pact_quantizer q;
  q.bits = bits;
  q.init_alpha = init_alpha;
  return q;
}

}  // namespace anybit
