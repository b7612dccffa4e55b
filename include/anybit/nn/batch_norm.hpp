// anybit/nn/batch_norm.hpp — batch normalisation layers over N x C (1-D) and N x C x H x W (2-D).
//
// In training mode a layer normalises with the batch's statistics and moves its running mean
// and variance (momentum 0.1, unbiased variance, as PyTorch); in evaluation mode it normalises
// with the running ones, so a trained model's prediction for a sample does not depend on the
// rest of its batch. The running statistics are buffers: saved with the parameters, not trained.
#pragma once

#include <cstddef>
#include <string>

#include "anybit/autograd/ops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

struct batch_norm_options {
  float momentum = 0.1f;  // running = (1 - momentum) * running + momentum * batch
  float eps = 1e-5f;      // added to the variance
};

namespace internal {

/// gamma = 1, beta = 0, running mean 0, running variance 1 (the identity before training).
class batch_norm_base : public module {
 public:
  batch_norm_base(std::size_t channels, const batch_norm_options& options, int input_rank)
      : channels_(channels), options_(options), rank_(input_rank) {
    if (channels == 0) throw shape_error("anybit: batch norm over 0 channels, expected at least 1");
    if (!(options.momentum >= 0.0f && options.momentum <= 1.0f) || !(options.eps > 0.0f)) {
      throw error(detail::message("anybit: batch norm momentum ", options.momentum, " and eps ", options.eps,
                                  ", expected momentum in [0, 1] and eps > 0"));
    }
    const dense_shape per_channel{channels};
    gamma_ = parameter(dense_tensor(per_channel));
    gamma_.value.fill(1.0f);
    beta_ = parameter(dense_tensor(per_channel));
    running_mean_ = dense_tensor(per_channel);
    running_var_ = dense_tensor(per_channel);
    running_var_.fill(1.0f);
    register_parameter("weight", gamma_);
    register_parameter("bias", beta_);
    register_buffer("running_mean", running_mean_);
    register_buffer("running_var", running_var_);
  }

  var forward(tape& t, var x) override {
    const dense_shape& s = t.shape(x);
    if (s.rank() != rank_ || s[1] != channels_) {
      throw shape_error(detail::message("anybit: ", describe(), " got input of shape ", s, ", expected N x ",
                                        channels_, rank_ == 2 ? "" : " x H x W"));
    }
    const batch_norm_settings settings{training(), options_.momentum, options_.eps};
    return anybit::batch_norm(x, t.param(gamma_), t.param(beta_), running_mean_, running_var_, settings);
  }

  std::string describe() const override {
    return detail::message(rank_ == 2 ? "batch_norm1d(" : "batch_norm2d(", channels_, ")");
  }

  parameter& weight() noexcept { return gamma_; }
  parameter& bias() noexcept { return beta_; }
  dense_tensor& running_mean() noexcept { return running_mean_; }
  dense_tensor& running_var() noexcept { return running_var_; }
  const batch_norm_options& options() const noexcept { return options_; }

 private:
  std::size_t channels_;
  batch_norm_options options_;
  int rank_;
  parameter gamma_, beta_;
  dense_tensor running_mean_, running_var_;
};

}  // namespace internal

/// Per-feature normalisation of N x C input (after a linear layer).
class batch_norm1d : public internal::batch_norm_base {
 public:
  explicit batch_norm1d(std::size_t features, const batch_norm_options& options = {})
      : batch_norm_base(features, options, 2) {}
};

/// Per-channel normalisation of N x C x H x W input (after a convolution).
class batch_norm2d : public internal::batch_norm_base {
 public:
  explicit batch_norm2d(std::size_t channels, const batch_norm_options& options = {})
      : batch_norm_base(channels, options, 4) {}
};

}  // namespace anybit::nn
