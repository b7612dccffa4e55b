// Random integer models for the deploy tests, and the independent float simulation they are
// checked against.
//
// A recipe is what an exporter would hand the builder (training order: NCHW, OIHW). The
// simulation runs it the way training's fake-quantized forward pass does, with none of the
// library's run-time code: decode every code to a real value, direct convolution and matrix
// loops in double, output multiplier, bias and ReLU, max pooling on the real values, and
// quantize_code (in float) wherever the next layer reads codes. Grids are calibrated on the
// test images with scales that are not round numbers, so exact rounding ties do not occur;
// near ties (where float and double rounding may disagree) are flagged.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/deploy/integer_model.hpp"
#include "anybit/deploy/integer_model_builder.hpp"
#include "anybit/deploy/layer_spec.hpp"
#include "anybit/quant/affine.hpp"
#include "support/test_support.hpp"

namespace anybit::deploy_test {

using namespace anybit::deploy;

struct recipe_layer {
  layer_kind kind = layer_kind::flatten;
  tensor_shape shape;                // input: the image
  std::vector<float> mean, stddev;   // input
  activation_grid grid;              // input: its grid
  layer_weights weights;             // conv2d, linear
  conv2d_geometry geometry;          // conv2d
  output_spec out;                   // conv2d, linear
  std::size_t pool_kernel = 2, pool_stride = 2;
};
using recipe = std::vector<recipe_layer>;

inline integer_model build(const recipe& r) {
  integer_model_builder b;
  for (const recipe_layer& l : r) {
    switch (l.kind) {
      case layer_kind::input:
        b.input(l.shape.channels, l.shape.height, l.shape.width, l.mean, l.stddev, l.grid);
        break;
      case layer_kind::conv2d: b.conv2d(l.weights, l.geometry, l.out); break;
      case layer_kind::linear: b.linear(l.weights, l.out); break;
      case layer_kind::max_pool2d: b.max_pool2d(l.pool_kernel, l.pool_stride); break;
      case layer_kind::flatten: b.flatten(); break;
    }
  }
  return b.build();
}

// ---- the simulation -------------------------------------------------------------------------

/// Training's quantization of a real value (fake-quant runs in float).
inline std::uint8_t quantize(double v, const activation_grid& g) {
  return quantize_code(static_cast<float>(v), quantization_inverse_scale(g.scale), g.zero_point,
                       static_cast<float>(max_code(g.bits)));
}
inline double decode(std::uint8_t code, const activation_grid& g) {
  return static_cast<double>(g.scale) * (static_cast<double>(code) - static_cast<double>(g.zero_point));
}
/// Whether v lies so close to a rounding boundary of g that float and double arithmetic may
/// round it differently.
inline bool near_tie(double v, const activation_grid& g) {
  const double t = v / static_cast<double>(g.scale) + static_cast<double>(g.zero_point);
  if (t < -0.5 || t > static_cast<double>(max_code(g.bits)) + 0.5) return false;
  return std::fabs(t - std::floor(t) - 0.5) < 1e-3;
}

/// A batch of real values, N x C x H x W, with the grid they still have to be quantized to
/// before the next weighted layer reads them (training quantizes at the consumer's input).
struct sim_tensor {
  std::size_t batch = 0;
  tensor_shape shape;
  std::vector<double> values;
  std::optional<activation_grid> pending;
};

inline std::vector<std::uint8_t> codes_of(const sim_tensor& t) {
  std::vector<std::uint8_t> codes(t.values.size());
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = quantize(t.values[i], *t.pending);
  return codes;
}

inline sim_tensor from_codes(const std::vector<std::uint8_t>& codes, std::size_t batch, const tensor_shape& shape,
                             const activation_grid& g) {
  sim_tensor t{batch, shape, std::vector<double>(codes.size()), std::nullopt};
  for (std::size_t i = 0; i < codes.size(); ++i) t.values[i] = decode(codes[i], g);
  return t;
}

// The reals a weighted layer reads: quantized and decoded if a grid is pending.
inline sim_tensor materialized(const sim_tensor& t) {
  if (!t.pending) return t;
  return from_codes(codes_of(t), t.batch, t.shape, *t.pending);
}

inline std::vector<std::uint8_t> input_codes(const recipe_layer& l, const float* images, std::size_t batch) {
  const std::size_t n = l.shape.size(), plane = l.shape.height * l.shape.width;
  std::vector<std::uint8_t> codes(batch * n);
  for (std::size_t i = 0; i < batch * n; ++i) {
    float x = images[i];
    if (!l.mean.empty()) {
      const std::size_t f = i % n;
      const std::size_t g = l.mean.size() == 1 ? 0 : l.mean.size() == l.shape.channels ? f / plane : f;
      x = (x - l.mean[g]) * (1.0f / l.stddev[g]);  // data/dataset.hpp's normalize
    }
    codes[i] = quantize(x, l.grid);
  }
  return codes;
}

inline double weight_real(const layer_weights& w, std::size_t o, std::size_t index) {
  const double s = w.scale[w.scale.size() == 1 ? 0 : o], z = w.zero_point[w.zero_point.size() == 1 ? 0 : o];
  return s * (static_cast<double>(w.codes[index]) - z);
}

// y = multiplier * r + bias, then ReLU.
inline double output_of(const output_spec& out, std::size_t o, double r) {
  const double m = out.multiplier[out.multiplier.size() == 1 ? 0 : o];
  const double y = m * r + (out.bias.empty() ? 0.0 : static_cast<double>(out.bias[o]));
  return out.relu ? std::max(y, 0.0) : y;
}

inline sim_tensor conv2d_step(const recipe_layer& l, const sim_tensor& input) {
  const sim_tensor x = materialized(input);
  const tensor_shape& s = x.shape;
  const conv2d_geometry& g = l.geometry;
  const std::size_t o_n = l.weights.out_channels;
  const std::size_t oh_n = (s.height + 2 * g.padding - g.kernel_h) / g.stride + 1;
  const std::size_t ow_n = (s.width + 2 * g.padding - g.kernel_w) / g.stride + 1;
  sim_tensor y{x.batch, {o_n, oh_n, ow_n}, std::vector<double>(x.batch * o_n * oh_n * ow_n), l.out.grid};
  for (std::size_t b = 0; b < x.batch; ++b) {
    for (std::size_t o = 0; o < o_n; ++o) {
      for (std::size_t oh = 0; oh < oh_n; ++oh) {
        for (std::size_t ow = 0; ow < ow_n; ++ow) {
          double acc = 0;
          for (std::size_t c = 0; c < s.channels; ++c) {
            for (std::size_t r = 0; r < g.kernel_h; ++r) {
              for (std::size_t q = 0; q < g.kernel_w; ++q) {
                const long ih = static_cast<long>(oh * g.stride + r) - static_cast<long>(g.padding);
                const long iw = static_cast<long>(ow * g.stride + q) - static_cast<long>(g.padding);
                if (ih < 0 || iw < 0 || ih >= static_cast<long>(s.height) || iw >= static_cast<long>(s.width)) continue;
                const double a = x.values[((b * s.channels + c) * s.height + static_cast<std::size_t>(ih)) * s.width +
                                          static_cast<std::size_t>(iw)];
                acc += a * weight_real(l.weights, o, ((o * s.channels + c) * g.kernel_h + r) * g.kernel_w + q);
              }
            }
          }
          y.values[((b * o_n + o) * oh_n + oh) * ow_n + ow] = output_of(l.out, o, acc);
        }
      }
    }
  }
  return y;
}

inline sim_tensor linear_step(const recipe_layer& l, const sim_tensor& input) {
  const sim_tensor x = materialized(input);
  const std::size_t k = x.shape.size(), o_n = l.weights.out_channels;
  sim_tensor y{x.batch, {o_n, 1, 1}, std::vector<double>(x.batch * o_n), l.out.grid};
  for (std::size_t b = 0; b < x.batch; ++b) {
    for (std::size_t o = 0; o < o_n; ++o) {
      double acc = 0;
      for (std::size_t i = 0; i < k; ++i) acc += x.values[b * k + i] * weight_real(l.weights, o, o * k + i);
      y.values[b * o_n + o] = output_of(l.out, o, acc);
    }
  }
  return y;
}

inline sim_tensor pool_step(const recipe_layer& l, const sim_tensor& x) {
  const tensor_shape& s = x.shape;
  const std::size_t k = l.pool_kernel, st = l.pool_stride;
  const std::size_t oh_n = (s.height - k) / st + 1, ow_n = (s.width - k) / st + 1;
  sim_tensor y{x.batch, {s.channels, oh_n, ow_n}, std::vector<double>(x.batch * s.channels * oh_n * ow_n), x.pending};
  for (std::size_t p = 0; p < x.batch * s.channels; ++p) {
    for (std::size_t oh = 0; oh < oh_n; ++oh) {
      for (std::size_t ow = 0; ow < ow_n; ++ow) {
        double m = -1e300;
        for (std::size_t r = 0; r < k; ++r) {
          for (std::size_t q = 0; q < k; ++q) m = std::max(m, x.values[(p * s.height + oh * st + r) * s.width + ow * st + q]);
        }
        y.values[(p * oh_n + oh) * ow_n + ow] = m;
      }
    }
  }
  return y;
}

/// Layer `l` on `x` (the input layer: on the images).
inline sim_tensor step(const recipe_layer& l, const sim_tensor& x, const float* images = nullptr) {
  switch (l.kind) {
    case layer_kind::input: return from_codes(input_codes(l, images, x.batch), x.batch, l.shape, l.grid);
    case layer_kind::conv2d: return conv2d_step(l, x);
    case layer_kind::linear: return linear_step(l, x);
    case layer_kind::max_pool2d: return pool_step(l, x);
    case layer_kind::flatten: {
      sim_tensor y = x;
      y.shape = {x.shape.size(), 1, 1};
      return y;
    }
  }
  return x;
}

/// The whole recipe on a batch of images: the last layer's real outputs (the logits).
inline sim_tensor simulate(const recipe& r, const float* images, std::size_t batch) {
  sim_tensor x;
  x.batch = batch;
  for (const recipe_layer& l : r) x = step(l, x, images);
  return x;
}

/// NHWC codes (as the model's observer sees them) in N C H W order.
inline std::vector<std::uint8_t> nchw_of(const layer_codes& seen) {
  const tensor_shape& s = seen.shape;
  const std::size_t plane = s.height * s.width;
  std::vector<std::uint8_t> out(seen.batch * s.size());
  for (std::size_t b = 0; b < seen.batch; ++b) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      for (std::size_t p = 0; p < plane; ++p) out[(b * s.channels + c) * plane + p] = seen.codes[(b * plane + p) * s.channels + c];
    }
  }
  return out;
}

// ---- random recipes -------------------------------------------------------------------------

/// Bits and zero-point choices for one recipe.
struct bit_config {
  std::vector<int> weight_bits;      // per weighted layer
  std::vector<int> activation_bits;  // the input grid, then each hidden weighted layer's output grid
};

inline float uniform(test::rng& r, float lo, float hi) {
  return lo + (hi - lo) * static_cast<float>(r.next() >> 40) * (1.0f / 16777216.0f);
}

/// Images of pixel-like values k / 255, N x shape.
inline std::vector<float> random_images(std::size_t batch, const tensor_shape& shape, std::uint64_t seed) {
  test::rng r(seed);
  std::vector<float> x(batch * shape.size());
  for (float& v : x) v = static_cast<float>(r.below(256)) / 255.0f;
  return x;
}

/// Random weights: W1 is binary +-1 (symmetric zero point 0.5); wider weights alternate between
/// signed (zero point 2^(b-1)) and symmetric ((2^b - 1) / 2) grids; per-channel scales.
inline layer_weights random_weights(test::rng& r, std::size_t out_channels, std::size_t k, int bits, std::size_t layer) {
  layer_weights w;
  w.out_channels = out_channels;
  w.bits = bits;
  w.codes.resize(out_channels * k);
  for (auto& c : w.codes) c = static_cast<std::uint8_t>(r.below(1u << bits));
  const float levels = static_cast<float>(max_code(bits));
  const float zero = bits == 1 || layer % 2 == 1 ? levels / 2.0f : static_cast<float>(1u << (bits - 1));
  for (std::size_t o = 0; o < out_channels; ++o) {
    w.scale.push_back(uniform(r, 0.5f, 1.5f) / (levels * std::sqrt(static_cast<float>(k))));
    w.zero_point.push_back(zero);
  }
  return w;
}

/// Output multipliers like folded batch norm: magnitudes 0.5..1.5, about a third negative, and
/// (with `zero_channel`) channel 1 exactly 0.
inline std::vector<float> random_multipliers(test::rng& r, std::size_t n, bool zero_channel) {
  std::vector<float> m(n);
  for (std::size_t o = 0; o < n; ++o) m[o] = uniform(r, 0.5f, 1.5f) * (r.below(3) == 0 ? -1.0f : 1.0f);
  if (zero_channel && n > 1) m[1] = 0.0f;
  return m;
}

// Adds a weighted layer to `r`, calibrating its bias and (if hidden) its output grid on the
// simulated batch `state`, which it then advances.
inline void add_weighted(recipe& rec, sim_tensor& state, test::rng& r, recipe_layer l, int w_bits,
                         std::optional<int> out_bits, bool relu, bool integer_zero_point, bool zero_channel) {
  const std::size_t o_n = l.weights.out_channels;
  const std::size_t k = l.kind == layer_kind::conv2d ? state.shape.channels * l.geometry.kernel_h * l.geometry.kernel_w
                                                     : state.shape.size();
  l.weights = random_weights(r, o_n, k, w_bits, rec.size());
  l.out.multiplier = random_multipliers(r, o_n, zero_channel);
  l.out.bias.clear();
  l.out.relu = false;
  l.out.grid.reset();
  const sim_tensor raw = step(l, state);  // without bias and ReLU: calibrates both
  double rms = 0;
  for (double v : raw.values) rms += v * v;
  rms = std::sqrt(rms / static_cast<double>(raw.values.size())) + 1e-3;
  for (std::size_t o = 0; o < o_n; ++o) l.out.bias.push_back(uniform(r, -0.5f, 0.5f) * static_cast<float>(rms));
  l.out.relu = relu;
  if (out_bits) {
    const sim_tensor y = step(l, state);
    double lo = 0, hi = 0;
    for (double v : y.values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    activation_grid g;
    g.bits = *out_bits;
    const float levels = static_cast<float>(max_code(g.bits));
    // Cover most of the range (a little clipping, as calibrated grids do), with a scale that is
    // not a round number.
    g.scale = static_cast<float>(hi - lo) / levels * uniform(r, 0.8f, 0.95f) + 1e-6f;
    g.zero_point = relu ? 0.0f : std::round(static_cast<float>(-lo) / g.scale);
    if (!integer_zero_point) g.zero_point += 0.5f;
    g.zero_point = std::min(g.zero_point, levels);
    l.out.grid = g;
  }
  state = step(l, state);
  rec.push_back(l);
}

/// conv3x3(pad 1) - pool 2 - conv3x3(no pad) - pool(2, stride 1) - flatten - linear(10), on
/// 2 x 10 x 10 images. Hidden grids: ReLU (zero point 0) after conv1, none after conv2 (signed,
/// a half-integer zero point: the linear layer needs no padding code).
inline recipe random_cnn(const bit_config& bits, const std::vector<float>& images, std::size_t batch, std::uint64_t seed,
                         bool zero_channel = false) {
  test::rng r(seed);
  recipe rec;
  recipe_layer in;
  in.kind = layer_kind::input;
  in.shape = {2, 10, 10};
  in.mean = {0.3f};
  in.stddev = {0.35f};
  const int a0 = bits.activation_bits[0];
  in.grid = {uniform(r, 2.8f, 3.0f) / static_cast<float>(max_code(a0)), std::round(0.3f * static_cast<float>(max_code(a0))),
             a0};
  rec.push_back(in);
  sim_tensor state = step(in, sim_tensor{batch, {}, {}, std::nullopt}, images.data());
  recipe_layer conv;
  conv.kind = layer_kind::conv2d;
  conv.geometry = {3, 3, 1, 1};
  conv.weights.out_channels = 6;
  add_weighted(rec, state, r, conv, bits.weight_bits[0], bits.activation_bits[1], true, true, zero_channel);
  recipe_layer pool;
  pool.kind = layer_kind::max_pool2d;
  rec.push_back(pool);
  state = step(pool, state);
  conv.geometry = {3, 3, 1, 0};
  conv.weights.out_channels = 8;
  add_weighted(rec, state, r, conv, bits.weight_bits[1], bits.activation_bits[2], false, false, false);
  pool.pool_stride = 1;
  rec.push_back(pool);
  state = step(pool, state);
  recipe_layer flat;
  flat.kind = layer_kind::flatten;
  rec.push_back(flat);
  state = step(flat, state);
  recipe_layer fc;
  fc.kind = layer_kind::linear;
  fc.weights.out_channels = 10;
  add_weighted(rec, state, r, fc, bits.weight_bits[2], std::nullopt, false, true, false);
  return rec;
}

/// flatten - linear(24, ReLU) - linear(16, ReLU) - linear(5) on 1 x 6 x 6 images, normalised
/// per feature, with a fractional input zero point.
inline recipe random_mlp(const bit_config& bits, const std::vector<float>& images, std::size_t batch, std::uint64_t seed) {
  test::rng r(seed);
  recipe rec;
  recipe_layer in;
  in.kind = layer_kind::input;
  in.shape = {1, 6, 6};
  for (std::size_t i = 0; i < in.shape.size(); ++i) {
    in.mean.push_back(uniform(r, 0.3f, 0.6f));
    in.stddev.push_back(uniform(r, 0.2f, 0.4f));
  }
  const int a0 = bits.activation_bits[0];
  in.grid = {uniform(r, 4.0f, 4.4f) / static_cast<float>(max_code(a0)),
             std::floor(0.5f * static_cast<float>(max_code(a0))) + 0.5f, a0};
  rec.push_back(in);
  sim_tensor state = step(in, sim_tensor{batch, {}, {}, std::nullopt}, images.data());
  recipe_layer flat;
  flat.kind = layer_kind::flatten;
  rec.push_back(flat);
  state = step(flat, state);
  recipe_layer fc;
  fc.kind = layer_kind::linear;
  const std::size_t widths[] = {24, 16, 5};
  for (std::size_t i = 0; i < 3; ++i) {
    fc.weights.out_channels = widths[i];
    const bool last = i == 2;
    add_weighted(rec, state, r, fc, bits.weight_bits[i], last ? std::nullopt : std::optional<int>(bits.activation_bits[i + 1]),
                 !last, true, i == 0);
  }
  return rec;
}

/// conv3x3(stride 2, pad 1, ReLU) - conv2x2(stride 2): float logits of 4 x 2 x 2 per image (a last
/// conv2d), on 3 x 7 x 7 images normalised per channel.
inline recipe random_conv_head(const bit_config& bits, const std::vector<float>& images, std::size_t batch,
                               std::uint64_t seed) {
  test::rng r(seed);
  recipe rec;
  recipe_layer in;
  in.kind = layer_kind::input;
  in.shape = {3, 7, 7};
  in.mean = {0.2f, 0.5f, 0.4f};
  in.stddev = {0.3f, 0.25f, 0.35f};
  const int a0 = bits.activation_bits[0];
  in.grid = {uniform(r, 4.0f, 4.4f) / static_cast<float>(max_code(a0)), std::round(0.4f * static_cast<float>(max_code(a0))),
             a0};
  rec.push_back(in);
  sim_tensor state = step(in, sim_tensor{batch, {}, {}, std::nullopt}, images.data());
  recipe_layer conv;
  conv.kind = layer_kind::conv2d;
  conv.geometry = {3, 3, 2, 1};
  conv.weights.out_channels = 5;
  add_weighted(rec, state, r, conv, bits.weight_bits[0], bits.activation_bits[1], true, true, false);
  conv.geometry = {2, 2, 2, 0};
  conv.weights.out_channels = 4;
  add_weighted(rec, state, r, conv, bits.weight_bits[1], std::nullopt, false, true, false);
  return rec;
}

}  // namespace anybit::deploy_test
