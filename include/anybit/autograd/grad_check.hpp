// anybit/autograd/grad_check.hpp — checks backward() against central finite differences.
//
// For a scalar function f of tape vars, every element x_j of every input is moved by +-eps and
//     numeric_j = (f(x + h e_j) - f(x - h e_j)) / (2 h)
// is compared with the gradient backward() computed. The tape is float, so f is evaluated in
// float; the difference quotient is formed in double and divided by the step the float inputs
// actually took. An element passes when |analytic - numeric| <= abs_tolerance + rel_tolerance *
// max(|analytic|, |numeric|). Keep inputs away from kinks (ReLU at 0, max-pool ties): there the
// two sides legitimately disagree.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit {

struct grad_check_options {
  float eps = 1e-2f;           // step of the central difference, in input units
  double abs_tolerance = 1e-3;
  double rel_tolerance = 1e-2;
};

struct grad_check_result {
  bool passed = true;
  std::size_t checked = 0;   // elements compared
  std::size_t failures = 0;  // elements outside the tolerance
  // The element with the largest error / allowed error (infinity for NaN): > 1 means failed.
  double worst_ratio = 0;
  std::size_t worst_input = 0, worst_element = 0;
  double worst_analytic = 0, worst_numeric = 0;

  std::string summary() const {
    return detail::message("grad check: ", checked, " elements, ", failures, " outside tolerance; worst input ",
                           worst_input, " element ", worst_element, ": analytic ", worst_analytic, ", numeric ",
                           worst_numeric, " (error / allowed = ", worst_ratio, ")");
  }
};

/// Checks the gradient of `f(tape&, const std::vector<var>& xs) -> var` (a one-element var) with
/// respect to each of `inputs` (recorded as requires_grad inputs, in order). f may also use
/// parameters and constants; to check a parameter's gradient, pass its value as an input.
template <class Function>
grad_check_result check_gradients(Function&& f, const std::vector<dense_tensor>& inputs, gemm_context& ctx,
                                  const grad_check_options& options = {}) {
  tape t(ctx);
  std::vector<var> xs;
  for (const dense_tensor& x : inputs) xs.push_back(t.input(x, true));
  t.backward(f(t, static_cast<const std::vector<var>&>(xs)));
  std::vector<dense_tensor> analytic;
  for (const var x : xs) analytic.push_back(dense_tensor::from_view(t.grad(x)));

  std::vector<dense_tensor> probe = inputs;
  const auto evaluate = [&]() -> double {
    t.clear();
    const no_grad_guard no_grad(t);
    std::vector<var> vs;
    for (const dense_tensor& x : probe) vs.push_back(t.input(x));
    return static_cast<double>(t.item(f(t, static_cast<const std::vector<var>&>(vs))));
  };

  grad_check_result result;
  for (std::size_t i = 0; i < probe.size(); ++i) {
    for (std::size_t j = 0; j < probe[i].size(); ++j) {
      const float original = probe[i][j];
      probe[i][j] = original + options.eps;
      const double up_at = probe[i][j], up = evaluate();
      probe[i][j] = original - options.eps;
      const double down_at = probe[i][j], down = evaluate();
      probe[i][j] = original;
      const double numeric = (up - down) / (up_at - down_at);
      const double a = analytic[i][j];
      const double allowed = options.abs_tolerance + options.rel_tolerance * std::max(std::fabs(a), std::fabs(numeric));
      const double error_ratio = std::fabs(a - numeric) / allowed;
      const double ratio = std::isnan(error_ratio) ? std::numeric_limits<double>::infinity() : error_ratio;
      ++result.checked;
      if (ratio > 1.0) ++result.failures;
      if (result.checked == 1 || ratio > result.worst_ratio) {
        result.worst_ratio = ratio;
        result.worst_input = i;
        result.worst_element = j;
        result.worst_analytic = a;
        result.worst_numeric = numeric;
      }
    }
  }
  result.passed = result.failures == 0;
  return result;
}

/// The same on a one-thread GEMM context.
template <class Function>
grad_check_result check_gradients(Function&& f, const std::vector<dense_tensor>& inputs,
                                  const grad_check_options& options = {}) {
  gemm_context ctx;
  return check_gradients(std::forward<Function>(f), inputs, ctx, options);
}

}  // namespace anybit
