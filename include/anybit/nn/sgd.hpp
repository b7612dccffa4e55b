// anybit/nn/sgd.hpp — stochastic gradient descent with momentum, Nesterov and weight decay,
// defined exactly as torch.optim.SGD:
//
//     g = grad + weight_decay * p                      (L2 penalty added to the gradient)
//     b = g                                            on the first step (momentum != 0)
//     b = momentum * b + (1 - dampening) * g           afterwards
//     g = g + momentum * b  (Nesterov)   or   g = b    (classical momentum)
//     p = p - lr * g
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/nn/optimizer.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit::nn {

struct sgd_options {
  float lr = 0.01f;
  float momentum = 0.0f;
  float dampening = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;
};

class sgd : public optimizer {
 public:
  sgd(std::vector<param_group> groups, const sgd_options& options)
      : optimizer(std::move(groups), options.lr, options.weight_decay), options_(options) {
    check_hyperparameter("momentum", options.momentum);
    check_hyperparameter("dampening", options.dampening);
    if (options.nesterov && (options.momentum <= 0.0f || options.dampening != 0.0f)) {
      throw error(detail::message("anybit: Nesterov SGD with momentum ", options.momentum, " and dampening ",
                                  options.dampening, ", expected momentum > 0 and dampening 0"));
    }
    if (options.momentum != 0.0f) {
      for (const param_group& g : groups_) {
        for (const parameter* p : g.params) momentum_.emplace_back(p->value.shape());
      }
      started_.assign(momentum_.size(), false);
    }
  }
  sgd(std::vector<parameter*> params, const sgd_options& options) : sgd(one_group(std::move(params)), options) {}

  void step() override {
    const float mu = options_.momentum, keep = 1.0f - options_.dampening;
    std::size_t index = 0;
    for (const param_group& g : groups_) {
      const float lr = *g.lr, decay = *g.weight_decay;
      for (parameter* p : g.params) {
        const std::size_t slot = index++;
        if (!p->requires_grad) continue;
        float* buffer = mu != 0.0f ? momentum_[slot].data() : nullptr;
        const bool first = buffer != nullptr && !started_[slot];  // the buffer starts as the first gradient
        if (buffer != nullptr) started_[slot] = true;
        float* value = p->value.data();
        const float* grad = p->grad.data();
        for (std::size_t i = 0, n = p->value.size(); i < n; ++i) {
          float d = grad[i] + decay * value[i];
          if (buffer != nullptr) {
            buffer[i] = first ? d : mu * buffer[i] + keep * d;
            d = options_.nesterov ? d + mu * buffer[i] : buffer[i];
          }
          value[i] -= lr * d;
        }
      }
    }
    ++steps_;
  }

  const sgd_options& options() const noexcept { return options_; }

 private:
  sgd_options options_;
  std::vector<dense_tensor> momentum_;  // one per parameter, in group order
  std::vector<bool> started_;           // whether momentum_[i] holds a value yet
};

}  // namespace anybit::nn
