// anybit/nn/quantizer.hpp — a quantizer policy as a module: owns the policy's parameters (one
// flat parameter in the policy's parameter_arrays() order), initialises them from the first
// tensor it sees, and records the tape's fake_quant op.
//
// `quantizer_spec` says which policy, at how many bits; `make_quantizer` builds the module for a
// weight tensor (per output channel or per tensor) or for activations (per tensor). Quantizer
// parameters are named "<layer>.<role>_quantizer.params" so trainers can give them their own
// optimizer group.
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "anybit/autograd/quantizer_op.hpp"
#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"
#include "anybit/quant/ddq.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/lsq.hpp"
#include "anybit/quant/lsq_plus.hpp"
#include "anybit/quant/nested.hpp"
#include "anybit/quant/pact.hpp"
#include "anybit/quant/uniform.hpp"

namespace anybit::nn {

enum class quant_method { none, uniform, lsq, lsq_plus, pact, ddq, nested };

inline const char* quant_method_name(quant_method m) {
  switch (m) {
    case quant_method::none: return "none";
    case quant_method::uniform: return "uniform";
    case quant_method::lsq: return "lsq";
    case quant_method::lsq_plus: return "lsq_plus";
    case quant_method::pact: return "pact";
    case quant_method::ddq: return "ddq";
    case quant_method::nested: return "nested";
  }
  return "unknown";
}

/// Which quantizer a tensor gets. `bits` is the width (DDQ: the most it may learn, K).
struct quantizer_spec {
  quant_method method = quant_method::none;
  int bits = 8;
  bool per_channel = true;   // weights only; activations are always per tensor
  float pact_alpha = 10.0f;  // PACT's initial clip; 0 < percentile <= 100 initialises from data instead
  float pact_percentile = 99.9f;
  /// Calibrate again from every tensor seen in training mode, not only the first: weights under
  /// a calibrated (uniform) quantizer follow the weights as they train, as DoReFa's do.
  bool recalibrate = false;
  /// DDQ's initial gate logits: all bits kept, 1 away from the threshold at 0, so that gradient
  /// noise alone does not flip gates in the first steps (DGConv starts at -1e-8 under SGD).
  float ddq_init_theta = -1.0f;
};

/// A policy behind the module's uniform face: the tape's quantizer_op plus what export needs.
/// Its flat parameters are the module's stored form (scales as logarithms, see below).
class policy_handle : public quantizer_op {
 public:
  virtual std::size_t parameter_count() const = 0;
  virtual bool learned() const = 0;
  virtual void initialize(const float* x, std::size_t n, float* params) const = 0;
  virtual affine_grid grid(const float* params, std::size_t channel) const = 0;
};

namespace internal {

// Which parameter arrays are scales (steps, clips): they must stay > 0 and span orders of
// magnitude (an 8-bit weight step is ~1e-4, a 2-bit activation step ~1), so the module stores
// their logarithm. Adam's nearly constant update size then moves every scale by a similar
// fraction instead of by a similar amount, and no update can make one negative.
inline bool is_scale_array(const lsq_quantizer&, std::size_t i) { return i == 0; }       // step
inline bool is_scale_array(const lsq_plus_quantizer&, std::size_t i) { return i == 0; }  // step (not offset)
inline bool is_scale_array(const pact_quantizer&, std::size_t i) { return i == 0; }      // alpha
inline bool is_scale_array(const ddq_quantizer&, std::size_t i) { return i == 1; }       // d (not alpha, theta)
inline bool is_scale_array(const nested_quantizer&, std::size_t i) { return i == 0; }    // steps
inline bool is_scale_array(const uniform_quantizer&, std::size_t) { return false; }      // calibrated, not trained

// Splits the flat parameter array into the policy's arrays and calls its functions with them,
// converting the stored log-scales to scales on the way in and chaining their gradients
// (dL/dlog s = s dL/ds) on the way out.
template <class Policy>
class policy_adapter final : public policy_handle {
  static constexpr std::size_t arity = std::tuple_size<decltype(std::declval<Policy>().parameter_arrays())>::value;
  static constexpr bool has_gradients = !std::is_same<Policy, uniform_quantizer>::value;  // calibrated only

 public:
  explicit policy_adapter(Policy p) : policy_(p) {
    const auto arrays = policy_.parameter_arrays();
    std::size_t at = 0;
    for (std::size_t i = 0; i < arity; ++i) {
      offsets_[i] = at;
      at += arrays[i].size;
      for (std::size_t j = offsets_[i]; j < at; ++j) scale_.push_back(is_scale_array(policy_, i));
    }
  }

  const Policy& policy() const noexcept { return policy_; }
  std::size_t parameter_count() const override { return scale_.size(); }
  std::size_t channels() const override { return channels_of(policy_); }
  bool learned() const override { return has_gradients; }

  void forward(const float* x, std::size_t n, const float* params, float* y) const override {
    const std::vector<float> p = natural(params);
    forward_with(x, n, p.data(), y, std::make_index_sequence<arity>{});
  }
  void backward(const float* x, const float* dy, std::size_t n, const float* params, float* dx,
                float* dparams) const override {
    const std::vector<float> p = natural(params);
    std::vector<float> dp(p.size(), 0.0f);
    backward_with(x, dy, n, p.data(), dx, dp.data(), std::make_index_sequence<arity>{});
    for (std::size_t i = 0; i < p.size(); ++i) dparams[i] += scale_[i] ? dp[i] * p[i] : dp[i];
  }
  void initialize(const float* x, std::size_t n, float* params) const override {
    initialize_with(x, n, params, std::make_index_sequence<arity>{});
    for (std::size_t i = 0; i < scale_.size(); ++i) {
      if (scale_[i]) params[i] = std::log(params[i]);
    }
  }
  affine_grid grid(const float* params, std::size_t channel) const override {
    const std::vector<float> p = natural(params);
    return grid_with(p.data(), channel, std::make_index_sequence<arity>{});
  }

 private:
  std::vector<float> natural(const float* params) const {
    std::vector<float> p(params, params + scale_.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (scale_[i]) p[i] = std::exp(p[i]);
    }
    return p;
  }

  template <class P>
  static auto channels_of(const P& p) -> decltype(p.channels) {
    return p.channels;
  }
  static std::size_t channels_of(const pact_quantizer&) { return 1; }

  template <std::size_t... I>
  void forward_with(const float* x, std::size_t n, const float* params, float* y, std::index_sequence<I...>) const {
    policy_.forward(x, n, (params + offsets_[I])..., y);
  }
  template <std::size_t... I>
  void backward_with(const float* x, const float* dy, std::size_t n, const float* params, float* dx, float* dparams,
                     std::index_sequence<I...>) const {
    if constexpr (has_gradients) {
      policy_.backward(x, dy, n, (params + offsets_[I])..., dx, (dparams + offsets_[I])...);
    } else {
      (void)dparams;
      policy_.backward(x, dy, n, (params + offsets_[I])..., dx);
    }
  }
  template <std::size_t... I>
  void initialize_with(const float* x, std::size_t n, float* params, std::index_sequence<I...>) const {
    policy_.initialize(x, n, (params + offsets_[I])...);
  }
  template <std::size_t... I>
  affine_grid grid_with(const float* params, std::size_t channel, std::index_sequence<I...>) const {
    return policy_.grid((params + offsets_[I])..., channel);
  }

  Policy policy_;
  std::size_t offsets_[arity] = {};
  std::vector<bool> scale_;  // per flat parameter: stored as its logarithm
};

}  // namespace internal

/// A quantizer module: forward(t, x) = fake_quant(x). Its parameters are initialised from the
/// first tensor it quantizes (weights: the weights; activations: the first batch), unless they
/// were loaded from a parameter file.
class quantizer : public module {
 public:
  quantizer(std::unique_ptr<policy_handle> policy, std::string description, bool recalibrate = false)
      : policy_(std::move(policy)), description_(std::move(description)), recalibrate_(recalibrate) {
    params_ = parameter(dense_tensor(dense_shape{policy_->parameter_count()}));
    params_.requires_grad = policy_->learned();
    register_parameter("params", params_);
    register_buffer("initialized", initialized_);
  }

  var forward(tape& t, var x) override {
    if (!initialized() || (recalibrate_ && training())) {
      const dense_view v = t.value(x);
      policy_->initialize(v.data(), v.size(), params_.value.data());
      initialized_[0] = 1.0f;
    }
    return fake_quant(x, t.param(params_), *policy_);
  }

  std::string describe() const override { return description_; }

  bool initialized() const { return initialized_[0] != 0.0f; }
  /// The grid of one channel at the current parameters: what export packs and runs.
  affine_grid grid(std::size_t channel = 0) const { return policy_->grid(params_.value.data(), channel); }
  int bits() const { return grid(0).bits; }
  std::size_t channels() const { return policy_->channels(); }
  const policy_handle& policy() const noexcept { return *policy_; }
  parameter& params() noexcept { return params_; }

 private:
  std::unique_ptr<policy_handle> policy_;
  std::string description_;
  bool recalibrate_;
  parameter params_;
  dense_tensor initialized_{dense_shape{1}};
};

/// Role of the quantized tensor: weights of `channels` output channels, `count` values each, or
/// activations with `count` features per sample.
enum class quantized_tensor { weights, activations };

/// The quantizer for spec, or null for quant_method::none. Weights use signed codes (symmetric
/// at 1 bit: binary +-s/2), activations unsigned codes (they follow a ReLU), except uniform
/// activations, which calibrate an integer zero point for any sign (the network's input).
inline std::unique_ptr<quantizer> make_quantizer(const quantizer_spec& spec, quantized_tensor role,
                                                 std::size_t channels, std::size_t count) {
  const bool weights = role == quantized_tensor::weights;
  const std::size_t groups = weights && spec.per_channel ? channels : 1;
  const code_range range = !weights ? code_range::unsigned_codes
                           : spec.bits == 1 ? code_range::symmetric
                                            : code_range::signed_codes;
  const std::string what = detail::message(quant_method_name(spec.method), "(", spec.bits, " bits, ",
                                           weights ? (groups > 1 ? "per channel" : "per tensor") : "activations", ")");
  const auto wrap = [&](auto policy) {
    using P = decltype(policy);
    return std::make_unique<quantizer>(std::make_unique<internal::policy_adapter<P>>(policy), what, spec.recalibrate);
  };
  const dynamic_bits bits(spec.bits);
  switch (spec.method) {
    case quant_method::none: return nullptr;
    case quant_method::uniform: return wrap(make_uniform(bits, groups));
    case quant_method::lsq: return wrap(make_lsq(bits, range, groups, count));
    case quant_method::lsq_plus: return wrap(make_lsq_plus(bits, range, groups, count));
    case quant_method::nested: return wrap(make_nested(bits, range, groups, count));
    case quant_method::pact: {
      if (weights) throw error("anybit: PACT quantizes activations, expected another method for weights");
      pact_quantizer p = make_pact(bits, spec.pact_alpha);
      p.init_percentile = spec.pact_percentile;
      return wrap(p);
    }
    case quant_method::ddq: {
      ddq_quantizer d = make_ddq(bits, groups, weights ? ddq_init::weights : ddq_init::activations);
      d.init_theta = spec.ddq_init_theta;
      return wrap(d);
    }
  }
  throw error(detail::message("anybit: quant_method value ", static_cast<int>(spec.method), ", expected one of the enum"));
}

}  // namespace anybit::nn
