// Every tape op against central finite differences (autograd/grad_check.hpp). Each case states
// its step and tolerance; inputs stay away from kinks (ReLU at 0, max-pool ties) by construction.
// Outputs are reduced by a fixed random projection sum(y * r), so every output element carries a
// different weight and a wrong index in a rule cannot cancel out.
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "anybit/autograd/grad_check.hpp"
#include "anybit/autograd/ops.hpp"
#include "support/dense_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

using xs_t = const std::vector<var>&;

using test::random_tensor;

/// Random values with |v| >= margin: a +-eps step never crosses 0 when eps < margin.
dense_tensor away_from_zero(const dense_shape& shape, std::uint64_t seed, float margin = 0.1f) {
  dense_tensor t = random_tensor(shape, seed);
  for (float& v : t) v = v < 0 ? v - margin : v + margin;
  return t;
}

/// A shuffled ladder of values `spacing` apart: no two within 2 * eps when eps < spacing / 2.
dense_tensor distinct_values(const dense_shape& shape, std::uint64_t seed, float spacing = 0.05f) {
  dense_tensor t(shape);
  std::vector<std::size_t> order(t.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  test::rng r(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[r.below(static_cast<std::uint32_t>(i))]);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = spacing * (static_cast<float>(order[i]) - 0.5f * static_cast<float>(t.size()));
  return t;
}

/// sum(y * r) for a fixed random r of y's shape.
var project(tape& t, var y, std::uint64_t seed = 99) {
  return sum(mul(y, t.input(random_tensor(t.shape(y), seed))));
}

std::size_t element_count(const std::vector<dense_tensor>& inputs) {
  std::size_t n = 0;
  for (const auto& x : inputs) n += x.size();
  return n;
}

template <class F>
void expect_gradients(F f, const std::vector<dense_tensor>& inputs, const grad_check_options& options = {}) {
  const grad_check_result r = check_gradients(f, inputs, options);
  CHECK_MESSAGE(r.passed, r.summary());
  CHECK(r.checked == element_count(inputs));
}

}  // namespace

// Default check: eps 1e-2, |error| <= 1e-3 + 1e-2 * max(|analytic|, |numeric|).

TEST_CASE("gradient check: add, sub, mul, scale on equal shapes") {
  const std::vector<dense_tensor> in{random_tensor({3, 4}, 1), random_tensor({3, 4}, 2)};
  expect_gradients([](tape& t, xs_t x) { return project(t, add(x[0], x[1])); }, in);
  expect_gradients([](tape& t, xs_t x) { return project(t, sub(x[0], x[1])); }, in);
  expect_gradients([](tape& t, xs_t x) { return project(t, mul(x[0], x[1])); }, in);
  expect_gradients([](tape& t, xs_t x) { return project(t, scale(x[0], -2.5f)); }, in);
  expect_gradients([](tape& t, xs_t x) { return project(t, 0.5f * x[0] - x[1] * x[0]); }, in);
}

TEST_CASE("gradient check: bias broadcast over rows and over NCHW channels") {
  expect_gradients([](tape& t, xs_t x) { return project(t, add(x[0], x[1])); },
                   {random_tensor({4, 3}, 3), random_tensor({3}, 4)});
  expect_gradients([](tape& t, xs_t x) { return project(t, add(x[0], x[1])); },
                   {random_tensor({2, 3, 2, 4}, 5), random_tensor({3}, 6)});
}

TEST_CASE("gradient check: relu away from 0") {
  expect_gradients([](tape& t, xs_t x) { return project(t, relu(x[0])); }, {away_from_zero({5, 6}, 7)});
}

TEST_CASE("gradient check: matmul with every transpose combination and linear") {
  for (const transpose ta : {transpose::no, transpose::yes}) {
    for (const transpose tb : {transpose::no, transpose::yes}) {
      CAPTURE(static_cast<int>(ta));
      CAPTURE(static_cast<int>(tb));
      // op(A) is 3 x 4, op(B) is 4 x 5.
      const dense_shape sa = ta == transpose::no ? dense_shape{3, 4} : dense_shape{4, 3};
      const dense_shape sb = tb == transpose::no ? dense_shape{4, 5} : dense_shape{5, 4};
      expect_gradients([=](tape& t, xs_t x) { return project(t, matmul(x[0], x[1], ta, tb)); },
                       {random_tensor(sa, 8), random_tensor(sb, 9)});
    }
  }
  expect_gradients([](tape& t, xs_t x) { return project(t, linear(x[0], x[1], x[2])); },
                   {random_tensor({4, 6}, 10), random_tensor({3, 6}, 11), random_tensor({3}, 12)});
}

TEST_CASE("gradient check: reshape and flatten") {
  expect_gradients([](tape& t, xs_t x) { return project(t, reshape(x[0], {3, 8})); }, {random_tensor({2, 3, 4}, 13)});
  expect_gradients([](tape& t, xs_t x) { return project(t, linear(flatten(x[0]), x[1])); },
                   {random_tensor({2, 2, 3, 3}, 14), random_tensor({4, 18}, 15)});
}

TEST_CASE("gradient check: sum and mean") {
  expect_gradients([](tape&, xs_t x) { return sum(x[0]); }, {random_tensor({3, 5}, 16)});
  expect_gradients([](tape& t, xs_t x) { return scale(mean(mul(x[0], x[0])), 3.0f) + sum(t.input(dense_tensor(dense_shape{}, {2.0f}))); },
                   {random_tensor({2, 2, 3}, 17)});
}

TEST_CASE("gradient check: max pooling away from ties, overlapping and not") {
  // Values 0.05 apart and eps 1e-2: a step never changes which input is a window's maximum.
  expect_gradients([](tape& t, xs_t x) { return project(t, max_pool2d(x[0], 2)); }, {distinct_values({2, 2, 4, 6}, 18)});
  expect_gradients([](tape& t, xs_t x) { return project(t, max_pool2d(x[0], 3, 2)); }, {distinct_values({1, 2, 7, 5}, 19)});
}

TEST_CASE("gradient check: average pooling") {
  expect_gradients([](tape& t, xs_t x) { return project(t, avg_pool2d(x[0], 2)); }, {random_tensor({2, 2, 4, 5}, 20)});
  expect_gradients([](tape& t, xs_t x) { return project(t, avg_pool2d(x[0], 3, 1)); }, {random_tensor({1, 2, 5, 5}, 21)});
}

TEST_CASE("gradient check: conv2d with stride 2 and padding 1, with bias") {
  expect_gradients([](tape& t, xs_t x) { return project(t, conv2d(x[0], x[1], x[2], {2, 1})); },
                   {random_tensor({2, 3, 5, 6}, 22), random_tensor({4, 3, 3, 3}, 23), random_tensor({4}, 24)});
}

TEST_CASE("gradient check: conv2d without bias, non-square kernel, stride 1, padding 0 and 2") {
  expect_gradients([](tape& t, xs_t x) { return project(t, conv2d(x[0], x[1])); },
                   {random_tensor({2, 2, 4, 5}, 25), random_tensor({3, 2, 2, 3}, 26)});
  expect_gradients([](tape& t, xs_t x) { return project(t, conv2d(x[0], x[1], {3, 2})); },
                   {random_tensor({1, 2, 4, 4}, 27), random_tensor({2, 2, 3, 2}, 28)});
}

TEST_CASE("gradient check: batch norm in training mode, 2-D and 4-D") {
  dense_tensor running_mean({3}), running_var({3});
  running_var.fill(1.0f);
  // Batch statistics couple every element of a channel; values of order 1 keep the
  // normalised outputs well conditioned for a 1e-2 step. Tolerance 2e-3 + 2e-2 relative.
  const grad_check_options options{1e-2f, 2e-3, 2e-2};
  expect_gradients(
      [&](tape& t, xs_t x) { return project(t, batch_norm(x[0], x[1], x[2], running_mean, running_var)); },
      {random_tensor({5, 3}, 29, -2.0f, 2.0f), random_tensor({3}, 30, 0.5f, 1.5f), random_tensor({3}, 31)}, options);
  expect_gradients(
      [&](tape& t, xs_t x) { return project(t, batch_norm(x[0], x[1], x[2], running_mean, running_var)); },
      {random_tensor({2, 3, 3, 2}, 32, -2.0f, 2.0f), random_tensor({3}, 33, 0.5f, 1.5f), random_tensor({3}, 34)},
      options);
}

TEST_CASE("gradient check: batch norm in evaluation mode") {
  dense_tensor running_mean = random_tensor({3}, 35), running_var = random_tensor({3}, 36, 0.5f, 2.0f);
  const batch_norm_settings eval{false, 0.1f, 1e-5f};
  expect_gradients(
      [&](tape& t, xs_t x) { return project(t, batch_norm(x[0], x[1], x[2], running_mean, running_var, eval)); },
      {random_tensor({2, 3, 2, 2}, 37), random_tensor({3}, 38), random_tensor({3}, 39)});
}

TEST_CASE("gradient check: softmax cross-entropy with integer labels") {
  const std::vector<int> labels{2, 0, 4, 4, 1};
  expect_gradients([&](tape&, xs_t x) { return softmax_cross_entropy(x[0], labels); },
                   {random_tensor({5, 5}, 40, -3.0f, 3.0f)}, grad_check_options{1e-2f, 2e-4, 1e-2});
  const std::vector<std::uint8_t> byte_labels{1, 0};  // Fashion-MNIST labels are bytes
  expect_gradients([&](tape& t, xs_t x) { return scale(softmax_cross_entropy(x[0], byte_labels), 2.0f) + project(t, x[0]); },
                   {random_tensor({2, 3}, 41)});
}

TEST_CASE("gradient check: a composite chain conv, batch norm, relu, max pool, linear, cross-entropy") {
  dense_tensor running_mean({4}), running_var({4});
  running_var.fill(1.0f);
  const std::vector<int> labels{1, 2, 0};
  const auto net = [&](tape&, xs_t x) {
    var h = conv2d(x[0], x[1], x[2], {1, 1});                     // 3 x 4 x 4 x 4
    h = relu(batch_norm(h, x[3], x[4], running_mean, running_var));
    h = max_pool2d(h, 2);                                          // 3 x 4 x 2 x 2
    return softmax_cross_entropy(linear(flatten(h), x[5], x[6]), labels);
  };
  // ReLU and max pool make the loss piecewise smooth; a small step keeps every probe inside one
  // piece. This seed was checked to have no kink within 2e-3 of any probe; float noise of the
  // loss (~1e-7) over a 2e-3 difference allows an absolute 1e-3.
  expect_gradients(net,
                   {random_tensor({3, 2, 4, 4}, 42), random_tensor({4, 2, 3, 3}, 43), random_tensor({4}, 44),
                    random_tensor({4}, 45, 0.5f, 1.5f), random_tensor({4}, 46), random_tensor({3, 16}, 47),
                    random_tensor({3}, 48)},
                   grad_check_options{1e-3f, 1e-3, 2e-2});
}

TEST_CASE("gradient check: fan-out accumulates every use") {
  // x feeds four consumers: d/dx [sum(x * x) + sum(3x) + sum(relu(x) * w)].
  expect_gradients(
      [](tape& t, xs_t x) { return sum(x[0] * x[0]) + sum(3.0f * x[0]) + project(t, relu(x[0]) * x[1]); },
      {away_from_zero({4, 3}, 49), random_tensor({4, 3}, 50)});
  // The same var as both operands of one op.
  expect_gradients([](tape& t, xs_t x) { return project(t, matmul(x[0], x[0], transpose::no, transpose::yes)); },
                   {random_tensor({3, 4}, 51)});
}

TEST_CASE("gradient check: the checker rejects a wrong gradient") {
  // x * detach(x) has value x^2 but backward sees only one factor: analytic x, numeric 2x.
  const grad_check_result r =
      check_gradients([](tape&, xs_t x) { return sum(x[0] * detach(x[0])); }, {away_from_zero({3, 2}, 52)});
  CHECK_FALSE(r.passed);
  CHECK(r.failures == 6);
  CHECK(r.worst_ratio > 1.0);
  CHECK(std::fabs(r.worst_numeric - 2.0 * r.worst_analytic) < 1e-2 * std::fabs(r.worst_numeric));
  CHECK(r.summary().find("6 outside tolerance") != std::string::npos);
}
