// anybit/nn/conv2d.hpp — the 2-D convolution layer over NCHW input (OIHW weights).
//
// The tape's conv2d op does the work (im2col + float_gemm); this layer owns the weight and the
// optional bias, checks the channel count, and initialises with Kaiming (fan-in C * KH * KW).
// A convolution followed by batch norm needs no bias: the norm's shift replaces it.
#pragma once

#include <cstddef>
#include <string>

#include "anybit/autograd/ops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/nn/init.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

struct conv2d_options {
  std::size_t kernel = 3;   // square kernel_size x kernel_size
  std::size_t stride = 1;
  std::size_t padding = 0;  // zeros on every side
  bool bias = true;
  kaiming_distribution init = kaiming_distribution::normal;
};

class conv2d : public module {
 public:
  conv2d(std::size_t in_channels, std::size_t out_channels, const conv2d_options& options, xoshiro256ss& rng)
      : in_(in_channels), out_(out_channels), options_(options) {
    if (in_channels == 0 || out_channels == 0 || options.kernel == 0 || options.stride == 0) {
      throw shape_error(detail::message("anybit: conv2d layer ", in_channels, " -> ", out_channels, " channels, kernel ",
                                        options.kernel, ", stride ", options.stride,
                                        ", expected channels, kernel and stride of at least 1"));
    }
    weight_ = parameter(dense_tensor(dense_shape{out_channels, in_channels, options.kernel, options.kernel}));
    kaiming_init(weight_.value, rng, options.init);
    register_parameter("weight", weight_);
    if (options_.bias) {
      bias_ = parameter(dense_tensor(dense_shape{out_channels}));
      register_parameter("bias", bias_);
    }
  }

  /// x is N x in_channels x H x W; returns N x out_channels x OH x OW.
  var forward(tape& t, var x) override {
    const dense_shape& s = t.shape(x);
    if (s.rank() != 4 || s[1] != in_) {
      throw shape_error(detail::message("anybit: ", describe(), " got input of shape ", s, ", expected N x ", in_,
                                        " x H x W"));
    }
    const conv2d_settings settings{options_.stride, options_.padding};
    const var in = layer_input(t, x), w = layer_weight(t);
    return options_.bias ? anybit::conv2d(in, w, t.param(bias_), settings) : anybit::conv2d(in, w, settings);
  }

  std::string describe() const override {
    return detail::message("conv2d(", in_, " -> ", out_, ", ", options_.kernel, "x", options_.kernel, ", stride ",
                           options_.stride, ", padding ", options_.padding, options_.bias ? "" : ", no bias", ")");
  }

  parameter& weight() noexcept { return weight_; }
  const conv2d_options& options() const noexcept { return options_; }
  std::size_t in_channels() const noexcept { return in_; }
  std::size_t out_channels() const noexcept { return out_; }
  /// The bias; throws if the layer has none.
  parameter& bias() {
    if (!options_.bias) throw error(detail::message("anybit: ", describe(), " has no bias"));
    return bias_;
  }

 protected:
  // What the convolution sees: a quantized layer (qconv2d) fake-quantizes both.
  virtual var layer_input(tape&, var x) { return x; }
  virtual var layer_weight(tape& t) { return t.param(weight_); }

 private:
  std::size_t in_, out_;
  conv2d_options options_;
  parameter weight_, bias_;
};

}  // namespace anybit::nn
