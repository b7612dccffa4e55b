// anybit/quant/ddq.hpp — DDQ, differentiable dynamic quantization (Zhang et al., ICML 2021),
// uniform-level mode, plus its bit-width accounting (learned bits, memory budget term).
//
// Only the uniform-level mode is provided: it is the one that maps onto the integer kernels. The
// non-uniform mode (every base level learned, decoded through a level table) is not implemented.
// The formulas follow ../shared/papers/ddq-abn.md; the paper's text was not available, so the
// parts marked [ours] are our reconstruction, not the paper's equations.
//
// Parameters: alpha[channels] (lowest base level), d[channels] (base step), theta[K] (gate logits,
// one bit-width per layer). K = max_bits in 1..8.
//   - Base levels q_j = alpha + j d, j < 2^K.
//   - Gates g_k = H(theta_k) = theta_k > 0 (k = 0 is the LSB), nested [ours]:
//     g'_k = prod_{j<=k} g_j, merged count m = sum_k g'_k, bits b = K - m. The MSB gate is held
//     at 0 so that b >= 1 [ours]: theta[K-1] exists (the relaxation has K factors) but never
//     merges and gets no gradient.
//   - Grid at b bits, s = 2^m: scale = d s, zero_point = -(alpha + d (s - 1) / 2) / scale, so
//     the level of code c is the mean of its block of base levels c s .. c s + s - 1.
//   - Forward: decode(encode(x)).
// Backward, per element, with c = encode(x) and base index i = clamp(round((x - alpha) / d), 0,
// 2^K - 1) [ours: nearest base level], moved into code c's block if float rounding puts it
// outside (the two agree except at exact ties):
//   - dx = dy for x in [q_0, q_{2^K - 1}], else 0 (clip STE);
//   - dalpha += dy; dd += dy (c s + (s - 1) / 2) (the decode is linear in alpha and d; codes are
//     held fixed, i.e. d x_q / d q_j = 1 / s on x's block);
//   - gates: the relaxed x_q(g') = q^T Z U x_o (U = Kronecker product of (1 - g'_k) I + g'_k 11^T,
//     Z the row normaliser) has d x_q / d g'_k = d 2^k (1 - 2 bit_k(i)) / (1 + g'_k)^2, i.e.
//     d 2^k (1 - 2 bit_k(i)) / 4 for a merged bit (g'_k = 1) and d 2^k (1 - 2 bit_k(i)) for an
//     unmerged one; then through the nesting, dL/dg_k = sum_{j>=k} dL/dg'_j prod_{i<=j, i!=k} g_i,
//     and dL/dtheta_k = dL/dg_k (identity STE through H, as in DGConv).
// Init [ours, after the note's recipe]: weights alpha = mu - 3 sigma, d = 6 sigma / (2^K - 1) per
// channel; activations alpha = 0, d = max / (2^K - 1); constant data uses a half-range of 1;
// theta_k = init_theta < 0 (all K bits).
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

inline void check_ddq_theta(const float* theta, int max_width) {
  check_bits(max_width, "DDQ max_bits");
  for (int k = 0; k < max_width; ++k) check_finite(theta[k], "DDQ", "theta", static_cast<std::size_t>(k));
}

/// g_k as used: H(theta_k), except the MSB gate, held at 0.
inline double ddq_gate(const float* theta, int max_width, int k) {
  return k < max_width - 1 && theta[k] > 0.0f ? 1.0 : 0.0;
}

}  // namespace detail

/// m: the number of merged low bits, the leading run of theta_k > 0 from k = 0, at most K - 1.
inline int ddq_merged_count(const float* theta, int max_width = 8) {
  detail::check_ddq_theta(theta, max_width);
  int m = 0;
  while (m < max_width - 1 && theta[m] > 0.0f) ++m;
  return m;
}

/// The layer's bit-width b = K - m, in 1..K.
inline int ddq_bits(const float* theta, int max_width = 8) { return max_width - ddq_merged_count(theta, max_width); }

/// Adds into dtheta the gradient of L given dL/dg'_k (d_nested, K values), through the nesting:
/// dL/dtheta_k = sum_{j>=k} dL/dg'_j prod_{i<=j, i!=k} g_i. theta[K-1] gets nothing (held gate).
inline void ddq_chain_nested_gates(const float* theta, int max_width, const double* d_nested, float* dtheta) {
  detail::check_ddq_theta(theta, max_width);
  for (int k = 0; k < max_width - 1; ++k) {
    double sum = 0.0;
    double others = 1.0;  // prod_{i<=j, i!=k} g_i, grown with j
    for (int i = 0; i < k; ++i) others *= detail::ddq_gate(theta, max_width, i);
    for (int j = k; j < max_width; ++j) {
      if (j > k) others *= detail::ddq_gate(theta, max_width, j);
      sum += d_nested[j] * others;
    }
    dtheta[k] += static_cast<float>(sum);
  }
}

/// Average weight bit-width sum_l numel_l b_l / sum_l numel_l over `layers` layers.
inline double average_bits(const int* bits, const std::size_t* numel, std::size_t layers) {
  double weighted = 0.0, total = 0.0;
  for (std::size_t l = 0; l < layers; ++l) {
    check_bits(bits[l], "layer bits");
    weighted += static_cast<double>(numel[l]) * bits[l];
    total += static_cast<double>(numel[l]);
  }
  if (!(total > 0.0)) throw shape_error(detail::message("anybit: average_bits over ", layers, " layers with ", total,
                                                        " weights, expected at least one weight"));
  return weighted / total;
}

namespace detail {
inline void check_budget(double target, double lambda) {
  if (!(std::isfinite(target) && target > 0.0)) {
    throw error(message("anybit: budget target = ", target, " bits, expected a finite value > 0"));
  }
  if (!(std::isfinite(lambda) && lambda >= 0.0)) {
    throw error(message("anybit: budget lambda = ", lambda, ", expected a finite value >= 0"));
  }
}
}  // namespace detail

/// DDQ's memory budget term (note 1.4, on the average weight bit-width [ours]):
/// lambda * max(0, avg_bits - target).
inline double budget_penalty(double avg_bits, double target, double lambda) {
  detail::check_budget(target, lambda);
  return avg_bits > target ? lambda * (avg_bits - target) : 0.0;
}

/// d budget_penalty / d g'_k for every nested gate k of a layer of `layer_numel` weights:
/// -lambda * layer_numel / total_numel while avg_bits > target (b_l = K - sum_k g'_k), else 0.
/// Feed it to ddq_chain_nested_gates for the layer's theta.
inline double budget_penalty_gate_gradient(double avg_bits, double target, double lambda, std::size_t layer_numel,
                                           std::size_t total_numel) {
  detail::check_budget(target, lambda);
  if (total_numel == 0 || layer_numel > total_numel) {
    throw shape_error(detail::message("anybit: budget layer of ", layer_numel, " weights in a model of ", total_numel,
                                      ", expected 0 < layer <= total"));
  }
  return avg_bits > target ? -lambda * static_cast<double>(layer_numel) / static_cast<double>(total_numel) : 0.0;
}

enum class ddq_init { weights, activations };

struct ddq_quantizer {
  int max_bits = 8;  // K
  std::size_t channels = 1;
  ddq_init init = ddq_init::weights;
  float init_theta = -1e-8f;  // DGConv's start: every gate just below its threshold (no merge, K bits)

  std::array<parameter_array, 3> parameter_arrays() const {
    const auto gates = static_cast<std::size_t>(check_bits(max_bits, "DDQ max_bits"));
    return {{{"alpha", channels, true}, {"d", channels, true}, {"theta", gates, true}}};
  }
  std::size_t parameter_count() const {
    return 2 * channels + static_cast<std::size_t>(check_bits(max_bits, "DDQ max_bits"));
  }

  int bits(const float* theta) const { return ddq_bits(theta, max_bits); }

  void initialize(const float* x, std::size_t n, float* alpha, float* d, float* theta) const {
    check_bits(max_bits, "DDQ max_bits");
    if (!(std::isfinite(init_theta) && init_theta < 0.0f)) {
      throw error(detail::message("anybit: DDQ init_theta = ", init_theta, ", expected a finite value < 0 (all bits)"));
    }
    const std::size_t group = detail::check_init_data(x, n, channels, "DDQ");
    const double intervals = static_cast<double>(max_code(max_bits));
    for (std::size_t c = 0; c < channels; ++c) {
      const float* xc = x + c * group;
      if (init == ddq_init::activations) {
        double hi = 0.0;
        for (std::size_t i = 0; i < group; ++i) hi = xc[i] > hi ? xc[i] : hi;
        alpha[c] = 0.0f;
        d[c] = detail::step_or((hi > 0.0 ? hi : 1.0) / intervals, 1.0f);
      } else {
        double mean = 0.0, var = 0.0;
        for (std::size_t i = 0; i < group; ++i) mean += xc[i];
        mean /= static_cast<double>(group);
        for (std::size_t i = 0; i < group; ++i) var += (xc[i] - mean) * (xc[i] - mean);
        const double half = 3.0 * std::sqrt(var / static_cast<double>(group));
        const double h = half > 0.0 ? half : 1.0;
        alpha[c] = static_cast<float>(mean - h);
        d[c] = detail::step_or(2.0 * h / intervals, 1.0f);
      }
    }
    for (int k = 0; k < max_bits; ++k) theta[k] = init_theta;
  }

  affine_grid grid(const float* alpha, const float* d, const float* theta, std::size_t channel) const {
    const int m = ddq_merged_count(theta, max_bits);
    detail::check_channel_index(channel, channels, "DDQ");
    detail::check_finite(alpha[channel], "DDQ", "alpha", channel);
    detail::check_step(d[channel], "DDQ", "d", channel);
    const double s = static_cast<double>(1u << m);
    const double scale = static_cast<double>(d[channel]) * s;
    const affine_grid g{static_cast<float>(scale),
                        static_cast<float>(-(static_cast<double>(alpha[channel]) + d[channel] * (s - 1.0) / 2.0) / scale),
                        max_bits - m};
    detail::check_step(g.scale, "DDQ", "scale (d * 2^m)", channel);
    detail::check_finite(g.zero_point, "DDQ", "grid zero point", channel);
    return g;
  }

  /// y = decode(encode(x)); y may be x.
  void forward(const float* x, std::size_t n, const float* alpha, const float* d, const float* theta, float* y) const {
    const std::size_t group = detail::channel_size(n, channels, "DDQ");
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(alpha, d, theta, c);
      for (std::size_t i = c * group; i < (c + 1) * group; ++i) y[i] = g.decode(g.encode(x[i]));
    }
  }

  /// Overwrites dx (dx may be dy); adds into dalpha, dd and dtheta.
  void backward(const float* x, const float* dy, std::size_t n, const float* alpha, const float* d, const float* theta,
                float* dx, float* dalpha, float* dd, float* dtheta) const {
    const std::size_t group = detail::channel_size(n, channels, "DDQ");
    const int m = ddq_merged_count(theta, max_bits);
    const std::uint32_t s = 1u << m;
    const double half_block = (static_cast<double>(s) - 1.0) / 2.0;
    const std::uint32_t last_base = max_code(max_bits);
    std::array<double, 8> d_nested{};  // dL/dg'_k
    for (std::size_t c = 0; c < channels; ++c) {
      const affine_grid g = grid(alpha, d, theta, c);
      const double a = alpha[c], step = d[c];
      const double q_last = a + step * static_cast<double>(last_base);
      double sum_dy = 0.0, sum_dy_level = 0.0;
      std::array<double, 8> sum_dy_sign{};  // sum dy (1 - 2 bit_k(i))
      for (std::size_t e = c * group; e < (c + 1) * group; ++e) {
        const double dye = dy[e];
        const double xe = x[e];
        const std::uint32_t code = g.encode(x[e]);
        dx[e] = (xe >= a && xe <= q_last) ? dy[e] : 0.0f;
        sum_dy += dye;
        sum_dy_level += dye * (static_cast<double>(code * s) + half_block);
        const std::uint32_t i = base_index_in_block(xe, a, step, last_base, code, m);
        for (int k = 0; k < max_bits; ++k) sum_dy_sign[static_cast<std::size_t>(k)] += ((i >> k) & 1u) ? -dye : dye;
      }
      dalpha[c] += static_cast<float>(sum_dy);
      dd[c] += static_cast<float>(sum_dy_level);
      for (int k = 0; k < max_bits; ++k) {
        const double merged = k < m ? 0.25 : 1.0;  // 1 / (1 + g'_k)^2
        d_nested[static_cast<std::size_t>(k)] +=
            step * static_cast<double>(1u << k) * merged * sum_dy_sign[static_cast<std::size_t>(k)];
      }
    }
    ddq_chain_nested_gates(theta, max_bits, d_nested.data(), dtheta);
  }

 private:
  /// clamp(round((x - alpha) / d), 0, 2^K - 1), moved into code's block [code s, code s + s - 1].
  static std::uint32_t base_index_in_block(double x, double alpha, double d, std::uint32_t last, std::uint32_t code,
                                           int m) {
    const double r = std::nearbyint((x - alpha) / d);
    std::uint32_t i = r > 0.0 ? (r < static_cast<double>(last) ? static_cast<std::uint32_t>(r) : last) : 0u;
    if ((i >> m) != code) i = (i >> m) < code ? code << m : (code << m) + (1u << m) - 1u;
    return i;
  }
};

/// A DDQ quantizer of max bits K; `bits_c<K>{}` checks K at compile time, `dynamic_bits(K)` at run time.
inline ddq_quantizer make_ddq(dynamic_bits max_width, std::size_t channels = 1, ddq_init init = ddq_init::weights) {
  ddq_quantizer q;
  q.max_bits = max_width;
  q.channels = channels;
  q.init = init;
  return q;
}

}  // namespace anybit
