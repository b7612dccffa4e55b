// Quantizer modules, the tape's fake_quant op, and qlinear / qconv2d: values equal the float
// layer applied to decode(encode(.)) computed here from the grids, gradients equal the policy's
// backward fed the upstream gradient, quantized reference models learn, and quantizer state
// survives a parameter file.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "anybit/data/dataset.hpp"
#include "anybit/data/synthetic.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/classifier.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "anybit/nn/quantized_layers.hpp"
#include "support/dense_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using anybit::test::random_tensor;

namespace {

nn::quantizer_spec spec(nn::quant_method m, int bits) {
  nn::quantizer_spec s;
  s.method = m;
  s.bits = bits;
  return s;
}

// decode(encode(x)) of every element with the grid of its channel (contiguous groups).
std::vector<float> fake_quant_by_grid(const nn::quantizer& q, const dense_view& x) {
  std::vector<float> out(x.size());
  const std::size_t group = x.size() / q.channels();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const affine_grid g = q.grid(i / group);
    out[i] = g.decode(g.encode(x[i]));
  }
  return out;
}

}  // namespace

TEST_CASE("fake_quant records the policy's forward and hands its backward the upstream gradient") {
  for (nn::quant_method m : {nn::quant_method::lsq, nn::quant_method::lsq_plus, nn::quant_method::ddq,
                             nn::quant_method::nested, nn::quant_method::uniform}) {
    CAPTURE(nn::quant_method_name(m));
    auto q = nn::make_quantizer(spec(m, 3), nn::quantized_tensor::weights, 4, 6);
    const dense_tensor x = random_tensor({4, 6}, 21, -2.0f, 2.0f), upstream = random_tensor({4, 6}, 22);
    tape t;
    const var vx = t.input(x, true);
    const var y = (*q)(t, vx);  // initialises from x
    REQUIRE(q->initialized());
    const std::vector<float> want = fake_quant_by_grid(*q, x);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(t.value(y)[i] == want[i]);

    q->params().zero_grad();
    t.backward(sum(y * t.input(upstream)));
    std::vector<float> dx(x.size()), dparams(q->params().value.size(), 0.0f);
    q->policy().backward(x.data(), upstream.data(), x.size(), q->params().value.data(), dx.data(), dparams.data());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(t.grad(vx)[i] == dx[i]);
    for (std::size_t i = 0; i < dparams.size(); ++i) {
      if (q->policy().learned()) {
        CHECK(q->params().grad[i] == doctest::Approx(dparams[i]).epsilon(1e-6));
      } else {
        CHECK(q->params().grad[i] == 0.0f);  // calibrated, not trained
      }
    }
  }
}

TEST_CASE("scales are stored as logarithms: the grid uses exp, and their gradient is s * dL/ds") {
  auto q = nn::make_quantizer(spec(nn::quant_method::lsq, 3), nn::quantized_tensor::weights, 2, 5);
  const dense_tensor x = random_tensor({2, 5}, 25, -1.0f, 1.0f), upstream = random_tensor({2, 5}, 26);
  tape t;
  const var y = (*q)(t, t.input(x));
  const lsq_quantizer raw = make_lsq(dynamic_bits(3), code_range::signed_codes, 2, 5);
  std::vector<float> steps(2);
  raw.initialize(x.data(), x.size(), steps.data());
  for (std::size_t c = 0; c < 2; ++c) {
    CHECK(q->params().value[c] == doctest::Approx(std::log(steps[c])).epsilon(1e-6));
    CHECK(q->grid(c).scale == doctest::Approx(steps[c]).epsilon(1e-6));
  }
  q->params().zero_grad();
  t.backward(sum(y * t.input(upstream)));
  std::vector<float> dx(x.size()), dsteps(2, 0.0f);
  raw.backward(x.data(), upstream.data(), x.size(), steps.data(), dx.data(), dsteps.data());
  for (std::size_t c = 0; c < 2; ++c) {
    CHECK(q->params().grad[c] == doctest::Approx(steps[c] * dsteps[c]).epsilon(1e-5));
  }
}

TEST_CASE("qlinear equals linear on fake-quantized inputs and weights") {
  xoshiro256ss rng(5);
  nn::layer_quantization lq{spec(nn::quant_method::lsq, 2), spec(nn::quant_method::lsq, 4)};
  nn::qlinear layer(8, 3, lq, rng);
  const dense_tensor x = random_tensor({5, 8}, 23, 0.0f, 3.0f);
  tape t;
  const var y = layer(t, t.input(x));
  const std::vector<float> xq = fake_quant_by_grid(*layer.input_quantizer(), x);
  const std::vector<float> wq = fake_quant_by_grid(*layer.weight_quantizer(), layer.weight().value);
  CHECK(layer.weight_quantizer()->bits() == 2);
  CHECK(layer.input_quantizer()->bits() == 4);
  for (std::size_t r = 0; r < 5; ++r) {
    for (std::size_t o = 0; o < 3; ++o) {
      double want = layer.bias().value[o];
      for (std::size_t k = 0; k < 8; ++k) want += static_cast<double>(xq[r * 8 + k]) * wq[o * 8 + k];
      CHECK(t.value(y).at(r, o) == doctest::Approx(want).epsilon(1e-5));
    }
  }
  CHECK(layer.describe().find("lsq(2 bits, per channel)") != std::string::npos);
}

TEST_CASE("qconv2d equals conv2d on fake-quantized inputs and weights, binary weights included") {
  xoshiro256ss rng(6);
  nn::conv2d_options o;
  o.padding = 1;
  o.bias = false;
  nn::layer_quantization lq{spec(nn::quant_method::lsq, 1), spec(nn::quant_method::pact, 2)};
  nn::qconv2d layer(2, 3, o, lq, 2 * 5 * 5, rng);
  nn::conv2d plain(2, 3, o, rng);
  const dense_tensor x = random_tensor({2, 2, 5, 5}, 24, -1.0f, 4.0f);
  tape t;
  const var y = layer(t, t.input(x));
  // The same convolution on the fake-quantized tensors, through the float layer.
  const std::vector<float> wq = fake_quant_by_grid(*layer.weight_quantizer(), layer.weight().value);
  const std::vector<float> xq = fake_quant_by_grid(*layer.input_quantizer(), x);
  for (std::size_t i = 0; i < wq.size(); ++i) {
    const affine_grid g = layer.weight_quantizer()->grid(i / 18);
    CHECK(std::fabs(wq[i]) == doctest::Approx(g.scale * 0.5f));  // binary: +-s/2 only
    plain.weight().value[i] = wq[i];
  }
  const var want = plain(t, t.input(dense_view(xq.data(), x.shape())));
  for (std::size_t i = 0; i < t.value(y).size(); ++i) CHECK(t.value(y)[i] == t.value(want)[i]);
}

TEST_CASE("quantized reference models learn synthetic images at W2A2, and the quantizers train") {
  synthetic_spec s;
  s.noise = 0.6;
  s.count = 600;
  s.sample_seed = 11;
  classification_dataset train = make_synthetic_dataset(s);
  s.count = 300;
  s.sample_seed = 12;
  classification_dataset test = make_synthetic_dataset(s);
  const feature_normalization norm = compute_normalization(train);
  normalize(train, norm);
  normalize(test, norm);

  nn::network_quantization q;
  q.first = {spec(nn::quant_method::lsq, 8), spec(nn::quant_method::uniform, 8)};
  q.middle = {spec(nn::quant_method::lsq, 2), spec(nn::quant_method::lsq, 2)};
  q.last = {spec(nn::quant_method::lsq, 8), spec(nn::quant_method::lsq, 8)};
  xoshiro256ss rng(7);
  auto model = nn::make_cnn(nn::cnn_spec{1, 12, 8, 16, 4}, rng, &q);
  const dense_shape sample{1, 12, 12};
  nn::adam opt(model->parameters(), nn::adam_options{});
  tape t;
  batch_loader loader(train, 32);
  std::vector<float> steps_before;
  for (int epoch = 0; epoch < 4; ++epoch) {
    loader.shuffle(static_cast<std::uint64_t>(epoch));
    for (std::size_t b = 0; b < loader.batch_count(); ++b) {
      const sample_batch batch = loader.get(b);
      nn::train_batch(*model, opt, t, batch.features, batch.labels, batch.size, sample);
      if (steps_before.empty()) {
        for (const auto& p : model->named_parameters()) {
          if (p.name.find("quantizer") != std::string::npos) steps_before.push_back(p.value->value[0]);
        }
      }
    }
  }
  std::vector<float> steps_after;
  for (const auto& p : model->named_parameters()) {
    if (p.name.find("quantizer") != std::string::npos) steps_after.push_back(p.value->value[0]);
  }
  REQUIRE(steps_after.size() == steps_before.size());
  int moved = 0;
  for (std::size_t i = 0; i < steps_after.size(); ++i) moved += steps_after[i] != steps_before[i];
  CHECK(moved >= 4);  // the learned steps move (uniform's calibrated grid does not)

  model->eval();
  batch_loader test_loader(test, 100);
  nn::batch_result total;
  for (std::size_t b = 0; b < test_loader.batch_count(); ++b) {
    const sample_batch batch = test_loader.get(b);
    total += nn::evaluate_batch(*model, t, batch.features, batch.labels, batch.size, sample);
  }
  MESSAGE("W2A2 CNN synthetic test accuracy ", total.accuracy());
  CHECK(total.accuracy() > 0.85);

  // Quantizer parameters and their initialised flags travel in the parameter file.
  const test::scratch_dir dir("quantized_layers");
  const std::string path = (dir.path / "w2a2.abp").string();
  nn::save_parameters(*model, path);
  xoshiro256ss other_rng(8);
  auto copy = nn::make_cnn(nn::cnn_spec{1, 12, 8, 16, 4}, other_rng, &q);
  nn::load_parameters(*copy, path);
  CHECK(nn::state_checksum(*copy) == nn::state_checksum(*model));
}

TEST_CASE("a per-tensor fake_quant gives the same values and gradients on any thread count") {
  const dense_tensor x = random_tensor({4, 30000}, 27, -1.0f, 5.0f), upstream = random_tensor({4, 30000}, 28);
  std::vector<float> want_y, want_dx, want_dp;
  for (const int threads : {1, 2, 3}) {
    CAPTURE(threads);
    auto q = nn::make_quantizer(spec(nn::quant_method::lsq, 3), nn::quantized_tensor::activations, 1, 1000);
    gemm_context ctx;
    ctx.threads = threads;
    tape t(ctx);
    const var vx = t.input(x, true);
    const var y = (*q)(t, vx);
    q->params().zero_grad();
    t.backward(sum(y * t.input(upstream)));
    const std::vector<float> got_y(t.value(y).data(), t.value(y).data() + x.size());
    const std::vector<float> got_dx(t.grad(vx).data(), t.grad(vx).data() + x.size());
    const std::vector<float> got_dp(q->params().grad.data(), q->params().grad.data() + q->params().grad.size());
    if (threads == 1) {
      want_y = got_y, want_dx = got_dx, want_dp = got_dp;
      CHECK(got_dp[0] != 0.0f);
      continue;
    }
    CHECK(got_y == want_y);
    CHECK(got_dx == want_dx);
    CHECK(got_dp == want_dp);
  }
}
