// The tape's mechanics: accumulation, detach and straight-through estimators, parameters,
// no-grad mode, clear() and reuse, determinism, and misuse that must throw.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "support/dense_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

using test::random_tensor;

bool bit_identical(const dense_view& a, const dense_view& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// A small CNN whose weights are module-style parameters: conv(stride 2, pad 1) + bias, batch
/// norm, relu, max pool, linear, cross-entropy.
struct tiny_net {
  parameter conv_w{random_tensor({4, 2, 3, 3}, 1)}, conv_b{random_tensor({4}, 2)};
  parameter gamma{random_tensor({4}, 3, 0.5f, 1.5f)}, beta{random_tensor({4}, 4)};
  parameter fc_w{random_tensor({3, 16}, 5)}, fc_b{random_tensor({3}, 6)};
  dense_tensor running_mean{dense_shape{4}}, running_var{dense_shape{4}};
  std::vector<parameter*> parameters() { return {&conv_w, &conv_b, &gamma, &beta, &fc_w, &fc_b}; }

  var loss(tape& t, const dense_tensor& images, const std::vector<int>& labels, bool training = true) {
    var h = conv2d(t.input(images), t.param(conv_w), t.param(conv_b), {2, 1});  // N x 4 x 4 x 4
    h = relu(batch_norm(h, t.param(gamma), t.param(beta), running_mean, running_var, {training, 0.1f, 1e-5f}));
    h = max_pool2d(h, 2);                                                        // N x 4 x 2 x 2
    return softmax_cross_entropy(linear(flatten(h), t.param(fc_w), t.param(fc_b)), labels);
  }
};

}  // namespace

TEST_CASE("fan-out: a var used several times gets the sum of every path's gradient") {
  const dense_tensor x = random_tensor({2, 3}, 7);
  tape t;
  const var vx = t.input(x, true);
  t.backward(sum(vx * vx + 3.0f * vx + vx));  // d/dx = 2x + 4
  const dense_view g = t.grad(vx);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(g[i] == doctest::Approx(2.0 * x[i] + 4.0).epsilon(1e-6));
}

TEST_CASE("detach: no gradient flows through it, and x + detach(q - x) is a straight-through estimator") {
  const dense_tensor x = random_tensor({3, 4}, 8), r = random_tensor({3, 4}, 9);
  dense_tensor q = x;
  for (float& v : q) v = std::round(v * 4.0f) / 4.0f;  // a quantizer the tape cannot differentiate
  tape t;
  const var vx = t.input(x, true), vr = t.input(r);
  const var ste = vx + detach(t.input(q) - vx);
  t.backward(sum(ste * vr));
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(t.value(ste)[i] == doctest::Approx(q[i]).epsilon(1e-6));  // forward: the quantized value
    CHECK(t.grad(vx)[i] == r[i]);                                      // backward: identity
  }
  // sum(x * detach(x)): only the undetached factor is differentiated, d/dx = x (not 2x).
  t.clear();
  const var x2 = t.input(x, true);
  const var d = detach(x2);
  CHECK(t.value(d).data() == t.value(x2).data());  // same storage, no copy
  t.backward(sum(x2 * d));
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(t.grad(x2)[i] == x[i]);
  CHECK_THROWS_AS((void)t.grad(d), error);  // a detached var has no gradient
}

TEST_CASE("parameters: values are read in place and gradients accumulate into p.grad") {
  parameter w(random_tensor({3, 4}, 10));
  const dense_tensor x = random_tensor({2, 4}, 11);
  tape t;
  const var vw = t.param(w);
  CHECK(t.value(vw).data() == w.value.data());
  // Used twice: d/dW sum(x W^T) + sum(2 x W^T) = 3 * column sums of x, for every row of W.
  const var vx = t.input(x);
  t.backward(sum(linear(vx, vw)) + sum(2.0f * linear(vx, t.param(w))));
  for (std::size_t o = 0; o < 3; ++o) {
    for (std::size_t i = 0; i < 4; ++i) CHECK(w.grad.at(o, i) == doctest::Approx(3.0 * (x.at(0, i) + x.at(1, i))));
  }
  const dense_tensor once = w.grad;
  t.backward(sum(linear(vx, vw)) + sum(2.0f * linear(vx, t.param(w))));  // a second backward adds again
  for (std::size_t i = 0; i < w.grad.size(); ++i) CHECK(w.grad[i] == doctest::Approx(2.0 * once[i]));
  w.zero_grad();
  for (const float g : w.grad) CHECK(g == 0.0f);

  parameter frozen(random_tensor({3, 4}, 12));
  frozen.requires_grad = false;
  t.clear();
  const var vf = t.param(frozen);
  t.backward(sum(linear(t.input(x), t.param(w))) + sum(linear(t.input(x), vf)));
  for (const float g : frozen.grad) CHECK(g == 0.0f);
  CHECK_THROWS_AS((void)t.grad(vf), error);
}

TEST_CASE("no-grad mode computes the same values and records nothing for backward") {
  tiny_net net;
  const dense_tensor images = random_tensor({2, 2, 7, 7}, 13);
  const std::vector<int> labels{2, 0};
  tape t;
  const float recorded = t.item(net.loss(t, images, labels, false));
  const std::size_t used_recording = t.arena_used_bytes();
  CHECK(t.nodes_needing_grad() > 0);
  t.clear();
  {
    const no_grad_guard guard(t);
    CHECK_FALSE(t.grad_enabled());
    const var loss = net.loss(t, images, labels, false);
    CHECK(t.item(loss) == recorded);  // bit-identical
    CHECK(t.nodes_needing_grad() == 0);
    CHECK(t.arena_used_bytes() < used_recording);  // no saved argmax, statistics or probabilities
    CHECK_THROWS_AS(t.backward(loss), error);
  }
  CHECK(t.grad_enabled());  // the guard restores recording
  for (parameter* p : net.parameters()) {
    for (const float g : p->grad) CHECK(g == 0.0f);
  }
}

TEST_CASE("clear() reuses the arena: the same step again allocates nothing and gives the same result") {
  tiny_net net;
  const dense_tensor images = random_tensor({3, 2, 7, 7}, 14);
  const std::vector<int> labels{1, 2, 0};
  tape t;
  t.backward(net.loss(t, images, labels));
  const dense_tensor first_grad = net.fc_w.grad;
  const std::size_t nodes = t.size();
  // The first clear() may merge the blocks the first step grew into; after that the arena is
  // fixed: the same memory is handed out again, step after step.
  const float* storage = nullptr;
  std::size_t capacity = 0;
  for (int step = 0; step < 4; ++step) {
    CAPTURE(step);
    const var old = t.input(images);
    t.clear();
    CHECK(t.size() == 0);
    CHECK(t.arena_used_bytes() == 0);
    CHECK_THROWS_AS((void)t.value(old), error);  // vars do not survive clear()
    for (parameter* p : net.parameters()) p->zero_grad();
    const var again = t.input(images);
    t.backward(net.loss(t, images, labels));
    CHECK(t.size() == nodes + 1);  // the step's nodes plus `again`
    CHECK(t.arena_used_bytes() <= t.arena_capacity_bytes());
    if (step == 0) {
      storage = t.value(again).data();
      capacity = t.arena_capacity_bytes();
    }
    CHECK(t.value(again).data() == storage);
    CHECK(t.arena_capacity_bytes() == capacity);
    // Training mode moved the running statistics, but the loss used batch statistics only.
    CHECK(bit_identical(net.fc_w.grad, first_grad));
  }
}

TEST_CASE("equal inputs and thread counts give bit-identical values and gradients") {
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    const dense_tensor images = random_tensor({4, 2, 7, 7}, 15);
    const std::vector<int> labels{0, 1, 2, 1};
    tiny_net a, b;
    gemm_context ctx;
    ctx.threads = threads;
    tape ta(ctx), tb(ctx);
    const var loss_a = a.loss(ta, images, labels), loss_b = b.loss(tb, images, labels);
    CHECK(bit_identical(ta.value(loss_a), tb.value(loss_b)));
    ta.backward(loss_a);
    tb.backward(loss_b);
    const auto pa = a.parameters(), pb = b.parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(bit_identical(pa[i]->grad, pb[i]->grad));
  }
}

TEST_CASE("any thread count gives the values and gradients of one thread, bit for bit") {
  // A batch big enough that conv images, batch-norm channels, pooling planes and ReLU chunks are
  // all split between threads.
  const std::size_t batch = 2048;
  const dense_tensor images = random_tensor({batch, 2, 7, 7}, 19);
  std::vector<int> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<int>(i % 3);
  std::vector<dense_tensor> want;
  dense_tensor want_loss;
  for (const int threads : {1, 2, 3}) {
    CAPTURE(threads);
    tiny_net net;
    gemm_context ctx;
    ctx.threads = threads;
    tape t(ctx);
    const var loss = net.loss(t, images, labels);
    t.backward(loss);
    if (threads == 1) {
      want_loss = dense_tensor::from_view(t.value(loss));
      for (parameter* p : net.parameters()) want.push_back(p->grad);
      continue;
    }
    CHECK(bit_identical(t.value(loss), want_loss));
    const auto params = net.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(bit_identical(params[i]->grad, want[i]));
  }
}

TEST_CASE("backward skips what the loss does not depend on") {
  const dense_tensor x = random_tensor({2, 2}, 16);
  tape t;
  const var vx = t.input(x, true);
  const var unused = relu(vx);  // needs a gradient in principle, but the loss ignores it
  const var constant = t.input(x);
  const var loss = sum(vx * constant);
  t.backward(loss);
  CHECK_THROWS_AS((void)t.grad(unused), error);
  CHECK_THROWS_AS((void)t.grad(constant), error);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(t.grad(vx)[i] == x[i]);
  const var other = t.input(x, true);  // a requires_grad input the loss ignores reads as zeros
  t.backward(sum(vx));
  for (const float g : t.grad(other)) CHECK(g == 0.0f);
  for (const float g : t.grad(vx)) CHECK(g == 1.0f);  // recomputed from zero, not accumulated
}

TEST_CASE("misuse of vars and backward throws anybit errors that say what was expected") {
  tape t, other;
  const var x = t.input(random_tensor({2, 3}, 17), true);
  const var y = other.input(random_tensor({2, 3}, 18), true);
  CHECK(test::thrown_message<error>([&] { (void)add(x, y); }).find("another tape") != std::string::npos);
  CHECK(test::thrown_message<error>([&] { (void)relu(var{}); }).find("default-constructed") != std::string::npos);
  const std::string not_scalar = test::thrown_message<shape_error>([&] { t.backward(x); });
  CHECK(not_scalar.find("[2, 3]") != std::string::npos);
  CHECK(not_scalar.find("one element") != std::string::npos);
  CHECK_THROWS_AS(t.backward(sum(t.input(random_tensor({2}, 19)))), error);  // depends on nothing trainable
  CHECK_THROWS_AS((void)t.grad(x), error);                                   // no backward yet
  CHECK_THROWS_AS((void)t.item(x), shape_error);
  parameter broken(random_tensor({2, 2}, 20));
  broken.grad = dense_tensor(dense_shape{3});
  CHECK(test::thrown_message<shape_error>([&] { (void)t.param(broken); }).find("[2, 2] and [3]") != std::string::npos);
}
