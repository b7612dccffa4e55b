// anybit/nn/sequential.hpp — a chain of modules, each fed the previous one's output.
//
// Children are named by position ("0", "1", ...), so the parameters of the third layer are
// "2.weight" and "2.bias", as in PyTorch's nn.Sequential.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

class sequential : public module {
 public:
  /// Constructs an M from `args` at the end of the chain and returns it.
  template <class M, class... Args>
  M& add(Args&&... args) {
    auto layer = std::make_unique<M>(std::forward<Args>(args)...);
    M& ref = *layer;
    append(std::move(layer));
    return ref;
  }

  /// Appends an existing module (not null).
  module& append(std::unique_ptr<module> layer) {
    if (!layer) throw error("anybit: sequential::append got a null module, expected a layer");
    register_module(std::to_string(layers_.size()), *layer);
    layers_.push_back(std::move(layer));
    return *layers_.back();
  }

  var forward(tape& t, var x) override {
    for (auto& layer : layers_) x = layer->forward(t, x);
    return x;
  }

  std::string describe() const override {
    std::string out = "sequential(";
    for (std::size_t i = 0; i < layers_.size(); ++i) out += (i == 0 ? "" : ", ") + layers_[i]->describe();
    return out + ")";
  }

  std::size_t size() const noexcept { return layers_.size(); }
  /// Layer `i`; throws shape_error if out of range.
  module& operator[](std::size_t i) {
    if (i >= layers_.size()) {
      throw shape_error(detail::message("anybit: sequential layer ", i, ", expected below ", layers_.size()));
    }
    return *layers_[i];
  }

 private:
  std::vector<std::unique_ptr<module>> layers_;
};

}  // namespace anybit::nn
