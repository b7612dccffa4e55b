// anybit/autograd/parameter.hpp — a trainable tensor and its gradient, owned outside the tape.
//
// Modules own parameters; a tape only borrows them for one step: `tape.param(p)` records a leaf
// that reads p.value in place and whose backward adds into p.grad. Gradients accumulate across
// backward calls until zero_grad(), so several micro-batches can be summed before a step.
#pragma once

#include <utility>

#include "anybit/tensor/dense_tensor.hpp"

namespace anybit {

struct parameter {
  dense_tensor value;
  dense_tensor grad;          // same shape as value
  bool requires_grad = true;  // false freezes it: the tape treats it as a constant

  parameter() = default;
  explicit parameter(dense_tensor initial) : value(std::move(initial)), grad(value.shape()) {}

  void zero_grad() noexcept { grad.fill(0.0f); }
};

}  // namespace anybit
