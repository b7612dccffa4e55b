// anybit/nn/models.hpp — the reference models of the trainers: a ReLU multi-layer perceptron
// and a two-block convolutional network, built from one seeded generator so a seed gives the
// same initial weights everywhere.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/nn/activation.hpp"
#include "anybit/nn/batch_norm.hpp"
#include "anybit/nn/conv2d.hpp"
#include "anybit/nn/linear.hpp"
#include "anybit/nn/pooling.hpp"
#include "anybit/nn/quantized_layers.hpp"
#include "anybit/nn/sequential.hpp"

namespace anybit::nn {

/// Quantizers of a reference model: the first layer, the last layer, and every layer between.
/// Models built with one use qlinear / qconv2d for every weight layer.
struct network_quantization {
  layer_quantization first, middle, last;

  const layer_quantization& of_layer(std::size_t index, std::size_t layers) const {
    return index == 0 ? first : index + 1 == layers ? last : middle;
  }
};


/// linear(w0 -> w1), relu, linear(w1 -> w2), relu, ..., linear(-> w_last): no activation after
/// the last layer (it feeds the loss). Fashion-MNIST: {784, 256, 128, 10}. Input N x w0.
/// With `q`, every linear is a qlinear quantized as q says.
inline std::unique_ptr<sequential> make_mlp(const std::vector<std::size_t>& widths, xoshiro256ss& rng,
                                            const network_quantization* q = nullptr) {
  if (widths.size() < 2) {
    throw shape_error(detail::message("anybit: an MLP of ", widths.size(), " widths, expected at least 2 (in, out)"));
  }
  auto model = std::make_unique<sequential>();
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    if (q != nullptr) {
      model->add<qlinear>(widths[i], widths[i + 1], q->of_layer(i, widths.size() - 1), rng);
    } else {
      model->add<linear>(widths[i], widths[i + 1], rng);
    }
    if (i + 2 < widths.size()) model->add<relu>();
  }
  return model;
}

/// The convolutional reference model:
///     conv3x3(in -> c1, pad 1) - BN - ReLU - maxpool2 - conv3x3(c1 -> c2, pad 1) - BN - ReLU -
///     maxpool2 - flatten - linear(c2 * (size/4)^2 -> classes)
/// Convolutions have no bias (batch norm's shift replaces it). Input N x in x size x size.
struct cnn_spec {
  std::size_t in_channels = 1;
  std::size_t image_size = 28;  // divisible by 4
  std::size_t channels1 = 32;
  std::size_t channels2 = 64;
  std::size_t classes = 10;
};

/// With `q`, the two convolutions are qconv2d and the classifier a qlinear, quantized as q says.
inline std::unique_ptr<sequential> make_cnn(const cnn_spec& spec, xoshiro256ss& rng,
                                            const network_quantization* q = nullptr) {
  if (spec.image_size == 0 || spec.image_size % 4 != 0 || spec.classes == 0) {
    throw shape_error(detail::message("anybit: CNN for ", spec.image_size, "x", spec.image_size, " images and ",
                                      spec.classes, " classes, expected a size divisible by 4 and at least one class"));
  }
  conv2d_options conv;
  conv.kernel = 3;
  conv.padding = 1;
  conv.bias = false;
  auto model = std::make_unique<sequential>();
  const std::size_t side = spec.image_size / 4;
  const auto add_conv = [&](std::size_t in, std::size_t out, std::size_t index, std::size_t input_size) {
    if (q != nullptr) {
      model->add<qconv2d>(in, out, conv, q->of_layer(index, 3), in * input_size * input_size, rng);
    } else {
      model->add<conv2d>(in, out, conv, rng);
    }
  };
  add_conv(spec.in_channels, spec.channels1, 0, spec.image_size);
  model->add<batch_norm2d>(spec.channels1);
  model->add<relu>();
  model->add<max_pool2d>(2);
  add_conv(spec.channels1, spec.channels2, 1, spec.image_size / 2);
  model->add<batch_norm2d>(spec.channels2);
  model->add<relu>();
  model->add<max_pool2d>(2);
  model->add<flatten>();
  if (q != nullptr) {
    model->add<qlinear>(spec.channels2 * side * side, spec.classes, q->last, rng);
  } else {
    model->add<linear>(spec.channels2 * side * side, spec.classes, rng);
  }
  return model;
}

}  // namespace anybit::nn
