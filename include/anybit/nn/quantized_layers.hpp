// anybit/nn/quantized_layers.hpp — qlinear and qconv2d: linear and conv2d layers whose input
// activations and weights pass through quantizer policies (fake quantization) before the product.
//
// The weights stay float (the "latent" weights the optimizer updates); what the product sees is
// decode(encode(w)) and decode(encode(x)), so export can run the same codes on the integer gemm.
// Either quantizer may be absent (quant_method::none): that side stays float.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "anybit/nn/conv2d.hpp"
#include "anybit/nn/linear.hpp"
#include "anybit/nn/quantizer.hpp"

namespace anybit::nn {

/// Quantizers of one layer: its weights and its input activations.
struct layer_quantization {
  quantizer_spec weights;
  quantizer_spec inputs;
};

namespace internal {

// Builds and registers a layer's two quantizers; shared by qlinear and qconv2d.
struct layer_quantizers {
  std::unique_ptr<quantizer> weight, input;

  void build(module& owner, const layer_quantization& q, std::size_t out_channels, std::size_t weights_per_channel,
             std::size_t input_features, void (*register_child)(module&, const char*, module&)) {
    weight = make_quantizer(q.weights, quantized_tensor::weights, out_channels, weights_per_channel);
    input = make_quantizer(q.inputs, quantized_tensor::activations, 1, input_features);
    if (weight) register_child(owner, "weight_quantizer", *weight);
    if (input) register_child(owner, "input_quantizer", *input);
  }
  var input_of(tape& t, var x) { return input ? (*input)(t, x) : x; }
  var weight_of(tape& t, var w) { return weight ? (*weight)(t, w) : w; }
  std::string describe(const std::string& layer) const {
    return detail::message(layer, ", weights ", weight ? weight->describe() : "float", ", inputs ",
                           input ? input->describe() : "float");
  }
};

}  // namespace internal

class qlinear : public linear {
 public:
  qlinear(std::size_t in_features, std::size_t out_features, const layer_quantization& q, xoshiro256ss& rng,
          bool bias = true)
      : linear(in_features, out_features, rng, bias) {
    quantizers_.build(*this, q, out_features, in_features, in_features, &qlinear::add_child);
  }

  std::string describe() const override { return quantizers_.describe("q" + linear::describe()); }

  /// Null when that side is float.
  quantizer* weight_quantizer() noexcept { return quantizers_.weight.get(); }
  quantizer* input_quantizer() noexcept { return quantizers_.input.get(); }

 protected:
  var layer_input(tape& t, var x) override { return quantizers_.input_of(t, x); }
  var layer_weight(tape& t) override { return quantizers_.weight_of(t, linear::layer_weight(t)); }

 private:
  static void add_child(module& owner, const char* name, module& child) {
    static_cast<qlinear&>(owner).register_module(name, child);
  }
  internal::layer_quantizers quantizers_;
};

class qconv2d : public conv2d {
 public:
  /// `input_features` is C * H * W of one input sample: LSQ's gradient scale for activations.
  qconv2d(std::size_t in_channels, std::size_t out_channels, const conv2d_options& options,
          const layer_quantization& q, std::size_t input_features, xoshiro256ss& rng)
      : conv2d(in_channels, out_channels, options, rng) {
    quantizers_.build(*this, q, out_channels, in_channels * options.kernel * options.kernel, input_features,
                      &qconv2d::add_child);
  }

  std::string describe() const override { return quantizers_.describe("q" + conv2d::describe()); }

  quantizer* weight_quantizer() noexcept { return quantizers_.weight.get(); }
  quantizer* input_quantizer() noexcept { return quantizers_.input.get(); }

 protected:
  var layer_input(tape& t, var x) override { return quantizers_.input_of(t, x); }
  var layer_weight(tape& t) override { return quantizers_.weight_of(t, conv2d::layer_weight(t)); }

 private:
  static void add_child(module& owner, const char* name, module& child) {
    static_cast<qconv2d&>(owner).register_module(name, child);
  }
  internal::layer_quantizers quantizers_;
};

}  // namespace anybit::nn
