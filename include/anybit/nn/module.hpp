// anybit/nn/module.hpp — the base of every layer: owns parameters and buffers, names them, and
// switches between training and evaluation.
//
// A module registers its parameters, buffers (state that is saved but not trained, like batch
// norm's running statistics) and child modules by pointer in its constructor, as PyTorch's
// nn.Module does. Names are dotted paths from the root in registration order ("0.weight",
// "0.bias", "1.running_mean", ...), so a model's parameter list is stable from run to run: it is
// what optimizers iterate over and what parameter files are keyed by. Because members are
// registered by address, modules can be neither copied nor moved; containers hold them by
// unique_ptr.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "anybit/autograd/parameter.hpp"
#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit::nn {

/// A parameter with its dotted name in the model.
struct named_parameter {
  std::string name;
  parameter* value = nullptr;
};

/// A tensor of a model's saved state (a parameter's value or a buffer) with its dotted name.
struct named_tensor {
  std::string name;
  dense_tensor* tensor = nullptr;
};

class module {
 public:
  module() = default;
  virtual ~module() = default;
  module(const module&) = delete;
  module& operator=(const module&) = delete;

  /// Records this module's computation on `t` and returns its output.
  virtual var forward(tape& t, var x) = 0;
  var operator()(tape& t, var x) { return forward(t, x); }

  /// A one-line description, e.g. "linear(784 -> 256)".
  virtual std::string describe() const = 0;

  /// Every parameter of this module and its children, depth first in registration order.
  std::vector<named_parameter> named_parameters() {
    std::vector<named_parameter> out;
    collect_parameters("", out);
    return out;
  }
  std::vector<parameter*> parameters() {
    std::vector<parameter*> out;
    for (const named_parameter& p : named_parameters()) out.push_back(p.value);
    return out;
  }
  /// This module and every descendant, depth first in registration order: how tools find the
  /// layers of a kind (dynamic_cast) in any model.
  std::vector<module*> modules() {
    std::vector<module*> out{this};
    for (auto& child : children_) {
      const std::vector<module*> below = child.second->modules();
      out.insert(out.end(), below.begin(), below.end());
    }
    return out;
  }

  /// Everything a parameter file stores: per module, its parameters' values, then its buffers.
  std::vector<named_tensor> state() {
    std::vector<named_tensor> out;
    collect_state("", out);
    return out;
  }
  /// Number of trainable scalars.
  std::size_t parameter_count() {
    std::size_t total = 0;
    for (const named_parameter& p : named_parameters()) total += p.value->value.size();
    return total;
  }

  void zero_grad() {
    for (const named_parameter& p : named_parameters()) p.value->zero_grad();
  }

  /// Training mode (batch statistics in batch norm) or evaluation mode; applies to children.
  void train(bool training = true) {
    training_ = training;
    for (auto& child : children_) child.second->train(training);
  }
  void eval() { train(false); }
  bool training() const noexcept { return training_; }

 protected:
  void register_parameter(std::string name, parameter& p) { parameters_.emplace_back(std::move(name), &p); }
  void register_buffer(std::string name, dense_tensor& b) { buffers_.emplace_back(std::move(name), &b); }
  void register_module(std::string name, module& child) {
    child.train(training_);
    children_.emplace_back(std::move(name), &child);
  }

 private:
  void collect_parameters(const std::string& prefix, std::vector<named_parameter>& out) {
    for (auto& [name, p] : parameters_) out.push_back({prefix + name, p});
    for (auto& [name, child] : children_) child->collect_parameters(prefix + name + ".", out);
  }
  void collect_state(const std::string& prefix, std::vector<named_tensor>& out) {
    for (auto& [name, p] : parameters_) out.push_back({prefix + name, &p->value});
    for (auto& [name, b] : buffers_) out.push_back({prefix + name, b});
    for (auto& [name, child] : children_) child->collect_state(prefix + name + ".", out);
  }

  std::vector<std::pair<std::string, parameter*>> parameters_;
  std::vector<std::pair<std::string, dense_tensor*>> buffers_;
  std::vector<std::pair<std::string, module*>> children_;
  bool training_ = true;
};

namespace internal {

/// Throws shape_error naming the layer unless x has rank `rank` (the description is built only
/// then: forward passes run every step).
inline void check_input_rank(const module& layer, const dense_shape& s, int rank, const char* layout) {
  if (s.rank() != rank) {
    throw shape_error(detail::message("anybit: ", layer.describe(), " got input of shape ", s, ", expected ", layout));
  }
}

}  // namespace internal
}  // namespace anybit::nn
