// Forward values of the tape ops against direct loops and closed forms computed here, in double.
#include <cmath>
#include <cstdint>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "support/dense_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

using test::random_tensor;

/// |got - want| <= tol * (1 + |want|) for every element; reports the first miss.
void expect_close(const dense_view& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > tol * (1.0 + std::fabs(want[i]))) {
      FAIL_CHECK("element ", i, ": got ", got[i], ", expected ", want[i]);
      return;
    }
  }
}

/// The textbook 7-loop convolution with zero padding, plus bias.
std::vector<double> naive_conv(const dense_tensor& x, const dense_tensor& w, const dense_tensor* b, std::size_t stride,
                               std::size_t pad) {
  const std::size_t n_count = x.shape()[0], c_count = x.shape()[1], h = x.shape()[2], wd = x.shape()[3];
  const std::size_t oc_count = w.shape()[0], kh_count = w.shape()[2], kw_count = w.shape()[3];
  const std::size_t oh_count = (h + 2 * pad - kh_count) / stride + 1, ow_count = (wd + 2 * pad - kw_count) / stride + 1;
  std::vector<double> y;
  for (std::size_t n = 0; n < n_count; ++n) {
    for (std::size_t oc = 0; oc < oc_count; ++oc) {
      for (std::size_t oh = 0; oh < oh_count; ++oh) {
        for (std::size_t ow = 0; ow < ow_count; ++ow) {
          double acc = b != nullptr ? (*b)[oc] : 0.0;
          for (std::size_t c = 0; c < c_count; ++c) {
            for (std::size_t kh = 0; kh < kh_count; ++kh) {
              for (std::size_t kw = 0; kw < kw_count; ++kw) {
                const long ih = static_cast<long>(oh * stride + kh) - static_cast<long>(pad);
                const long iw = static_cast<long>(ow * stride + kw) - static_cast<long>(pad);
                if (ih < 0 || iw < 0 || ih >= static_cast<long>(h) || iw >= static_cast<long>(wd)) continue;
                acc += static_cast<double>(x.at(n, c, ih, iw)) * w.at(oc, c, kh, kw);
              }
            }
          }
          y.push_back(acc);
        }
      }
    }
  }
  return y;
}

/// Pooling by explicit windows: max or mean.
std::vector<double> naive_pool(const dense_tensor& x, std::size_t k, std::size_t s, bool max) {
  std::vector<double> y;
  const auto& sh = x.shape();
  for (std::size_t n = 0; n < sh[0]; ++n) {
    for (std::size_t c = 0; c < sh[1]; ++c) {
      for (std::size_t oh = 0; oh + k <= sh[2]; oh += s) {
        for (std::size_t ow = 0; ow + k <= sh[3]; ow += s) {
          double best = -1e300, total = 0;
          for (std::size_t i = 0; i < k; ++i) {
            for (std::size_t j = 0; j < k; ++j) {
              const double v = x.at(n, c, oh + i, ow + j);
              best = v > best ? v : best;
              total += v;
            }
          }
          y.push_back(max ? best : total / static_cast<double>(k * k));
        }
      }
    }
  }
  return y;
}

}  // namespace

TEST_CASE("conv2d equals the naive 7-loop convolution") {
  struct config {
    dense_shape x, w;
    std::size_t stride, pad;
    bool bias;
  };
  for (const config& c : {config{{2, 3, 7, 6}, {4, 3, 3, 3}, 2, 1, true}, config{{1, 2, 5, 5}, {3, 2, 3, 3}, 1, 0, false},
                          config{{2, 1, 6, 7}, {2, 1, 2, 3}, 1, 2, true}, config{{1, 4, 5, 4}, {5, 4, 1, 1}, 1, 0, true},
                          config{{3, 2, 8, 8}, {3, 2, 5, 5}, 3, 2, false}}) {
    CAPTURE(c.x);
    CAPTURE(c.w);
    CAPTURE(c.stride);
    CAPTURE(c.pad);
    const dense_tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2), b = random_tensor({c.w[0]}, 3);
    tape t;
    const var y = c.bias ? conv2d(t.input(x), t.input(w), t.input(b), {c.stride, c.pad})
                         : conv2d(t.input(x), t.input(w), {c.stride, c.pad});
    const std::size_t oh = (c.x[2] + 2 * c.pad - c.w[2]) / c.stride + 1, ow = (c.x[3] + 2 * c.pad - c.w[3]) / c.stride + 1;
    CHECK(t.shape(y) == dense_shape{c.x[0], c.w[0], oh, ow});
    expect_close(t.value(y), naive_conv(x, w, c.bias ? &b : nullptr, c.stride, c.pad), 1e-5);
  }
}

TEST_CASE("max and average pooling equal explicit window loops") {
  const dense_tensor x = random_tensor({2, 3, 7, 6}, 4);
  for (const std::size_t k : {1u, 2u, 3u}) {
    for (const std::size_t s : {1u, 2u, 3u}) {
      CAPTURE(k);
      CAPTURE(s);
      tape t;
      const var in = t.input(x);
      const var mx = max_pool2d(in, k, s), av = avg_pool2d(in, k, s);
      CHECK(t.shape(mx) == dense_shape{2, 3, (7 - k) / s + 1, (6 - k) / s + 1});
      expect_close(t.value(mx), naive_pool(x, k, s, true), 0.0);
      expect_close(t.value(av), naive_pool(x, k, s, false), 1e-6);
    }
  }
}

TEST_CASE("max pooling breaks ties toward the first element of a window, in value and gradient") {
  // Every window of a constant plane is a tie; the whole gradient goes to each window's top-left.
  dense_tensor x({1, 1, 4, 4});
  x.fill(0.5f);
  tape t;
  const var vx = t.input(x, true);
  t.backward(sum(max_pool2d(vx, 2)));
  for (std::size_t h = 0; h < 4; ++h) {
    for (std::size_t w = 0; w < 4; ++w) CHECK(t.grad(vx).at(0, 0, h, w) == (h % 2 == 0 && w % 2 == 0 ? 1.0f : 0.0f));
  }
}

TEST_CASE("batch norm in evaluation mode equals the closed form with running statistics") {
  const dense_tensor x = random_tensor({3, 4, 2, 3}, 5, -3.0f, 3.0f), gamma = random_tensor({4}, 6),
                     beta = random_tensor({4}, 7), mean0 = random_tensor({4}, 8),
                     var0 = random_tensor({4}, 9, 0.1f, 4.0f);
  dense_tensor running_mean = mean0, running_var = var0;
  const float eps = 1e-3f;
  tape t;
  const var y = batch_norm(t.input(x), t.input(gamma), t.input(beta), running_mean, running_var, {false, 0.5f, eps});
  std::vector<double> want;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = (i / 6) % 4;
    want.push_back((x[i] - static_cast<double>(mean0[c])) / std::sqrt(static_cast<double>(var0[c]) + eps) * gamma[c] +
                   beta[c]);
  }
  expect_close(t.value(y), want, 1e-5);
  for (std::size_t c = 0; c < 4; ++c) {  // evaluation leaves the running statistics alone
    CHECK(running_mean[c] == mean0[c]);
    CHECK(running_var[c] == var0[c]);
  }
}

TEST_CASE("batch norm in training mode normalises per channel and moves the running statistics") {
  for (const dense_shape& shape : {dense_shape{6, 3}, dense_shape{2, 3, 3, 4}}) {
    CAPTURE(shape);
    const dense_tensor x = random_tensor(shape, 10, 2.0f, 5.0f), gamma = random_tensor({3}, 11, 0.5f, 2.0f),
                       beta = random_tensor({3}, 12);
    dense_tensor running_mean = random_tensor({3}, 13), running_var = random_tensor({3}, 14, 0.5f, 1.5f);
    const dense_tensor mean0 = running_mean, var0 = running_var;
    const float momentum = 0.25f, eps = 1e-5f;
    tape t;
    const var y = batch_norm(t.input(x), t.input(gamma), t.input(beta), running_mean, running_var, {true, momentum, eps});
    const std::size_t spatial = shape.rank() == 4 ? shape[2] * shape[3] : 1, m = shape[0] * spatial;
    std::vector<double> want(x.size());
    for (std::size_t c = 0; c < 3; ++c) {
      double mean = 0, var = 0;
      for (std::size_t i = 0; i < x.size(); ++i) mean += (i / spatial) % 3 == c ? x[i] : 0.0;
      mean /= static_cast<double>(m);
      for (std::size_t i = 0; i < x.size(); ++i) var += (i / spatial) % 3 == c ? (x[i] - mean) * (x[i] - mean) : 0.0;
      var /= static_cast<double>(m);
      for (std::size_t i = 0; i < x.size(); ++i) {
        if ((i / spatial) % 3 == c) want[i] = (x[i] - mean) / std::sqrt(var + eps) * gamma[c] + beta[c];
      }
      const double unbiased = var * static_cast<double>(m) / static_cast<double>(m - 1);
      CHECK(running_mean[c] == doctest::Approx((1 - momentum) * mean0[c] + momentum * mean).epsilon(1e-6));
      CHECK(running_var[c] == doctest::Approx((1 - momentum) * var0[c] + momentum * unbiased).epsilon(1e-6));
    }
    expect_close(t.value(y), want, 1e-5);
  }
}

TEST_CASE("softmax cross-entropy equals -log softmax and stays finite for huge logits") {
  const dense_tensor z = random_tensor({4, 6}, 15, -4.0f, 4.0f);
  const std::vector<int> labels{5, 0, 2, 2};
  double want = 0;
  for (std::size_t r = 0; r < 4; ++r) {
    double denominator = 0;
    for (std::size_t c = 0; c < 6; ++c) denominator += std::exp(static_cast<double>(z.at(r, c)));
    want -= std::log(std::exp(static_cast<double>(z.at(r, static_cast<std::size_t>(labels[r])))) / denominator);
  }
  tape t;
  CHECK(t.item(softmax_cross_entropy(t.input(z), labels)) == doctest::Approx(want / 4).epsilon(1e-6));

  // exp(1000) overflows float and double: only a max-subtracted log-sum-exp gets these right.
  const dense_tensor huge({2, 2}, {1000.0f, 0.0f, -1000.0f, 50.0f});
  const std::vector<int> first{0, 1}, second{1, 0};
  CHECK(t.item(softmax_cross_entropy(t.input(huge), first)) == doctest::Approx(0.0));
  CHECK(t.item(softmax_cross_entropy(t.input(huge), second)) == doctest::Approx((1000.0 + 1050.0) / 2));
}

TEST_CASE("matmul, linear, bias broadcasts, relu, sum and mean equal direct loops") {
  const dense_tensor a = random_tensor({3, 5}, 16), b = random_tensor({5, 4}, 17), bt = random_tensor({4, 5}, 18),
                     bias = random_tensor({4}, 19);
  tape t;
  const var va = t.input(a);
  std::vector<double> ab, abt_bias;
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      double s = 0, st = 0;
      for (std::size_t k = 0; k < 5; ++k) {
        s += static_cast<double>(a.at(i, k)) * b.at(k, j);
        st += static_cast<double>(a.at(i, k)) * bt.at(j, k);
      }
      ab.push_back(s);
      abt_bias.push_back(st + bias[j]);
    }
  }
  expect_close(t.value(matmul(va, t.input(b))), ab, 1e-6);
  expect_close(t.value(linear(va, t.input(bt), t.input(bias))), abt_bias, 1e-6);
  // op(A) op(B) with both transposed: (A^T)^T (B^T)^T = A B.
  const dense_tensor at = random_tensor({5, 3}, 20);
  std::vector<double> atb;
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < 5; ++k) s += static_cast<double>(at.at(k, i)) * bt.at(j, k);
      atb.push_back(s);
    }
  }
  expect_close(t.value(matmul(t.input(at), t.input(bt), transpose::yes, transpose::yes)), atb, 1e-6);

  const dense_tensor x = random_tensor({2, 4, 2, 3}, 21);
  std::vector<double> channel_bias, rectified;
  double total = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    channel_bias.push_back(static_cast<double>(x[i]) + bias[(i / 6) % 4]);
    rectified.push_back(x[i] > 0 ? x[i] : 0.0);
    total += x[i];
  }
  const var vx = t.input(x);
  expect_close(t.value(add(vx, t.input(bias))), channel_bias, 1e-7);
  expect_close(t.value(relu(vx)), rectified, 0.0);
  CHECK(t.item(sum(vx)) == doctest::Approx(total).epsilon(1e-6));
  CHECK(t.item(mean(vx)) == doctest::Approx(total / 48).epsilon(1e-6));
  CHECK(t.shape(flatten(vx)) == dense_shape{2, 24});
  CHECK(t.value(flatten(vx)).data() == t.value(vx).data());  // a view, not a copy
}
