// anybit/deploy/integer_model.hpp — a packed integer network, run on the gemm engine.
//
// A sequential model on uint8 activation codes, each tensor with its affine grid:
//     input      float images (N x C x H x W) -> (x - mean) / stddev -> codes (quantize_code,
//                the function training's fake quantization uses)
//     conv2d     im2col + gemm on packed weight codes; output stage per channel: multiplier,
//     linear     bias, optional ReLU, then codes of the next grid, or float for the last layer
//     max_pool2d directly on codes (quantization is monotone: max Q(x) = Q(max x) exactly)
//     flatten    nothing to do (the weights of the next linear layer are ordered to match)
// Codes are kept NHWC inside (weight_order.hpp), so every gemm writes its output in place.
// Build one with integer_model_builder (validated plain numbers); save and load it with
// model_file.hpp. forward() reuses its scratch buffers between calls, so it is not const: run one
// model per thread (each call may itself use ctx.threads threads).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/deploy/layer_spec.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/conv2d.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/gemm/pack_activations.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/gemm/workspace.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"

namespace anybit::deploy {

enum class layer_kind { input, conv2d, linear, max_pool2d, flatten };

inline const char* layer_kind_name(layer_kind k) noexcept {
  switch (k) {
    case layer_kind::input: return "input";
    case layer_kind::conv2d: return "conv2d";
    case layer_kind::linear: return "linear";
    case layer_kind::max_pool2d: return "max_pool2d";
    case layer_kind::flatten: return "flatten";
  }
  return "unknown";
}

/// One layer as it runs. Which fields matter depends on `kind` (see the groups below).
struct integer_layer {
  layer_kind kind = layer_kind::flatten;
  tensor_shape input;         // one image as training sees it (the input layer: the float image)
  tensor_shape output;        // a flatten makes it C*H*W x 1 x 1
  tensor_shape input_layout;  // the C x H x W whose NHWC codes come in: `input`, or the shape before a flatten
  activation_grid input_grid;                  // grid of the incoming codes (input layer: of the codes it makes)
  std::optional<activation_grid> output_grid;  // grid of the outgoing codes; empty: float (the last layer)

  // input: x' = (x - mean[g]) * (1 / stddev[g]), as data/dataset.hpp's normalize; g runs over
  // 1 (per tensor), C (per channel) or C*H*W (per feature) values; none: no normalisation.
  std::vector<float> mean, stddev;

  // conv2d: the window; max_pool2d: kernel_h = kernel_w, stride (no padding).
  conv2d_geometry geometry{1, 1, 1, 0};

  // conv2d, linear. Per output channel o, the builder folded the output multiplier m[o] in:
  // scale = |m[o]| * weight scale; a channel with m[o] < 0 has its codes and zero point flipped
  // (q -> 2^bits - 1 - q), one with m[o] = 0 has codes and zero point 0 (its output is the bias).
  int weight_bits = 0;
  std::optional<packed_weights> weights;  // out_channels x K, K in the NHWC order of weight_order.hpp
  weight_quant quant;                     // per channel, folded as above
  output_stage stage;                     // bias; [0, inf) for a ReLU
  bool relu = false;

  std::size_t out_channels() const noexcept { return weights ? weights->cols() : 0; }
  /// Multiply-accumulates for one image (0 for layers without weights).
  std::uint64_t macs() const noexcept {
    if (!weights) return 0;
    return static_cast<std::uint64_t>(output.size()) * static_cast<std::uint64_t>(weights->k());
  }
};

/// The codes one layer produced, handed to a forward() observer. NHWC: codes[((n * H + h) * W +
/// w) * C + c] for `shape` C x H x W; a linear layer's are N x C.
struct layer_codes {
  std::size_t layer = 0;
  const std::uint8_t* codes = nullptr;
  std::size_t batch = 0;
  tensor_shape shape;
  activation_grid grid;
};
using layer_observer = std::function<void(const layer_codes&)>;

/// What one layer costs per image.
struct layer_cost {
  layer_kind kind = layer_kind::flatten;
  int weight_bits = 0;           // 0 without weights
  int activation_bits = 0;       // bits of the incoming codes (0 for the input layer)
  std::uint64_t macs = 0;
  std::uint64_t bitops = 0;      // macs * weight_bits * activation_bits
  std::size_t parameter_bytes = 0;  // as counted by integer_model::model_bytes
};

class integer_model_builder;

class integer_model {
 public:
  integer_model(integer_model&&) noexcept = default;
  integer_model& operator=(integer_model&&) noexcept = default;

  const std::vector<integer_layer>& layers() const noexcept { return layers_; }
  const tensor_shape& input_shape() const noexcept { return layers_.front().input; }
  std::size_t input_size() const noexcept { return input_shape().size(); }
  std::size_t output_size() const noexcept { return layers_.back().output.size(); }

  /// logits[n * output_size() + j] for the batch of float images (N x C x H x W, input_size()
  /// floats each). A last conv2d's logits are in N C H W order. `observe`, if set, sees the codes
  /// of every layer but a flatten and the last. Any path and thread count gives identical logits.
  void forward(const float* images, std::size_t batch, float* logits, gemm_context& ctx,
               const layer_observer& observe = {}) {
    if (batch == 0) return;
    if (images == nullptr || logits == nullptr) {
      throw shape_error(detail::message("anybit: integer_model::forward got a null ", images == nullptr ? "images" : "logits",
                                        " pointer for a batch of ", batch, ", expected ", batch, " x ",
                                        images == nullptr ? input_size() : output_size(), " floats"));
    }
    if (batch > std::numeric_limits<std::size_t>::max() / largest_codes_) {
      throw shape_error(detail::message("anybit: integer_model::forward batch of ", batch, " images, expected at most ",
                                        std::numeric_limits<std::size_t>::max() / largest_codes_));
    }
    for (auto& buffer : codes_) {
      if (buffer.size() < batch * largest_codes_) buffer.resize(batch * largest_codes_);
    }
    std::size_t current = 1;  // codes_[current] holds the latest codes; the input layer writes codes_[0]
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const integer_layer& layer = layers_[i];
      const std::size_t next = 1 - current;
      const std::uint8_t* x = codes_[current].data();
      std::uint8_t* y = codes_[next].data();
      switch (layer.kind) {
        case layer_kind::input: quantize_input(layer, images, batch, y, ctx); break;
        case layer_kind::max_pool2d: max_pool(layer, x, batch, y); break;
        case layer_kind::flatten: continue;  // the same codes, read as a flat vector
        case layer_kind::conv2d:
        case layer_kind::linear: run_weighted(i, x, batch, y, logits, ctx); break;
      }
      current = next;
      if (observe && layer.output_grid) observe(layer_codes{i, y, batch, layer.output, *layer.output_grid});
    }
  }

  /// The class of each image: the index of its largest logit (the first one on a tie).
  void predict(const float* images, std::size_t batch, std::size_t* classes, gemm_context& ctx) {
    if (batch == 0) return;
    if (classes == nullptr) throw shape_error("anybit: integer_model::predict got a null classes pointer");
    if (logits_.size() < batch * output_size()) logits_.resize(batch * output_size());
    forward(images, batch, logits_.data(), ctx);
    const std::size_t n = output_size();
    for (std::size_t b = 0; b < batch; ++b) {
      const float* row = logits_.data() + b * n;
      classes[b] = static_cast<std::size_t>(std::max_element(row, row + n) - row);
    }
  }

  /// Multiply-accumulates per image, over every conv2d and linear layer.
  std::uint64_t macs() const {
    std::uint64_t total = 0;
    for (const layer_cost& c : costs()) total += c.macs;
    return total;
  }
  /// BitOps per image: sum over layers of MACs * weight bits * activation bits.
  std::uint64_t bitops() const {
    std::uint64_t total = 0;
    for (const layer_cost& c : costs()) total += c.bitops;
    return total;
  }

  /// The model's size as deployed, in bytes: weight codes at their bit-widths
  /// (ceil(out_channels * K * bits / 8) per layer, as the file stores them) plus 4 bytes per
  /// number of the per-channel output stage (weight scale with the output multiplier folded in,
  /// weight zero point, bias), of every grid (scale, zero point, bits) and of the input
  /// normalisation (mean, stddev). Not counted: shapes, in-memory panel padding and the column
  /// sums gemm caches (both derived at load time).
  std::size_t model_bytes() const {
    std::size_t total = 0;
    for (const layer_cost& c : costs()) total += c.parameter_bytes;
    return total;
  }

  std::vector<layer_cost> costs() const {
    std::vector<layer_cost> out;
    constexpr std::size_t number = 4, grid = 3 * number;
    for (const integer_layer& layer : layers_) {
      layer_cost c;
      c.kind = layer.kind;
      if (layer.kind == layer_kind::input) {
        c.parameter_bytes = grid + number * (layer.mean.size() + layer.stddev.size());
      } else if (layer.weights) {
        c.weight_bits = layer.weight_bits;
        c.activation_bits = layer.input_grid.bits;
        c.macs = layer.macs();
        c.bitops = c.macs * static_cast<std::uint64_t>(c.weight_bits) * static_cast<std::uint64_t>(c.activation_bits);
        const std::size_t codes = layer.weights->cols() * layer.weights->k();
        c.parameter_bytes = (codes * static_cast<std::size_t>(layer.weight_bits) + 7) / 8 +
                            3 * number * layer.out_channels() + (layer.output_grid ? grid : 0);
      } else {
        c.activation_bits = layer.input_grid.bits;
      }
      out.push_back(c);
    }
    return out;
  }

  /// One line per layer: kind, shapes, bits.
  std::string describe() const {
    std::string text;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const integer_layer& l = layers_[i];
      const tensor_shape& o = l.output;
      text += detail::message(i, ": ", layer_kind_name(l.kind), " -> ", o.channels, "x", o.height, "x", o.width);
      if (l.kind == layer_kind::conv2d) {
        text += detail::message(" (", l.geometry.kernel_h, "x", l.geometry.kernel_w, ", stride ", l.geometry.stride,
                                ", padding ", l.geometry.padding, ")");
      } else if (l.kind == layer_kind::max_pool2d) {
        text += detail::message(" (", l.geometry.kernel_h, ", stride ", l.geometry.stride, ")");
      }
      if (l.weights) text += detail::message(", W", l.weight_bits, "A", l.input_grid.bits, l.relu ? ", relu" : "");
      text += l.output_grid ? detail::message(", codes A", l.output_grid->bits) : std::string(", float");
      text += "\n";
    }
    return text;
  }

 private:
  friend class integer_model_builder;

  // Gemm rows per call: bounds the im2col scratch (rows x K codes as bytes or bit-planes) for any batch.
  static constexpr std::size_t rows_per_chunk = 4096;

  struct layer_scratch {
    gemm_workspace full;  // packed activations of a whole chunk of images
    gemm_workspace tail;  // of the batch's last, shorter chunk
  };

  explicit integer_model(std::vector<integer_layer> layers) : layers_(std::move(layers)), scratch_(layers_.size()) {
    for (const integer_layer& layer : layers_) {
      largest_codes_ = std::max({largest_codes_, layer.input.size(), layer.output.size()});
    }
    const integer_layer& first = layers_.front();
    for (float s : first.stddev) inverse_stddev_.push_back(1.0f / s);  // as normalize() computes it
  }

  // One channel plane at a time: normalised into a float row, then quantize_code on the whole
  // row by the packer of ctx (SIMD where allowed; every packer gives quantize_code's bits).
  void quantize_input(const integer_layer& layer, const float* images, std::size_t batch, std::uint8_t* y,
                      const gemm_context& ctx) {
    const std::size_t c_count = layer.input.channels, plane = layer.input.height * layer.input.width;
    const std::size_t groups = layer.mean.size();
    const activation_grid& g = layer.input_grid;
    const float inverse_scale = quantization_inverse_scale(g.scale), top = static_cast<float>(max_code(g.bits));
    const detail::packer pk = detail::choose_packer(ctx);
    normalized_.resize(plane);
    plane_codes_.resize(plane);
    for (std::size_t b = 0; b < batch; ++b) {
      for (std::size_t c = 0; c < c_count; ++c) {
        const float* x = images + (b * c_count + c) * plane;
        const float* v = x;
        if (groups != 0) {
          float* n = normalized_.data();
          if (groups == 1 || groups == c_count) {
            const std::size_t at = groups == 1 ? 0 : c;
            for (std::size_t p = 0; p < plane; ++p) n[p] = (x[p] - layer.mean[at]) * inverse_stddev_[at];
          } else {
            for (std::size_t p = 0; p < plane; ++p) n[p] = (x[p] - layer.mean[c * plane + p]) * inverse_stddev_[c * plane + p];
          }
          v = n;
        }
        std::uint8_t* out = y + b * plane * c_count + c;
        std::uint8_t* codes = c_count == 1 ? out : plane_codes_.data();
        pk.quantize(v, plane, inverse_scale, g.zero_point, top, codes);
        if (c_count != 1) {
          for (std::size_t p = 0; p < plane; ++p) out[p * c_count] = codes[p];
        }
      }
    }
  }

  static void max_pool(const integer_layer& layer, const std::uint8_t* x, std::size_t batch, std::uint8_t* y) {
    const std::size_t c = layer.input.channels, h = layer.input.height, w = layer.input.width;
    const std::size_t oh_n = layer.output.height, ow_n = layer.output.width;
    const std::size_t k = layer.geometry.kernel_h, s = layer.geometry.stride;
    for (std::size_t b = 0; b < batch; ++b) {
      for (std::size_t oh = 0; oh < oh_n; ++oh) {
        for (std::size_t ow = 0; ow < ow_n; ++ow) {
          std::uint8_t* out = y + ((b * oh_n + oh) * ow_n + ow) * c;
          for (std::size_t r = 0; r < k; ++r) {
            for (std::size_t q = 0; q < k; ++q) {
              const std::uint8_t* in = x + ((b * h + oh * s + r) * w + ow * s + q) * c;
              if (r == 0 && q == 0) {
                std::copy(in, in + c, out);
              } else {
                for (std::size_t ch = 0; ch < c; ++ch) out[ch] = std::max(out[ch], in[ch]);
              }
            }
          }
        }
      }
    }
  }

  // A conv2d or linear layer over the batch, in chunks of whole images of at most
  // rows_per_chunk gemm rows: codes into y, or float into logits (the last layer).
  void run_weighted(std::size_t index, const std::uint8_t* x, std::size_t batch, std::uint8_t* y, float* logits,
                    gemm_context& ctx) {
    const integer_layer& layer = layers_[index];
    layer_scratch& scratch = scratch_[index];
    const bool conv = layer.kind == layer_kind::conv2d;
    const std::size_t positions = layer.output.height * layer.output.width;  // gemm rows per image
    const std::size_t chunk = std::max<std::size_t>(1, rows_per_chunk / positions);
    const std::size_t in_size = layer.input_layout.size(), out_size = layer.output.size();
    const std::size_t n_out = layer.out_channels();
    const int a_bits = layer.input_grid.bits;
    const packed_weights_view w = layer.weights->view();
    for (std::size_t first = 0; first < batch; first += chunk) {
      const std::size_t images = std::min(chunk, batch - first);
      gemm_workspace& ws = images == chunk ? scratch.full : scratch.tail;
      const std::uint8_t* xs = x + first * in_size;
      const activation_quant aq = layer.input_grid.quant();
      // conv2d and gemm pack the codes as their path reads them (bytes or bit-planes) into ws;
      // `output` is (float* y) or (code_output q, std::uint8_t* y).
      const auto run = [&](auto... output) {
        if (conv) {
          conv2d(xs, a_bits, aq, pad_code(layer), conv_shape(layer, images), w, layer.quant, layer.stage, output..., ctx, ws);
        } else {
          gemm(xs, images, in_size, a_bits, aq, w, layer.quant, layer.stage, output..., n_out, ctx, ws);
        }
      };
      if (layer.output_grid) {
        run(layer.output_grid->output(), y + first * out_size);
      } else if (positions == 1) {
        run(logits + first * out_size);
      } else {  // a last conv2d: positions x channels per image, logits want channels x positions
        if (channels_last_.size() < images * out_size) channels_last_.resize(images * out_size);
        run(channels_last_.data());
        for (std::size_t b = 0; b < images; ++b) {
          float* out = logits + (first + b) * out_size;
          const float* in = channels_last_.data() + b * out_size;
          for (std::size_t p = 0; p < positions; ++p) {
            for (std::size_t o = 0; o < n_out; ++o) out[o * positions + p] = in[p * n_out + o];
          }
        }
      }
    }
  }

  // Zero padding is the code of real 0, the input zero point (an integer: the builder checked).
  static std::uint8_t pad_code(const integer_layer& layer) {
    return layer.geometry.padding == 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(layer.input_grid.zero_point);
  }

  static conv2d_shape conv_shape(const integer_layer& layer, std::size_t images) {
    conv2d_shape s;
    s.batch = images;
    s.channels = layer.input.channels;
    s.height = layer.input.height;
    s.width = layer.input.width;
    s.out_channels = layer.out_channels();
    s.kernel_h = layer.geometry.kernel_h;
    s.kernel_w = layer.geometry.kernel_w;
    s.stride_h = s.stride_w = layer.geometry.stride;
    s.pad_h = s.pad_w = layer.geometry.padding;
    s.layout = data_layout::nhwc;
    return s;
  }

  std::vector<integer_layer> layers_;
  std::vector<layer_scratch> scratch_;
  std::size_t largest_codes_ = 1;       // codes per image of the largest activation tensor
  std::vector<float> inverse_stddev_;   // of the input normalisation
  std::vector<std::uint8_t> codes_[2];  // activation codes, ping-pong between layers
  std::vector<float> channels_last_;    // a last conv2d's float output before reordering
  std::vector<float> logits_;           // predict()'s
  std::vector<float> normalized_;       // one input plane, normalised
  std::vector<std::uint8_t> plane_codes_;  // its codes, before they are spread to NHWC
};

}  // namespace anybit::deploy
