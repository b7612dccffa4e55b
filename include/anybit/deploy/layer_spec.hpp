// anybit/deploy/layer_spec.hpp — the plain numbers an integer model is built from.
//
// An exporter (or a test, or the model file loader) describes each layer with these structs and
// hands them to integer_model_builder, which validates every value. Nothing here knows about nn
// modules or quantizer policies: a trained layer becomes weight codes, per-channel affine
// parameters, an output multiplier and bias (batch norm folded), and the grid of the next
// activation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "anybit/gemm/quantization.hpp"

namespace anybit::deploy {

/// The codes of an activation tensor: real = scale * (code - zero_point), codes in [0, 2^bits).
struct activation_grid {
  float scale = 1.0f;
  float zero_point = 0.0f;
  int bits = 8;

  activation_quant quant() const { return {scale, zero_point}; }
  code_output output() const { return {scale, zero_point, bits}; }
};

/// One image's tensor, channels x height x width (a flat vector is K x 1 x 1).
struct tensor_shape {
  std::size_t channels = 1, height = 1, width = 1;

  std::size_t size() const noexcept { return channels * height * width; }
  friend bool operator==(const tensor_shape& a, const tensor_shape& b) noexcept {
    return a.channels == b.channels && a.height == b.height && a.width == b.width;
  }
  friend bool operator!=(const tensor_shape& a, const tensor_shape& b) noexcept { return !(a == b); }
};

/// A convolution's window; groups = 1, the same stride and zero padding on both axes.
struct conv2d_geometry {
  std::size_t kernel_h = 3, kernel_w = 3;
  std::size_t stride = 1;
  std::size_t padding = 0;
};

/// The integer weights of a conv2d or linear layer: codes in training order (conv2d: O x C x kh x
/// kw, OIHW; linear: O x K with K in the N C H W order of the input), `bits` bits each, and the
/// weight grid real = scale[o] * (code - zero_point[o]), one value per tensor or per output channel.
struct layer_weights {
  std::size_t out_channels = 0;
  int bits = 8;
  std::vector<std::uint8_t> codes;
  std::vector<float> scale;       // 1 or out_channels values, finite and > 0
  std::vector<float> zero_point;  // 1 or out_channels values, finite (fractional is fine)
};

/// What a conv2d or linear layer does with its real-valued result r (per output channel o):
///     y = multiplier[o] * r + bias[o],  then max(y, 0) if relu,
/// then either codes in `grid` (a hidden layer) or float (no grid: the last layer, the logits).
/// Batch norm in eval mode folds in as multiplier = gamma / sqrt(var + eps) and
/// bias = beta - multiplier * mean (+ multiplier * conv bias), so the weight codes stay exactly
/// what training simulated. Without batch norm the multiplier is 1.
struct output_spec {
  std::vector<float> multiplier{1.0f};  // 1 or out_channels values, finite (negative and 0 are fine)
  std::vector<float> bias;              // empty (zeros) or out_channels values, finite
  bool relu = false;
  std::optional<activation_grid> grid;  // codes for the next layer; empty: float output

  /// A hidden layer's output: codes of `next` for the next layer.
  static output_spec codes(const activation_grid& next, std::vector<float> multiplier, std::vector<float> bias,
                           bool relu) {
    return output_spec{std::move(multiplier), std::move(bias), relu, next};
  }
  /// The last layer's output: float logits.
  static output_spec logits(std::vector<float> multiplier, std::vector<float> bias) {
    return output_spec{std::move(multiplier), std::move(bias), false, std::nullopt};
  }
};

/// Bounds every model obeys, so that a corrupt file (or a wrong argument) is an error, not an
/// absurd allocation.
struct model_limits {
  static constexpr std::size_t max_layers = 1024;
  static constexpr std::size_t max_extent = std::size_t{1} << 16;    // channels, height, width, kernel, stride, padding
  static constexpr std::size_t max_elements = std::size_t{1} << 26;  // values of one image's tensor
  static constexpr std::size_t max_weights = std::size_t{1} << 30;   // codes of one layer's weights
};

}  // namespace anybit::deploy
