// anybit/deploy/integer_model_builder.hpp — builds an integer_model from plain numbers, checking
// every one of them.
//
//     integer_model_builder b;
//     b.input(1, 28, 28, {mean}, {stddev}, {in_scale, 128.0f, 8})
//      .conv2d(weights, {3, 3, 1, 1}, output_spec::codes(next_grid, bn_multiplier, bn_bias, true))
//      .max_pool2d(2)
//      .flatten()
//      .linear(fc_weights, output_spec::logits({1.0f}, fc_bias));
//     integer_model model = b.build();
//
// The shape chain, bit-widths, code ranges, scales, zero points and channel counts are checked
// as each layer is added; an error names the layer, the offending value and what was expected
// (shape_error, bit_width_error, or error for a non-finite or non-positive number). Then each
// layer is put in its run-time form: weights reordered for NHWC (weight_order.hpp) and packed,
// the output multiplier folded into the per-channel weight scale (see integer_layer).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/deploy/integer_model.hpp"
#include "anybit/deploy/layer_spec.hpp"
#include "anybit/deploy/weight_order.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"

namespace anybit::deploy {

class integer_model_builder {
 public:
  /// The first layer: float images of channels x height x width, normalised with `mean` and
  /// `stddev` (both empty, or 1, channels or channels*height*width values), quantized to `grid`.
  integer_model_builder& input(std::size_t channels, std::size_t height, std::size_t width, std::vector<float> mean,
                               std::vector<float> stddev, const activation_grid& grid) {
    const std::string where = start(layer_kind::input);
    if (!layers_.empty()) {
      throw error(detail::message(where, "input() after ", layers_.size(), " layers, expected it once, first"));
    }
    const tensor_shape shape{check_extent(where, "channels", channels), check_extent(where, "height", height),
                             check_extent(where, "width", width)};
    check_size(where, "the input", shape);
    const std::size_t n = mean.size();
    if (n != stddev.size() || (n != 0 && n != 1 && n != shape.channels && n != shape.size())) {
      throw shape_error(detail::message(where, "normalisation has ", mean.size(), " means and ", stddev.size(),
                                        " stddevs, expected equal counts of 0, 1, channels = ", shape.channels,
                                        " or channels x height x width = ", shape.size()));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(mean[i]) || !std::isfinite(stddev[i]) || !(stddev[i] > 0.0f)) {
        throw error(detail::message(where, "normalisation ", i, " has mean ", mean[i], " and stddev ", stddev[i],
                                    ", expected a finite mean and a finite stddev > 0"));
      }
    }
    check_grid(where, "input grid", grid);
    integer_layer layer;
    layer.kind = layer_kind::input;
    layer.input = layer.output = layer.input_layout = shape;
    layer.input_grid = grid;
    layer.output_grid = grid;
    layer.mean = std::move(mean);
    layer.stddev = std::move(stddev);
    layers_.push_back(std::move(layer));
    return *this;
  }

  /// A convolution (groups = 1) of the current N x C x H x W codes; weights.codes are OIHW.
  /// Zero padding needs the input grid's zero point to be an integer code (it is the pad code).
  integer_model_builder& conv2d(const layer_weights& weights, const conv2d_geometry& geometry, const output_spec& out) {
    const std::string where = start(layer_kind::conv2d);
    const tensor_shape in = spatial_input(where);
    const activation_grid in_grid = *layers_.back().output_grid;
    const std::size_t kh = check_extent(where, "kernel_h", geometry.kernel_h);
    const std::size_t kw = check_extent(where, "kernel_w", geometry.kernel_w);
    const std::size_t stride = check_extent(where, "stride", geometry.stride);
    if (geometry.padding > model_limits::max_extent) {
      throw shape_error(detail::message(where, "padding ", geometry.padding, ", expected 0..", model_limits::max_extent));
    }
    const std::size_t padded_h = in.height + 2 * geometry.padding, padded_w = in.width + 2 * geometry.padding;
    if (kh > padded_h || kw > padded_w) {
      throw shape_error(detail::message(where, "kernel ", kh, "x", kw, " on a padded input of ", padded_h, "x", padded_w,
                                        ", expected a kernel no larger than the input"));
    }
    if (geometry.padding > 0) check_pad_code(where, in_grid);
    const tensor_shape output{check_extent(where, "out_channels", weights.out_channels), (padded_h - kh) / stride + 1,
                              (padded_w - kw) / stride + 1};
    check_size(where, "the output", output);
    const std::string k_formula = detail::message("in_channels x kernel_h x kernel_w = ", in.channels, " x ", kh, " x ", kw);
    integer_layer layer = weighted_layer(where, layer_kind::conv2d, weights, {in.channels, kh, kw}, k_formula, out);
    layer.input = layer.input_layout = in;
    layer.output = output;
    layer.input_grid = in_grid;
    layer.geometry = {kh, kw, stride, geometry.padding};
    layers_.push_back(std::move(layer));
    return *this;
  }

  /// A fully connected layer on the current codes, which must be flat (after flatten(), a
  /// linear layer, or C x 1 x 1); weights.codes are out_features x K, K in N C H W order.
  integer_model_builder& linear(const layer_weights& weights, const output_spec& out) {
    const std::string where = start(layer_kind::linear);
    const integer_layer& previous = layers_.back();
    if (previous.output.height != 1 || previous.output.width != 1) {
      throw shape_error(detail::message(where, "input is ", previous.output.channels, "x", previous.output.height, "x",
                                        previous.output.width, ", expected a flat input: add flatten() first"));
    }
    const tensor_shape layout = current_layout();
    const std::string k_formula = detail::message("in_features = ", layout.size());
    integer_layer layer = weighted_layer(where, layer_kind::linear, weights, layout, k_formula, out);
    layer.input = previous.output;
    layer.input_layout = layout;
    layer.output = {check_extent(where, "out_features", weights.out_channels), 1, 1};
    layer.input_grid = *previous.output_grid;
    layers_.push_back(std::move(layer));
    return *this;
  }

  /// Max pooling of kernel x kernel windows, step `stride` (0: the kernel), no padding.
  integer_model_builder& max_pool2d(std::size_t kernel, std::size_t stride = 0) {
    const std::string where = start(layer_kind::max_pool2d);
    const tensor_shape in = spatial_input(where);
    if (stride == 0) stride = kernel;
    check_extent(where, "stride", stride);
    if (kernel == 0 || kernel > in.height || kernel > in.width) {
      throw shape_error(detail::message(where, "kernel ", kernel, " on a ", in.height, "x", in.width,
                                        " input, expected 1..min(height, width)"));
    }
    integer_layer layer;
    layer.kind = layer_kind::max_pool2d;
    layer.input = layer.input_layout = in;
    layer.output = {in.channels, (in.height - kernel) / stride + 1, (in.width - kernel) / stride + 1};
    layer.input_grid = *layers_.back().output_grid;
    layer.output_grid = layer.input_grid;
    layer.geometry = {kernel, kernel, stride, 0};
    layers_.push_back(std::move(layer));
    return *this;
  }

  /// N x C x H x W -> N x (C*H*W), in that order, as training flattens.
  integer_model_builder& flatten() {
    const std::string where = start(layer_kind::flatten);
    integer_layer layer;
    layer.kind = layer_kind::flatten;
    layer.input = layers_.back().output;
    layer.input_layout = current_layout();
    layer.output = {layer.input.size(), 1, 1};
    layer.input_grid = *layers_.back().output_grid;
    layer.output_grid = layer.input_grid;
    layers_.push_back(std::move(layer));
    return *this;
  }

  std::size_t layer_count() const noexcept { return layers_.size(); }

  /// The shape (as training sees it) of the tensor the next layer gets.
  tensor_shape shape() const {
    if (layers_.empty()) throw error("anybit: integer_model_builder has no input yet, expected input() first");
    return layers_.back().output;
  }

  /// The model. Throws error unless the last layer is a conv2d or linear layer with float output
  /// (the logits). The builder is empty afterwards.
  integer_model build() {
    if (layers_.empty()) throw error("anybit: integer_model_builder has no layers, expected input() and at least one more");
    const integer_layer& last = layers_.back();
    if (last.output_grid || !last.weights) {
      throw error(detail::message("anybit: the model ends with layer ", layers_.size() - 1, " (", layer_kind_name(last.kind),
                                  ") giving codes, expected a last conv2d or linear layer with float output (logits)"));
    }
    std::vector<integer_layer> layers = std::move(layers_);
    layers_.clear();
    return integer_model(std::move(layers));
  }

 private:
  // The message prefix of the next layer; checks that there is room and that no float-output
  // layer came before.
  std::string start(layer_kind kind) const {
    const std::string where = detail::message("anybit: layer ", layers_.size(), " (", layer_kind_name(kind), "): ");
    if (layers_.size() >= model_limits::max_layers) {
      throw shape_error(detail::message(where, "a model of more than ", model_limits::max_layers, " layers, expected at most ",
                                        model_limits::max_layers));
    }
    if (kind == layer_kind::input) return where;
    if (layers_.empty()) throw error(detail::message(where, "comes before input(), expected input() first"));
    if (!layers_.back().output_grid) {
      throw error(detail::message(where, "comes after the float output (logits) of layer ", layers_.size() - 1,
                                  ", expected that layer to be the last"));
    }
    return where;
  }

  // The N x C x H x W input of a conv2d or pooling layer.
  tensor_shape spatial_input(const std::string& where) const {
    const integer_layer& previous = layers_.back();
    if (previous.kind == layer_kind::flatten || previous.kind == layer_kind::linear) {
      throw shape_error(detail::message(where, "input is the flat output of layer ", layers_.size() - 1, " (",
                                        layer_kind_name(previous.kind), "), expected N x C x H x W"));
    }
    return previous.output;
  }

  // The C x H x W whose NHWC codes the next layer reads (a flatten does not move codes).
  tensor_shape current_layout() const {
    const integer_layer& previous = layers_.back();
    return previous.kind == layer_kind::flatten ? previous.input_layout : previous.output;
  }

  static std::size_t check_extent(const std::string& where, const char* what, std::size_t value) {
    if (value == 0 || value > model_limits::max_extent) {
      throw shape_error(detail::message(where, what, " = ", value, ", expected 1..", model_limits::max_extent));
    }
    return value;
  }

  static void check_size(const std::string& where, const char* what, const tensor_shape& s) {
    if (s.size() > model_limits::max_elements) {
      throw shape_error(detail::message(where, what, " is ", s.channels, "x", s.height, "x", s.width, " = ", s.size(),
                                        " values per image, expected at most ", model_limits::max_elements));
    }
  }

  static int check_layer_bits(const std::string& where, const char* what, int bits) {
    if (!is_valid_bits(bits)) {
      throw bit_width_error(detail::message(where, what, " bits = ", bits, ", expected 1..8"));
    }
    return bits;
  }

  static void check_scale(const std::string& where, const char* what, float scale) {
    if (!std::isfinite(scale) || !(scale > 0.0f)) {
      throw error(detail::message(where, what, " = ", scale, ", expected a finite value > 0"));
    }
  }

  static void check_finite(const std::string& where, const char* what, const std::vector<float>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        throw error(detail::message(where, what, "[", i, "] = ", values[i], ", expected a finite value"));
      }
    }
  }

  static void check_grid(const std::string& where, const char* what, const activation_grid& g) {
    check_layer_bits(where, what, g.bits);
    check_scale(where, detail::message(what, " scale").c_str(), g.scale);
    if (!std::isfinite(g.zero_point)) {
      throw error(detail::message(where, what, " zero point = ", g.zero_point, ", expected a finite value"));
    }
  }

  // Zero padding writes the code of real 0: the zero point must be a code.
  static void check_pad_code(const std::string& where, const activation_grid& in) {
    const float z = in.zero_point;
    if (z != std::floor(z) || z < 0.0f || z > static_cast<float>(max_code(in.bits))) {
      throw error(detail::message(where, "zero padding needs the input zero point as its code, but it is ", z,
                                  ", expected an integer in 0..", max_code(in.bits), " (the input grid has ", in.bits,
                                  " bits)"));
    }
  }

  // Per-tensor (1) or per-channel values.
  static void check_count(const std::string& where, const char* what, std::size_t count, std::size_t channels) {
    if (count == 1 || count == channels) return;
    throw shape_error(detail::message(where, what, " has ", count, " values, expected 1 or out_channels = ", channels));
  }

  // Checks a conv2d's or linear layer's weights and output stage, and builds its run-time form.
  // `block` is the C x H x W each output row reduces over (in_channels x kh x kw, or the input).
  static integer_layer weighted_layer(const std::string& where, layer_kind kind, const layer_weights& w,
                                      const tensor_shape& block, const std::string& k_formula, const output_spec& out) {
    const std::size_t n = check_extent(where, "out_channels", w.out_channels);
    const int bits = check_layer_bits(where, "weight", w.bits);
    const std::size_t k = block.size();
    if (k > model_limits::max_weights / n) {
      throw shape_error(detail::message(where, "weights of ", n, " x ", k, " codes, expected at most ",
                                        model_limits::max_weights));
    }
    if (w.codes.size() != n * k) {
      throw shape_error(detail::message(where, "weight codes hold ", w.codes.size(), " values, expected out_channels x ",
                                        k_formula, " = ", n, " x ", k, " = ", n * k));
    }
    const std::uint8_t top = static_cast<std::uint8_t>(max_code(bits));
    for (std::size_t i = 0; i < w.codes.size(); ++i) {
      if (w.codes[i] > top) {
        throw bit_width_error(detail::message(where, "weight code ", unsigned{w.codes[i]}, " at index ", i,
                                              " (output channel ", i / k, ") does not fit in ", bits,
                                              " bits, expected 0..", unsigned{top}));
      }
    }
    check_count(where, "weight scale", w.scale.size(), n);
    check_count(where, "weight zero point", w.zero_point.size(), n);
    check_count(where, "output multiplier", out.multiplier.size(), n);
    if (!out.bias.empty() && out.bias.size() != n) {
      throw shape_error(detail::message(where, "bias has ", out.bias.size(), " values, expected 0 or out_channels = ", n));
    }
    for (std::size_t i = 0; i < w.scale.size(); ++i) check_scale(where, detail::message("weight scale[", i, "]").c_str(), w.scale[i]);
    check_finite(where, "weight zero point", w.zero_point);
    check_finite(where, "output multiplier", out.multiplier);
    check_finite(where, "bias", out.bias);
    if (out.grid) check_grid(where, "output grid", *out.grid);

    integer_layer layer;
    layer.kind = kind;
    layer.weight_bits = bits;
    layer.relu = out.relu;
    layer.output_grid = out.grid;
    layer.quant.scale.resize(n);
    layer.quant.zero_point.resize(n);
    layer.stage.bias = out.bias.empty() ? std::vector<float>(n, 0.0f) : out.bias;
    if (out.relu) layer.stage.min = 0.0f;
    // gemm needs scales > 0, so a channel's multiplier m goes into its scale as |m|, its sign
    // into the codes: scale (q - z) m = scale |m| ((top - q) - (top - z)) for m < 0, exactly
    // for integral and half-integral z (any z with top - z representable in float).
    std::vector<std::uint8_t> codes = w.codes;
    for (std::size_t o = 0; o < n; ++o) {
      const float scale = w.scale[w.scale.size() == 1 ? 0 : o];
      const float zero = w.zero_point[w.zero_point.size() == 1 ? 0 : o];
      const float m = out.multiplier[out.multiplier.size() == 1 ? 0 : o];
      std::uint8_t* row = codes.data() + o * k;
      if (m == 0.0f) {  // the channel's output is its bias: codes equal to a zero point of 0
        std::fill(row, row + k, std::uint8_t{0});
        layer.quant.scale[o] = scale;
        layer.quant.zero_point[o] = 0.0f;
        continue;
      }
      const float folded = scale * std::fabs(m);
      if (!std::isfinite(folded) || !(folded > 0.0f)) {
        throw error(detail::message(where, "output channel ", o, ": weight scale ", scale, " x |output multiplier ", m,
                                    "| = ", folded, ", expected a finite float > 0"));
      }
      layer.quant.scale[o] = folded;
      layer.quant.zero_point[o] = m > 0.0f ? zero : static_cast<float>(top) - zero;
      if (m < 0.0f) {
        for (std::size_t i = 0; i < k; ++i) row[i] = static_cast<std::uint8_t>(top - row[i]);
      }
    }
    codes = channels_last(codes, n, block.channels, block.height, block.width);
    layer.weights.emplace(packed_weights::from_codes(codes.data(), n, k, bits));
    return layer;
  }

  std::vector<integer_layer> layers_;
};

}  // namespace anybit::deploy
