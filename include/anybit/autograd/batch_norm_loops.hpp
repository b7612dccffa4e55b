// anybit/autograd/batch_norm_loops.hpp — batch normalisation forward and backward loops.
//
// The input is seen as N x C x S (S = H * W for NCHW, 1 for N x C); statistics are per channel
// over the M = N * S values. y = gamma * (x - mean) * invstd + beta with invstd =
// 1 / sqrt(var + eps). Sums are lane_sum()s (double totals, fixed order): a channel of a
// Fashion-MNIST batch has ~50k values.
#pragma once

#include <cmath>
#include <algorithm>
#include <cstddef>

#include "anybit/gemm/parallel.hpp"
#include "anybit/tensor/dense_reduce.hpp"

namespace anybit {

struct batch_norm_layout {
  std::size_t batch = 0, channels = 0, spatial = 1;
  std::size_t per_channel() const noexcept { return batch * spatial; }
};

// Channels are independent, so threads take whole channels: a result never depends on the
// thread count.

template <class Body>
void for_each_channel(gemm_context& ctx, const batch_norm_layout& l, const Body& body) {
  detail::parallel_ranges(ctx, l.channels, detail::items_per_task(l.per_channel()), [&](std::size_t first, std::size_t last, std::size_t) {
    for (std::size_t c = first; c < last; ++c) body(c);
  });
}

/// Training: normalise with the batch's mean and biased variance, write them (mean, invstd) for
/// backward, and move the running statistics: running = (1 - momentum) * running + momentum *
/// batch, with the unbiased variance (as PyTorch does). Needs per_channel() >= 2.
inline void batch_norm_train_forward(const float* x, const float* gamma, const float* beta, const batch_norm_layout& l,
                                     float eps, float momentum, float* running_mean, float* running_var, float* y,
                                     float* mean_out, float* invstd_out, gemm_context& ctx) {
  const std::size_t m = l.per_channel(), plane = l.channels * l.spatial;
  for_each_channel(ctx, l, [&](std::size_t c) {
    double sum = 0;
    for (std::size_t n = 0; n < l.batch; ++n) sum += lane_sum(x + n * plane + c * l.spatial, l.spatial);
    const float mean_f = static_cast<float>(sum / static_cast<double>(m));
    double squares = 0;  // second pass, centred: no cancellation when |mean| >> std
    for (std::size_t n = 0; n < l.batch; ++n) {
      const float* xs = x + n * plane + c * l.spatial;
      squares += lane_sum(l.spatial, [=](std::size_t s) { return (xs[s] - mean_f) * (xs[s] - mean_f); });
    }
    const double var = squares / static_cast<double>(m);
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    const float g = gamma[c] * invstd, b = beta[c];
    for (std::size_t n = 0; n < l.batch; ++n) {
      const float* xs = x + n * plane + c * l.spatial;
      float* ys = y + n * plane + c * l.spatial;
      for (std::size_t s = 0; s < l.spatial; ++s) ys[s] = (xs[s] - mean_f) * g + b;
    }
    const double unbiased = var * static_cast<double>(m) / static_cast<double>(m - 1);
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean_f;
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * static_cast<float>(unbiased);
    if (mean_out != nullptr) mean_out[c] = mean_f;
    if (invstd_out != nullptr) invstd_out[c] = invstd;
  });
}

/// Evaluation: normalise with the running statistics; writes the (mean, invstd) it used when
/// the outputs are non-null.
inline void batch_norm_eval_forward(const float* x, const float* gamma, const float* beta, const batch_norm_layout& l,
                                    float eps, const float* running_mean, const float* running_var, float* y,
                                    float* mean_out, float* invstd_out, gemm_context& ctx) {
  const std::size_t plane = l.channels * l.spatial;
  for_each_channel(ctx, l, [&](std::size_t c) {
    const float mean = running_mean[c];
    const float invstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
    const float g = gamma[c] * invstd, b = beta[c];
    for (std::size_t n = 0; n < l.batch; ++n) {
      const float* xs = x + n * plane + c * l.spatial;
      float* ys = y + n * plane + c * l.spatial;
      for (std::size_t s = 0; s < l.spatial; ++s) ys[s] = (xs[s] - mean) * g + b;
    }
    if (mean_out != nullptr) mean_out[c] = mean;
    if (invstd_out != nullptr) invstd_out[c] = invstd;
  });
}

/// Adds the gradients for x, gamma and beta (each nullable). With batch statistics the mean and
/// variance depend on x, which adds the two centring terms of
///     dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat));
/// with running statistics dx = gamma * invstd * dy.
inline void batch_norm_backward_add(const float* x, const float* dy, const float* gamma, const float* mean,
                                    const float* invstd, const batch_norm_layout& l, bool training, float* dx,
                                    float* dgamma, float* dbeta, gemm_context& ctx) {
  const std::size_t m = l.per_channel(), plane = l.channels * l.spatial;
  for_each_channel(ctx, l, [&](std::size_t c) {
    double sum_dy = 0, sum_dy_centred = 0;
    const float mean_c = mean[c];
    for (std::size_t n = 0; n < l.batch; ++n) {
      const float* xs = x + n * plane + c * l.spatial;
      const float* dys = dy + n * plane + c * l.spatial;
      sum_dy += lane_sum(dys, l.spatial);
      sum_dy_centred += lane_sum(l.spatial, [=](std::size_t s) { return dys[s] * (xs[s] - mean_c); });
    }
    const double sum_dy_xhat = sum_dy_centred * static_cast<double>(invstd[c]);
    if (dbeta != nullptr) dbeta[c] += static_cast<float>(sum_dy);
    if (dgamma != nullptr) dgamma[c] += static_cast<float>(sum_dy_xhat);
    if (dx == nullptr) return;
    const float g = gamma[c] * invstd[c];
    const float mean_dy = training ? static_cast<float>(sum_dy / static_cast<double>(m)) : 0.0f;
    const float mean_dy_xhat = training ? static_cast<float>(sum_dy_xhat / static_cast<double>(m)) : 0.0f;
    for (std::size_t n = 0; n < l.batch; ++n) {
      const float* xs = x + n * plane + c * l.spatial;
      const float* dys = dy + n * plane + c * l.spatial;
      float* dxs = dx + n * plane + c * l.spatial;
      for (std::size_t s = 0; s < l.spatial; ++s) {
        const float xhat = (xs[s] - mean[c]) * invstd[c];
        dxs[s] += g * (dys[s] - mean_dy - xhat * mean_dy_xhat);
      }
    }
  });
}

}  // namespace anybit
