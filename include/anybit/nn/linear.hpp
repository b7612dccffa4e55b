// anybit/nn/linear.hpp — the fully connected layer y = x W^T + b.
//
// W is stored out x in (PyTorch's layout), so a row of W is one output's weights and the GEMM
// reads it without a transpose copy (float_gemm packs op(B) either way). Weights get Kaiming
// initialisation, the bias starts at zero.
#pragma once

#include <cstddef>
#include <string>

#include "anybit/autograd/ops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/nn/init.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

class linear : public module {
 public:
  /// A layer from `in_features` to `out_features` (both >= 1), weights drawn from `rng`.
  linear(std::size_t in_features, std::size_t out_features, xoshiro256ss& rng, bool bias = true,
         kaiming_distribution init = kaiming_distribution::normal)
      : in_(in_features), out_(out_features), has_bias_(bias) {
    if (in_features == 0 || out_features == 0) {
      throw shape_error(detail::message("anybit: linear layer ", in_features, " -> ", out_features,
                                        ", expected at least one input and one output feature"));
    }
    weight_ = parameter(dense_tensor(dense_shape{out_features, in_features}));
    kaiming_init(weight_.value, in_features, rng, init);
    register_parameter("weight", weight_);
    if (has_bias_) {
      bias_ = parameter(dense_tensor(dense_shape{out_features}));
      register_parameter("bias", bias_);
    }
  }

  /// x is N x in_features; returns N x out_features.
  var forward(tape& t, var x) override {
    const dense_shape& s = t.shape(x);
    if (s.rank() != 2 || s[1] != in_) {
      throw shape_error(detail::message("anybit: ", describe(), " got input of shape ", s, ", expected N x ", in_));
    }
    const var in = layer_input(t, x), w = layer_weight(t);
    return has_bias_ ? anybit::linear(in, w, t.param(bias_)) : anybit::linear(in, w);
  }

  std::string describe() const override {
    return detail::message("linear(", in_, " -> ", out_, has_bias_ ? "" : ", no bias", ")");
  }

  parameter& weight() noexcept { return weight_; }
  /// The bias; throws if the layer has none.
  parameter& bias() {
    if (!has_bias_) throw error(detail::message("anybit: ", describe(), " has no bias"));
    return bias_;
  }
  bool has_bias() const noexcept { return has_bias_; }
  std::size_t in_features() const noexcept { return in_; }
  std::size_t out_features() const noexcept { return out_; }

 protected:
  // What the product sees: a quantized layer (qlinear) fake-quantizes both.
  virtual var layer_input(tape&, var x) { return x; }
  virtual var layer_weight(tape& t) { return t.param(weight_); }

 private:
  std::size_t in_, out_;
  bool has_bias_;
  parameter weight_, bias_;
};

}  // namespace anybit::nn
