// nn modules: parameter and state names in a stable order, train/eval propagation, zero_grad,
// and each layer's forward pass against a direct computation in the test.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "anybit/nn/activation.hpp"
#include "anybit/nn/batch_norm.hpp"
#include "anybit/nn/conv2d.hpp"
#include "anybit/nn/linear.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/pooling.hpp"
#include "anybit/nn/sequential.hpp"
#include "support/dense_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

using test::random_tensor;

std::vector<std::string> names_of(nn::module& m) {
  std::vector<std::string> out;
  for (const auto& s : m.state()) out.push_back(s.name);
  return out;
}

}  // namespace

TEST_CASE("make_cnn names its parameters and state in a stable order and counts its parameters") {
  xoshiro256ss rng(1);
  auto model = nn::make_cnn(nn::cnn_spec{}, rng);
  std::vector<std::string> names;
  for (const auto& p : model->named_parameters()) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "4.weight", "5.weight", "5.bias",
                                          "9.weight", "9.bias"});
  CHECK(names_of(*model) == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "1.running_mean",
                                                     "1.running_var", "4.weight", "5.weight", "5.bias",
                                                     "5.running_mean", "5.running_var", "9.weight", "9.bias"});
  CHECK(model->parameter_count() == 32 * 9 + 2 * 32 + 64 * 32 * 9 + 2 * 64 + 3136 * 10 + 10);
  xoshiro256ss rng2(1);
  CHECK(nn::make_mlp({784, 256, 128, 10}, rng2)->parameter_count() == 784 * 256 + 256 + 256 * 128 + 128 + 1290);
}

TEST_CASE("train() and eval() reach every child; zero_grad clears every gradient") {
  xoshiro256ss rng(2);
  nn::sequential outer;
  auto& inner = outer.add<nn::sequential>();
  auto& bn = inner.add<nn::batch_norm1d>(3);
  auto& fc = outer.add<nn::linear>(3, 2, rng);
  CHECK(bn.training());
  outer.eval();
  CHECK_FALSE(bn.training());
  CHECK_FALSE(fc.training());
  outer.train();
  CHECK(bn.training());
  CHECK(names_of(outer) == std::vector<std::string>{"0.0.weight", "0.0.bias", "0.0.running_mean", "0.0.running_var",
                                                    "1.weight", "1.bias"});
  for (parameter* p : outer.parameters()) p->grad.fill(3.0f);
  outer.zero_grad();
  for (parameter* p : outer.parameters()) CHECK(std::all_of(p->grad.begin(), p->grad.end(), [](float g) { return g == 0; }));
}

TEST_CASE("linear computes x W^T + b as a direct triple loop does") {
  xoshiro256ss rng(3);
  nn::linear fc(5, 4, rng);
  fc.bias().value = random_tensor({4}, 9);
  const dense_tensor x = random_tensor({3, 5}, 10);
  tape t;
  const dense_view y = t.value(fc(t, t.input(x)));
  REQUIRE(y.shape() == dense_shape{3, 4});
  for (std::size_t n = 0; n < 3; ++n) {
    for (std::size_t o = 0; o < 4; ++o) {
      double expected = fc.bias().value[o];
      for (std::size_t i = 0; i < 5; ++i) expected += double{x.at(n, i)} * fc.weight().value.at(o, i);
      CHECK(y.at(n, o) == doctest::Approx(expected).epsilon(1e-5));
    }
  }
  CHECK(test::thrown_message<shape_error>([&] { fc(t, t.input(random_tensor({3, 6}, 1))); }).find("[3, 6]") !=
        std::string::npos);
  nn::linear no_bias(5, 4, rng, false);
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK_THROWS_AS(no_bias.bias(), error);
}

TEST_CASE("conv2d layer matches a direct convolution with padding and stride") {
  xoshiro256ss rng(4);
  nn::conv2d_options o;
  o.kernel = 3;
  o.stride = 2;
  o.padding = 1;
  nn::conv2d conv(2, 3, o, rng);
  conv.bias().value = random_tensor({3}, 11);
  const dense_tensor x = random_tensor({2, 2, 5, 5}, 12);
  tape t;
  const dense_view y = t.value(conv(t, t.input(x)));
  REQUIRE(y.shape() == dense_shape{2, 3, 3, 3});
  const dense_tensor& w = conv.weight().value;
  for (std::size_t n = 0; n < 2; ++n) {
    for (std::size_t oc = 0; oc < 3; ++oc) {
      for (std::size_t oh = 0; oh < 3; ++oh) {
        for (std::size_t ow = 0; ow < 3; ++ow) {
          double expected = conv.bias().value[oc];
          for (std::size_t c = 0; c < 2; ++c) {
            for (std::size_t kh = 0; kh < 3; ++kh) {
              for (std::size_t kw = 0; kw < 3; ++kw) {
                const long ih = static_cast<long>(oh * 2 + kh) - 1, iw = static_cast<long>(ow * 2 + kw) - 1;
                if (ih < 0 || iw < 0 || ih >= 5 || iw >= 5) continue;
                expected += double{w.at(oc, c, kh, kw)} * x.at(n, c, ih, iw);
              }
            }
          }
          CHECK(y.at(n, oc, oh, ow) == doctest::Approx(expected).epsilon(1e-5));
        }
      }
    }
  }
  CHECK(test::thrown_message<shape_error>([&] { conv(t, t.input(random_tensor({1, 3, 5, 5}, 1))); })
            .find("[1, 3, 5, 5]") != std::string::npos);
}

TEST_CASE("batch norm: training normalises per channel and moves running statistics; eval uses them") {
  nn::batch_norm2d bn(2);
  bn.weight().value = dense_tensor(dense_shape{2}, {2.0f, 0.5f});
  bn.bias().value = dense_tensor(dense_shape{2}, {0.1f, -0.3f});
  const dense_tensor x = random_tensor({4, 2, 3, 3}, 13);
  std::vector<double> mean(2, 0), var(2, 0);
  for (std::size_t c = 0; c < 2; ++c) {
    for (std::size_t n = 0; n < 4; ++n) {
      for (std::size_t s = 0; s < 9; ++s) mean[c] += x.at(n, c, s / 3, s % 3) / 36.0;
    }
    for (std::size_t n = 0; n < 4; ++n) {
      for (std::size_t s = 0; s < 9; ++s) var[c] += std::pow(x.at(n, c, s / 3, s % 3) - mean[c], 2) / 36.0;
    }
  }
  tape t;
  const dense_view y = t.value(bn(t, t.input(x)));
  for (std::size_t c = 0; c < 2; ++c) {
    const double g = bn.weight().value[c], b = bn.bias().value[c];
    for (std::size_t n = 0; n < 4; ++n) {
      const double expected = g * (x.at(n, c, 1, 2) - mean[c]) / std::sqrt(var[c] + 1e-5) + b;
      CHECK(y.at(n, c, 1, 2) == doctest::Approx(expected).epsilon(1e-4));
    }
    CHECK(bn.running_mean()[c] == doctest::Approx(0.1 * mean[c]).epsilon(1e-5));
    CHECK(bn.running_var()[c] == doctest::Approx(0.9 + 0.1 * var[c] * 36.0 / 35.0).epsilon(1e-5));  // unbiased
  }
  bn.eval();
  const dense_tensor one = random_tensor({1, 2, 3, 3}, 14);  // a batch of one is fine in eval mode
  const dense_view z = t.value(bn(t, t.input(one)));
  for (std::size_t c = 0; c < 2; ++c) {
    const double expected = bn.weight().value[c] * (one.at(0, c, 2, 0) - bn.running_mean()[c]) /
                                std::sqrt(bn.running_var()[c] + 1e-5) + bn.bias().value[c];
    CHECK(z.at(0, c, 2, 0) == doctest::Approx(expected).epsilon(1e-4));
  }
  CHECK(bn.running_mean()[0] == doctest::Approx(0.1 * mean[0]).epsilon(1e-5));  // eval does not move them
  nn::batch_norm1d bn1(2);
  CHECK(test::thrown_message<shape_error>([&] { bn1(t, t.input(x)); }).find("expected N x 2") != std::string::npos);
  CHECK_THROWS_AS(nn::batch_norm2d(0), shape_error);
}

TEST_CASE("pooling, relu and flatten layers, composed by sequential, match direct loops") {
  nn::sequential net;
  net.add<nn::max_pool2d>(2);
  net.add<nn::relu>();
  net.add<nn::flatten>();
  const dense_tensor x = random_tensor({2, 3, 4, 6}, 15);
  tape t;
  const dense_view y = t.value(net(t, t.input(x)));
  REQUIRE(y.shape() == dense_shape{2, 3 * 2 * 3});
  for (std::size_t n = 0; n < 2; ++n) {
    for (std::size_t c = 0; c < 3; ++c) {
      for (std::size_t oh = 0; oh < 2; ++oh) {
        for (std::size_t ow = 0; ow < 3; ++ow) {
          float m = x.at(n, c, 2 * oh, 2 * ow);
          for (std::size_t k = 1; k < 4; ++k) m = std::max(m, x.at(n, c, 2 * oh + k / 2, 2 * ow + k % 2));
          CHECK(y.at(n, (c * 2 + oh) * 3 + ow) == std::max(m, 0.0f));
        }
      }
    }
  }
  nn::avg_pool2d avg(2, 1);
  const dense_view a = t.value(avg(t, t.input(x)));
  REQUIRE(a.shape() == dense_shape{2, 3, 3, 5});
  CHECK(a.at(1, 2, 2, 4) == doctest::Approx((x.at(1, 2, 2, 4) + x.at(1, 2, 2, 5) + x.at(1, 2, 3, 4) + x.at(1, 2, 3, 5)) / 4.0));
  CHECK(net.describe() == "sequential(max_pool2d(2, stride 2), relu, flatten)");
  CHECK_THROWS_AS(nn::max_pool2d(0), shape_error);
  CHECK(test::thrown_message<shape_error>([&] { avg(t, t.input(random_tensor({2, 3}, 1))); }).find("[2, 3]") !=
        std::string::npos);
  CHECK_THROWS_AS(net[3], shape_error);
}
