// anybit/nn/activation.hpp — parameter-free shape and activation layers: ReLU and flatten.
#pragma once

#include <string>

#include "anybit/autograd/ops.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

/// max(x, 0), element-wise, any shape.
class relu : public module {
 public:
  var forward(tape&, var x) override { return anybit::relu(x); }
  std::string describe() const override { return "relu"; }
};

/// N x ... -> N x (product of the rest): between convolutions and a linear layer.
class flatten : public module {
 public:
  var forward(tape&, var x) override { return anybit::flatten(x); }
  std::string describe() const override { return "flatten"; }
};

}  // namespace anybit::nn
