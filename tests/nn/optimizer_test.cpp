// Optimizers against closed forms worked by hand on f(p) = c/2 * p^2 (gradient c * p), and
// against an independent double-precision recurrence written from PyTorch's documented update
// rules; parameter groups, frozen parameters and argument checks.
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/sgd.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

parameter scalar_parameter(float value) { return parameter(dense_tensor(dense_shape{1}, {value})); }

/// grad = c * p for every element (the quadratic's gradient), replacing what was there.
void quadratic_gradient(parameter& p, double c) {
  for (std::size_t i = 0; i < p.value.size(); ++i) p.grad[i] = static_cast<float>(c * p.value[i]);
}

}  // namespace

TEST_CASE("SGD without momentum: p <- p - lr * (grad + wd * p), checked by hand") {
  parameter p = scalar_parameter(1.0f);
  nn::sgd_options o;
  o.lr = 0.1f;
  o.weight_decay = 0.5f;
  nn::sgd opt(std::vector<parameter*>{&p}, o);
  // f = p^2 / 2: g = p, so p_{t+1} = p_t (1 - 0.1 (1 + 0.5)) = 0.85 p_t.
  const double expected[] = {0.85, 0.7225, 0.614125};
  for (const double e : expected) {
    quadratic_gradient(p, 1.0);
    opt.step();
    CHECK(p.value[0] == doctest::Approx(e).epsilon(1e-6));
  }
  CHECK(opt.steps() == 3);
}

TEST_CASE("SGD momentum: the buffer starts as the first gradient (hand-computed 0.9, 0.72, 0.486)") {
  parameter p = scalar_parameter(1.0f);
  nn::sgd_options o;
  o.lr = 0.1f;
  o.momentum = 0.9f;
  nn::sgd opt(std::vector<parameter*>{&p}, o);
  // g=1, b=1, p=0.9; g=0.9, b=1.8, p=0.72; g=0.72, b=2.34, p=0.486.
  const double expected[] = {0.9, 0.72, 0.486};
  for (const double e : expected) {
    quadratic_gradient(p, 1.0);
    opt.step();
    CHECK(p.value[0] == doctest::Approx(e).epsilon(1e-6));
  }
}

TEST_CASE("SGD Nesterov: p <- p - lr * (g + momentum * b), hand-computed 0.81, 0.5751") {
  parameter p = scalar_parameter(1.0f);
  nn::sgd_options o;
  o.lr = 0.1f;
  o.momentum = 0.9f;
  o.nesterov = true;
  nn::sgd opt(std::vector<parameter*>{&p}, o);
  // g=1, b=1, d=1.9, p=0.81; g=0.81, b=1.71, d=2.349, p=0.5751.
  quadratic_gradient(p, 1.0);
  opt.step();
  CHECK(p.value[0] == doctest::Approx(0.81).epsilon(1e-6));
  quadratic_gradient(p, 1.0);
  opt.step();
  CHECK(p.value[0] == doctest::Approx(0.5751).epsilon(1e-6));
}

TEST_CASE("SGD momentum with dampening and weight decay matches the documented recurrence in double") {
  std::vector<double> p0 = {1.5, -0.25, 3.0};
  parameter p(dense_tensor(dense_shape{3}, {1.5f, -0.25f, 3.0f}));
  nn::sgd_options o;
  o.lr = 0.05f;
  o.momentum = 0.8f;
  o.dampening = 0.3f;
  o.weight_decay = 0.01f;
  nn::sgd opt(std::vector<parameter*>{&p}, o);
  const double c = 2.0;
  std::vector<double> ref = p0, buf(3, 0.0);
  for (int t = 0; t < 10; ++t) {
    quadratic_gradient(p, c);
    opt.step();
    for (std::size_t i = 0; i < 3; ++i) {
      const double g = c * ref[i] + 0.01 * ref[i];
      buf[i] = t == 0 ? g : 0.8 * buf[i] + 0.7 * g;
      ref[i] -= 0.05 * buf[i];
    }
  }
  for (std::size_t i = 0; i < 3; ++i) CHECK(p.value[i] == doctest::Approx(ref[i]).epsilon(1e-5));
}

TEST_CASE("Adam: the first step moves every coordinate by lr * g / (|g| + eps), i.e. lr * sign(g)") {
  parameter p(dense_tensor(dense_shape{3}, {2.0f, -1.0f, 0.5f}));
  nn::adam_options o;
  o.lr = 0.01f;
  nn::adam opt(std::vector<parameter*>{&p}, o);
  quadratic_gradient(p, 3.0);  // gradients 6, -3, 1.5
  opt.step();
  // m_hat = g and v_hat = g^2 after bias correction: the step is lr * g / (|g| + 1e-8).
  CHECK(p.value[0] == doctest::Approx(2.0 - 0.01).epsilon(1e-6));
  CHECK(p.value[1] == doctest::Approx(-1.0 + 0.01).epsilon(1e-6));
  CHECK(p.value[2] == doctest::Approx(0.5 - 0.01).epsilon(1e-6));
}

TEST_CASE("Adam with L2 weight decay and AdamW with decoupled decay follow their definitions for 20 steps") {
  for (const bool decoupled : {false, true}) {
    CAPTURE(decoupled);
    parameter p(dense_tensor(dense_shape{2}, {1.0f, -2.0f}));
    nn::adam_options o;
    o.lr = 0.05f;
    o.beta1 = 0.8f;
    o.beta2 = 0.95f;
    o.eps = 1e-3f;
    o.weight_decay = 0.1f;
    std::unique_ptr<nn::adam> opt = decoupled ? std::make_unique<nn::adamw>(std::vector<parameter*>{&p}, o)
                                              : std::make_unique<nn::adam>(std::vector<parameter*>{&p}, o);
    std::vector<double> ref = {1.0, -2.0}, m(2, 0.0), v(2, 0.0);
    for (int t = 1; t <= 20; ++t) {
      quadratic_gradient(p, 0.5);
      opt->step();
      for (std::size_t i = 0; i < 2; ++i) {
        double g = 0.5 * ref[i];
        if (decoupled) {
          ref[i] *= 1.0 - 0.05 * 0.1;
        } else {
          g += 0.1 * ref[i];
        }
        m[i] = 0.8 * m[i] + 0.2 * g;
        v[i] = 0.95 * v[i] + 0.05 * g * g;
        const double m_hat = m[i] / (1.0 - std::pow(0.8, t)), v_hat = v[i] / (1.0 - std::pow(0.95, t));
        ref[i] -= 0.05 * m_hat / (std::sqrt(v_hat) + 1e-3);
      }
      for (std::size_t i = 0; i < 2; ++i) CHECK(p.value[i] == doctest::Approx(ref[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("AdamW with a zero gradient only shrinks: p_t = p_0 (1 - lr wd)^t") {
  parameter p = scalar_parameter(4.0f);
  nn::adam_options o;
  o.lr = 0.1f;
  o.weight_decay = 0.5f;
  nn::adamw opt(std::vector<parameter*>{&p}, o);
  for (int t = 1; t <= 5; ++t) {
    p.zero_grad();
    opt.step();
    CHECK(p.value[0] == doctest::Approx(4.0 * std::pow(0.95, t)).epsilon(1e-6));
  }
}

TEST_CASE("Adam minimises a quadratic through the tape: loss 0.5 * sum(c * p^2) goes to ~0") {
  parameter p(dense_tensor(dense_shape{4}, {1.0f, -2.0f, 0.5f, 3.0f}));
  const dense_tensor c(dense_shape{4}, {1.0f, 2.0f, 0.5f, 4.0f});
  nn::adam_options o;
  o.lr = 0.05f;
  nn::adam opt(std::vector<parameter*>{&p}, o);
  tape t;
  float first = 0, last = 0;
  for (int step = 0; step < 400; ++step) {
    t.clear();
    opt.zero_grad();
    const var vp = t.param(p);
    const var loss = 0.5f * sum(t.input(c) * vp * vp);
    t.backward(loss);
    if (step == 0) first = t.item(loss);
    last = t.item(loss);
    // The tape's gradient is the closed form c * p.
    if (step == 0) {
      for (std::size_t i = 0; i < 4; ++i) CHECK(p.grad[i] == doctest::Approx(c[i] * p.value[i]).epsilon(1e-6));
    }
    opt.step();
  }
  CHECK(first == doctest::Approx(0.5 * (1 + 8 + 0.125 + 36)).epsilon(1e-6));
  CHECK(last < 1e-4f * first);
}

TEST_CASE("parameter groups: each group steps with its own learning rate and weight decay") {
  parameter a = scalar_parameter(1.0f), b = scalar_parameter(1.0f), frozen = scalar_parameter(1.0f);
  frozen.requires_grad = false;
  std::vector<nn::param_group> groups(2);
  groups[0].params = {&a, &frozen};
  groups[1].params = {&b};
  groups[1].lr = 0.5f;
  groups[1].weight_decay = 1.0f;
  nn::sgd_options o;
  o.lr = 0.1f;
  nn::sgd opt(groups, o);
  CHECK(opt.learning_rate(0) == doctest::Approx(0.1));
  CHECK(opt.learning_rate(1) == doctest::Approx(0.5));
  for (parameter* p : {&a, &b, &frozen}) quadratic_gradient(*p, 1.0);
  opt.step();
  CHECK(a.value[0] == doctest::Approx(0.9).epsilon(1e-6));       // 1 - 0.1 * 1
  CHECK(b.value[0] == doctest::Approx(0.0).epsilon(1e-6));       // 1 - 0.5 * (1 + 1)
  CHECK(frozen.value[0] == 1.0f);                                // requires_grad = false: untouched
  opt.set_learning_rate(0, 0.2f);
  quadratic_gradient(a, 1.0);
  opt.step();
  CHECK(a.value[0] == doctest::Approx(0.9 * 0.8).epsilon(1e-6));
  CHECK(opt.base_learning_rate(0) == doctest::Approx(0.1));
  opt.zero_grad();
  CHECK(a.grad[0] == 0.0f);
  CHECK(b.grad[0] == 0.0f);
}

TEST_CASE("optimizers reject bad hyperparameters and groups, naming the value") {
  parameter p = scalar_parameter(1.0f);
  nn::sgd_options bad_lr;
  bad_lr.lr = -1.0f;
  CHECK(test::thrown_message<error>([&] { nn::sgd(std::vector<parameter*>{&p}, bad_lr); }).find("-1") != std::string::npos);
  nn::sgd_options nesterov;
  nesterov.nesterov = true;
  CHECK(test::thrown_message<error>([&] { nn::sgd(std::vector<parameter*>{&p}, nesterov); }).find("Nesterov") != std::string::npos);
  nn::adam_options betas;
  betas.beta2 = 1.0f;
  CHECK(test::thrown_message<error>([&] { nn::adam(std::vector<parameter*>{&p}, betas); }).find("betas") != std::string::npos);
  CHECK(test::thrown_message<error>([&] { nn::adam(std::vector<parameter*>{&p, &p}, nn::adam_options{}); }).find("repeats") !=
        std::string::npos);
  CHECK(test::thrown_message<error>([&] { nn::adam(std::vector<parameter*>{nullptr}, nn::adam_options{}); }).find("null") != std::string::npos);
  nn::sgd opt(std::vector<parameter*>{&p}, nn::sgd_options{});
  CHECK_THROWS_AS(opt.set_learning_rate(0, std::nanf("")), error);
  CHECK(test::thrown_message<error>([&] { opt.set_learning_rate(3, 0.1f); }).find("group 3") != std::string::npos);
}
