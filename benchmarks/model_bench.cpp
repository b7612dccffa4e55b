// model_bench: whole-model inference latency of the Fashion-MNIST reference cnn, the packed
// integer model against the float model of the same architecture, in one run.
//
//   model/cnn_w2a2/batch<N>   deploy::integer_model of conv3x3 1->32 (W8A8, pad 1) - ReLU - 2-bit
//                             codes - maxpool2 - conv3x3 32->64 (W2A2, pad 1) - ReLU - 8-bit codes -
//                             maxpool2 - flatten - linear 3136->10 (W8A8), random weights through
//                             integer_model_builder (batch norm folded in as multiplier and bias).
//   model/cnn_float/batch<N>  nn::make_cnn on the tape (eval mode, no gradients): the library's
//                             own float path, as anybit-train times it.
// Counters: ms_per_image (kIsRate | kInvert of images / 1000). Single thread (gemm_context default). Before timing, the integer model
// is checked once: its logits on every allowed path must equal those of the `reference` path.
#include <anybit/autograd/tape.hpp>
#include <anybit/core/random.hpp>
#include <anybit/deploy/integer_model.hpp>
#include <anybit/deploy/integer_model_builder.hpp>
#include <anybit/nn/models.hpp>
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace anybit;
using namespace anybit::deploy;

constexpr std::size_t image_side = 28, channels1 = 32, channels2 = 64, classes = 10;

layer_weights random_weights(std::mt19937& rng, std::size_t out, std::size_t k, int bits) {
  layer_weights w;
  w.out_channels = out;
  w.bits = bits;
  w.codes.resize(out * k);
  for (auto& c : w.codes) c = static_cast<std::uint8_t>(rng() & max_code(bits));
  const float levels = static_cast<float>(max_code(bits));
  // Symmetric grids scaled for unit-variance outputs, per channel as LSQ exports them.
  std::uniform_real_distribution<float> spread(0.8f, 1.2f);
  for (std::size_t o = 0; o < out; ++o) {
    w.scale.push_back(spread(rng) * 2.0f / (levels * std::sqrt(static_cast<float>(k))));
    w.zero_point.push_back(levels / 2.0f);
  }
  return w;
}

// Folded batch norm: multipliers around 1, biases around 0.
output_spec hidden(std::mt19937& rng, std::size_t n, const activation_grid& next) {
  std::uniform_real_distribution<float> m(0.5f, 1.5f), b(-0.3f, 0.3f);
  std::vector<float> mult(n), bias(n);
  for (std::size_t i = 0; i < n; ++i) {
    mult[i] = m(rng);
    bias[i] = b(rng);
  }
  return output_spec::codes(next, mult, bias, true);
}

integer_model make_integer_cnn() {
  std::mt19937 rng(7);
  integer_model_builder b;
  // Fashion-MNIST normalisation, 8-bit input codes.
  b.input(1, image_side, image_side, {0.286f}, {0.353f}, {3.2f / 255.0f, 65.0f, 8});
  b.conv2d(random_weights(rng, channels1, 9, 8), {3, 3, 1, 1}, hidden(rng, channels1, {0.45f, 0.0f, 2}));
  b.max_pool2d(2);
  b.conv2d(random_weights(rng, channels2, channels1 * 9, 2), {3, 3, 1, 1}, hidden(rng, channels2, {2.5f / 255.0f, 0.0f, 8}));
  b.max_pool2d(2);
  b.flatten();
  const std::size_t features = channels2 * (image_side / 4) * (image_side / 4);
  std::uniform_real_distribution<float> bias(-0.1f, 0.1f);
  std::vector<float> fc_bias(classes);
  for (float& v : fc_bias) v = bias(rng);
  b.linear(random_weights(rng, classes, features, 8), output_spec::logits({1.0f}, fc_bias));
  return b.build();
}

std::vector<float> random_images(std::size_t count) {
  std::mt19937 rng(11);
  std::vector<float> x(count * image_side * image_side);
  for (float& v : x) v = static_cast<float>(rng() % 256) / 255.0f;
  return x;
}

// The logits of every allowed path must be those of the reference path, bit for bit.
void check_integer_model(integer_model& model, const std::vector<float>& images, std::size_t batch) {
  gemm_context fast = gemm_context::from_environment();
  gemm_context oracle;
  oracle.allowed = mask_of(path::reference);
  std::vector<float> got(batch * classes), want(batch * classes);
  model.forward(images.data(), batch, got.data(), fast);
  model.forward(images.data(), batch, want.data(), oracle);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      std::fprintf(stderr, "model_bench: integer logit %zu is %.9g, the reference path gives %.9g\n", i,
                   static_cast<double>(got[i]), static_cast<double>(want[i]));
      std::abort();
    }
  }
}

void integer_cnn(benchmark::State& state, std::size_t batch) {
  integer_model model = make_integer_cnn();
  const std::vector<float> images = random_images(batch);
  check_integer_model(model, images, batch);
  gemm_context ctx = gemm_context::from_environment();
  std::vector<float> logits(batch * classes);
  for (auto _ : state) {
    model.forward(images.data(), batch, logits.data(), ctx);
    benchmark::DoNotOptimize(logits.data());
  }
  state.counters["ms_per_image"] = benchmark::Counter(1e-3 * static_cast<double>(batch) * static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void float_cnn(benchmark::State& state, std::size_t batch) {
  xoshiro256ss rng(3);
  nn::cnn_spec spec;
  spec.image_size = image_side;
  spec.channels1 = channels1;
  spec.channels2 = channels2;
  spec.classes = classes;
  const auto model = nn::make_cnn(spec, rng);
  model->eval();
  const std::vector<float> images = random_images(batch);
  gemm_context ctx = gemm_context::from_environment();
  tape t(ctx);
  const dense_shape shape{batch, 1, image_side, image_side};
  const auto forward = [&] {
    t.clear();
    const no_grad_guard no_grad(t);
    const var logits = model->forward(t, t.input(dense_view(images.data(), shape)));
    benchmark::DoNotOptimize(t.value(logits).data());
  };
  // Two untimed passes first (the integer model gets its warm-up from the check): the first
  // grows the tape's arena block by block, the clear() before the second merges the blocks into
  // one fresh block; from then on every pass reuses it without touching new pages.
  forward();
  forward();
  for (auto _ : state) forward();
  state.counters["ms_per_image"] = benchmark::Counter(1e-3 * static_cast<double>(batch) * static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

const bool registered = [] {
  for (std::size_t batch : {std::size_t{1}, std::size_t{256}}) {
    const std::string suffix = "/batch" + std::to_string(batch);
    benchmark::RegisterBenchmark(("model/cnn_w2a2" + suffix).c_str(), integer_cnn, batch)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("model/cnn_float" + suffix).c_str(), float_cnn, batch)->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
