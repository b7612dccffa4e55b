// anybit/nn/bit_budget.hpp — DDQ's memory budget over the bit-widths a model learns.
//
// The layers are the model's DDQ weight quantizers (in qlinear / qconv2d); the budget is their
// weight-count-weighted average bit-width. While it is above the target, add_gradient() adds
// the hinge term's gate gradient (quant/ddq.hpp: -lambda * numel_l / total per nested gate)
// into each layer's gate logits, after backward and before the optimizer step.
//
// Our choices, where the paper is silent (../shared/papers/ddq-abn.md 1.4-1.5):
// - step_gates() moves the gate logits by plain gradient descent (as DGConv trains its gates)
//   and clears their gradients, so the model's optimizer leaves them alone: Adam would move
//   every gate by about its learning rate whatever the gradient's size, making all layers lose
//   bits at one pace; under gradient descent the budget pushes each layer in proportion to its
//   weight count, and the task gradient pushes back where bits matter;
// - freeze() ends the search for the last epochs: each gate logit is set to +-1 (far from the
//   threshold at 0, so the optimizer's decaying momentum cannot flip it) and gets no gradient
//   from then on (zero_gate_gradients() in the step hook);
// - repair() makes the budget hold if the search ended above it: it merges, one bit at a time,
//   the gate that continued search would have merged next.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"
#include "anybit/nn/quantized_layers.hpp"
#include "anybit/quant/ddq.hpp"

namespace anybit::nn {

class weight_bit_budget {
 public:
  /// Every DDQ weight quantizer of `model`. Throws if there is none, or if the target or lambda
  /// is not usable.
  weight_bit_budget(module& model, double target_bits, double lambda) : target_(target_bits), lambda_(lambda) {
    (void)budget_penalty(0.0, target_bits, lambda);  // validates target and lambda
    for (module* m : model.modules()) {
      if (auto* conv = dynamic_cast<qconv2d*>(m)) add(conv->weight_quantizer(), conv->weight().value.size());
      if (auto* fc = dynamic_cast<qlinear*>(m)) add(fc->weight_quantizer(), fc->weight().value.size());
    }
    if (layers_.empty()) throw error("anybit: a weight bit budget needs at least one DDQ weight quantizer, found none");
    for (const layer& l : layers_) total_ += l.weights;
  }

  std::size_t layer_count() const noexcept { return layers_.size(); }
  double target() const noexcept { return target_; }

  /// Bits of every budgeted layer, in model order.
  std::vector<int> bits() const {
    std::vector<int> out;
    for (const layer& l : layers_) out.push_back(l.q->bits());
    return out;
  }

  /// sum_l numel_l b_l / sum_l numel_l over the budgeted layers.
  double average_bits() const {
    double weighted = 0;
    for (const layer& l : layers_) weighted += static_cast<double>(l.weights) * l.q->bits();
    return weighted / static_cast<double>(total_);
  }

  double penalty() const { return budget_penalty(average_bits(), target_, lambda_); }

  /// Adds the hinge term's gradient into the gate logits (nothing when within budget).
  void add_gradient() const {
    const double avg = average_bits();
    for (const layer& l : layers_) {
      const double per_gate = budget_penalty_gate_gradient(avg, target_, lambda_, l.weights, total_);
      if (per_gate == 0.0) continue;
      const std::vector<double> d_nested(static_cast<std::size_t>(l.max_bits), per_gate);
      ddq_chain_nested_gates(theta(l), l.max_bits, d_nested.data(), theta_grad(l));
    }
  }

  /// theta -= lr * dL/dtheta for every budgeted layer (task and budget gradients), then zeroes
  /// those gradients. Call after add_gradient(), before the optimizer step.
  void step_gates(float lr) const {
    for (const layer& l : layers_) {
      float* th = theta(l);
      float* g = theta_grad(l);
      for (int k = 0; k < l.max_bits; ++k) {
        th[k] -= lr * g[k];
        g[k] = 0.0f;
      }
    }
  }

  /// Sets every gate logit to +1 (merged) or -1 (kept) as it stands: the bits stay as they are.
  void freeze() {
    for (layer& l : layers_) {
      float* th = theta(l);
      for (int k = 0; k < l.max_bits; ++k) th[k] = th[k] > 0.0f ? 1.0f : -1.0f;
    }
  }
  void zero_gate_gradients() const {
    for (const layer& l : layers_) {
      float* g = theta_grad(l);
      for (int k = 0; k < l.max_bits; ++k) g[k] = 0.0f;
    }
  }

  /// Merges gates until the average is within the target; returns how many it merged. Each
  /// merge goes where continued search would have merged first: the budget pushes a layer's next
  /// gate at a rate proportional to its weight count, so the least -logit / weights wins. Throws
  /// if the target is below what one bit per layer allows.
  int repair() {
    int merges = 0;
    while (average_bits() > target_) {
      layer* best = nullptr;
      double best_time = 0;
      for (layer& l : layers_) {
        const int b = l.q->bits();
        if (b <= 1) continue;
        const float logit = theta(l)[l.max_bits - b];  // the next gate to merge (nested: LSB first)
        const double time = -static_cast<double>(logit) / static_cast<double>(l.weights);
        if (best == nullptr || time < best_time) best = &l, best_time = time;
      }
      if (best == nullptr) {
        throw error(detail::message("anybit: weight bit budget ", target_, " is below 1 bit per layer"));
      }
      theta(*best)[best->max_bits - best->q->bits()] = 1.0f;
      ++merges;
    }
    return merges;
  }

 private:
  struct layer {
    quantizer* q;
    std::size_t weights;
    int max_bits;
    std::size_t theta_offset;
  };

  void add(quantizer* q, std::size_t weights) {
    if (q == nullptr) return;
    const auto* ddq = dynamic_cast<const internal::policy_adapter<ddq_quantizer>*>(&q->policy());
    if (ddq == nullptr) return;
    layers_.push_back({q, weights, ddq->policy().max_bits, 2 * ddq->policy().channels});  // alpha, d, theta
  }
  float* theta(const layer& l) const { return l.q->params().value.data() + l.theta_offset; }
  float* theta_grad(const layer& l) const { return l.q->params().grad.data() + l.theta_offset; }

  double target_, lambda_;
  std::vector<layer> layers_;
  std::size_t total_ = 0;
};

}  // namespace anybit::nn
