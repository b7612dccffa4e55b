// anybit/deploy/export.hpp — a trained quantized nn model -> an integer_model.
//
// The model is a sequential chain of qconv2d / qlinear layers, each optionally followed by batch
// norm and ReLU, with max pooling and flatten between them. Every weight layer needs a weight
// quantizer and an input quantizer (initialised, i.e. trained or loaded). Each becomes:
// - weight codes = its weight quantizer's encode, with that quantizer's per-channel grids;
// - an output stage with batch norm folded (eval statistics), the layer bias, ReLU, and codes in
//   the grid of the next layer's input quantizer (the last layer: float logits);
// - max pooling on codes (quantizers are monotone, so pooling before or after them is the same).
// The first layer's input quantizer becomes the model input's grid, after the data's
// normalisation. So the integer model computes what the model's eval-mode fake-quant forward
// computes, up to float rounding in the output stage.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/deploy/integer_model.hpp"
#include "anybit/deploy/integer_model_builder.hpp"
#include "anybit/deploy/layer_spec.hpp"
#include "anybit/nn/activation.hpp"
#include "anybit/nn/batch_norm.hpp"
#include "anybit/nn/pooling.hpp"
#include "anybit/nn/quantized_layers.hpp"
#include "anybit/nn/sequential.hpp"

namespace anybit::deploy {

/// What the model's input is: one sample's shape and the normalisation the trainer applied to
/// raw features (empty vectors: none).
struct export_input {
  tensor_shape shape;
  std::vector<float> mean, stddev;
};

namespace export_detail {

inline activation_grid grid_of(const affine_grid& g) { return {g.scale, g.zero_point, g.bits}; }

// A weight layer's input grid: its input quantizer's, which must be there and initialised.
inline activation_grid input_grid(nn::quantizer* q, const std::string& layer) {
  if (q == nullptr || !q->initialized()) {
    throw error(detail::message("anybit: export of ", layer, ": ",
                                q == nullptr ? "no input quantizer" : "input quantizer never initialised",
                                ", expected a trained quantized layer"));
  }
  return grid_of(q->grid());
}

// Weight codes and grids of a weight tensor of out_channels rows.
inline layer_weights weights_of(nn::quantizer* q, const dense_tensor& w, std::size_t out_channels,
                                const std::string& layer) {
  if (q == nullptr || !q->initialized()) {
    throw error(detail::message("anybit: export of ", layer, ": ",
                                q == nullptr ? "float weights" : "weight quantizer never initialised",
                                ", expected quantized, trained weights"));
  }
  layer_weights out;
  out.out_channels = out_channels;
  const std::size_t per_row = w.size() / out_channels;
  const std::size_t grids = q->channels();
  out.bits = q->grid(0).bits;
  out.codes.resize(w.size());
  for (std::size_t g = 0; g < grids; ++g) {
    const affine_grid grid = q->grid(g);
    out.scale.push_back(grid.scale);
    out.zero_point.push_back(grid.zero_point);
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    const affine_grid grid = q->grid(grids == 1 ? 0 : i / per_row);
    out.codes[i] = grid.encode(w[i]);
  }
  return out;
}

// A weight layer waiting for its output grid (the next weight layer's input grid).
struct pending_layer {
  bool conv = false;
  std::string name;
  layer_weights weights;
  conv2d_geometry geometry;
  std::vector<float> multiplier, bias;
  bool relu = false, normalised = false, closed = false;  // closed: pooling or flatten came after it
  std::vector<const nn::module*> after;                  // max_pool2d / flatten, in order
};

inline void emit(integer_model_builder& b, pending_layer& p, const std::optional<activation_grid>& next) {
  const output_spec out = next ? output_spec::codes(*next, p.multiplier, p.bias, p.relu)
                               : output_spec::logits(p.multiplier, p.bias);
  if (p.conv) {
    b.conv2d(p.weights, p.geometry, out);
  } else {
    b.linear(p.weights, out);
  }
  for (const nn::module* m : p.after) {
    if (const auto* pool = dynamic_cast<const nn::max_pool2d*>(m)) {
      b.max_pool2d(pool->kernel(), pool->stride());
    } else {
      b.flatten();
    }
  }
}

}  // namespace export_detail

/// The integer model of a trained quantized sequential model (see the file comment). Throws
/// error naming the layer for anything it cannot export.
inline integer_model export_model(nn::sequential& model, const export_input& input) {
  using namespace export_detail;
  integer_model_builder builder;
  std::optional<pending_layer> pending;
  const auto start = [&](nn::quantizer* in_q, const std::string& name) {
    const activation_grid grid = input_grid(in_q, name);
    if (pending) {
      emit(builder, *pending, grid);
    } else {
      builder.input(input.shape.channels, input.shape.height, input.shape.width, input.mean, input.stddev, grid);
    }
  };
  for (std::size_t i = 0; i < model.size(); ++i) {
    nn::module& m = model[i];
    const std::string name = detail::message("layer ", i, " (", m.describe(), ")");
    if (auto* conv = dynamic_cast<nn::qconv2d*>(&m)) {
      start(conv->input_quantizer(), name);
      pending_layer p;
      p.conv = true;
      p.name = name;
      p.weights = weights_of(conv->weight_quantizer(), conv->weight().value, conv->out_channels(), name);
      const nn::conv2d_options& o = conv->options();
      p.geometry = {o.kernel, o.kernel, o.stride, o.padding};
      p.multiplier.assign(conv->out_channels(), 1.0f);
      p.bias = o.bias ? std::vector<float>(conv->bias().value.begin(), conv->bias().value.end())
                      : std::vector<float>(conv->out_channels(), 0.0f);
      pending = std::move(p);
    } else if (auto* fc = dynamic_cast<nn::qlinear*>(&m)) {
      start(fc->input_quantizer(), name);
      pending_layer p;
      p.name = name;
      p.weights = weights_of(fc->weight_quantizer(), fc->weight().value, fc->out_features(), name);
      p.multiplier.assign(fc->out_features(), 1.0f);
      p.bias = fc->has_bias() ? std::vector<float>(fc->bias().value.begin(), fc->bias().value.end())
                              : std::vector<float>(fc->out_features(), 0.0f);
      pending = std::move(p);
    } else if (auto* bn = dynamic_cast<nn::internal::batch_norm_base*>(&m)) {
      if (!pending || pending->normalised || pending->relu || pending->closed) {
        throw error(detail::message("anybit: export of ", name, ": batch norm must follow a weight layer directly"));
      }
      // y = g (x - mean) / sqrt(var + eps) + beta = mult x + (beta - mult mean), over bias b:
      // mult (r + b - mean) + beta.
      for (std::size_t c = 0; c < pending->multiplier.size(); ++c) {
        const double mult = static_cast<double>(bn->weight().value[c]) /
                            std::sqrt(static_cast<double>(bn->running_var()[c]) + bn->options().eps);
        pending->bias[c] = static_cast<float>(mult * (static_cast<double>(pending->bias[c]) - bn->running_mean()[c]) +
                                              bn->bias().value[c]);
        pending->multiplier[c] = static_cast<float>(mult);
      }
      pending->normalised = true;
    } else if (dynamic_cast<nn::relu*>(&m) != nullptr) {
      if (!pending || pending->relu || pending->closed) {
        throw error(detail::message("anybit: export of ", name, ": ReLU must follow a weight layer or its batch norm"));
      }
      pending->relu = true;
    } else if (dynamic_cast<nn::max_pool2d*>(&m) != nullptr || dynamic_cast<nn::flatten*>(&m) != nullptr) {
      if (!pending) throw error(detail::message("anybit: export of ", name, ": expected a weight layer before it"));
      pending->after.push_back(&m);
      pending->closed = true;
    } else {
      throw error(detail::message("anybit: export of ", name, ": not exportable, expected qconv2d, qlinear, batch norm, "
                                  "ReLU, max_pool2d or flatten"));
    }
  }
  if (!pending) throw error("anybit: export of a model without weight layers, expected at least one qconv2d or qlinear");
  if (!pending->after.empty()) {
    throw error(detail::message("anybit: export of ", pending->name, ": pooling or flatten after the last weight layer, "
                                "expected the logits last"));
  }
  if (pending->relu) {
    throw error(detail::message("anybit: export of ", pending->name, ": ReLU on the logits is not supported"));
  }
  emit(builder, *pending, std::nullopt);
  return builder.build();
}

}  // namespace anybit::deploy
