// End to end on synthetic data (no dataset needed): the reference models learn, the gradients
// train_batch feeds the optimizer are the loss's (finite differences), evaluation changes
// nothing, and the same seed and thread count replay a training run bit for bit.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "anybit/data/dataset.hpp"
#include "anybit/data/synthetic.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/classifier.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "anybit/nn/sgd.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct synthetic_split {
  classification_dataset train, test;
};

/// 12 x 12 images of 4 classes: prototypes blended with heavy noise, normalised like the trainer does.
synthetic_split make_data(std::size_t train_count, std::size_t test_count) {
  synthetic_spec spec;
  spec.noise = 0.6;
  spec.count = train_count;
  spec.sample_seed = 11;
  synthetic_split s{make_synthetic_dataset(spec), {}};
  spec.count = test_count;
  spec.sample_seed = 12;
  s.test = make_synthetic_dataset(spec);
  const feature_normalization norm = compute_normalization(s.train);
  normalize(s.train, norm);
  normalize(s.test, norm);
  return s;
}

nn::batch_result evaluate(nn::module& model, tape& t, const classification_dataset& data, const dense_shape& sample) {
  model.eval();
  nn::batch_result total;
  batch_loader loader(data, 100);
  for (std::size_t b = 0; b < loader.batch_count(); ++b) {
    const sample_batch batch = loader.get(b);
    total += nn::evaluate_batch(model, t, batch.features, batch.labels, batch.size, sample);
  }
  model.train();
  return total;
}

/// Trains `model` for `epochs` with Adam and a shuffled order per epoch; returns the last epoch's totals.
nn::batch_result train(nn::module& model, const classification_dataset& data, const dense_shape& sample, int epochs,
                       int threads, std::uint64_t seed) {
  nn::adam_options o;
  o.lr = 3e-3f;
  nn::adam opt(model.parameters(), o);
  gemm_context ctx;
  ctx.threads = threads;
  tape t(ctx);
  batch_loader loader(data, 32);
  nn::batch_result last;
  for (int e = 0; e < epochs; ++e) {
    loader.shuffle(seed + static_cast<std::uint64_t>(e));
    last = {};
    for (std::size_t b = 0; b < loader.batch_count(); ++b) {
      const sample_batch batch = loader.get(b);
      last += nn::train_batch(model, opt, t, batch.features, batch.labels, batch.size, sample);
    }
  }
  return last;
}

std::uint32_t state_crc(nn::module& model) { return nn::state_checksum(model); }

}  // namespace

TEST_CASE("the MLP learns synthetic images: from chance to high test accuracy in a few epochs") {
  const synthetic_split data = make_data(800, 400);
  xoshiro256ss rng(1);
  auto model = nn::make_mlp({144, 32, 16, 4}, rng);
  tape t;
  const dense_shape sample{144};
  const double before = evaluate(*model, t, data.test, sample).accuracy();
  const nn::batch_result last_epoch = train(*model, data.train, sample, 4, 1, 5);
  const nn::batch_result after = evaluate(*model, t, data.test, sample);
  MESSAGE("MLP test accuracy before ", before, ", after ", after.accuracy(), ", loss ", after.mean_loss());
  CHECK(before < 0.5);
  CHECK(after.accuracy() > 0.95);
  CHECK(after.mean_loss() < 0.25);
  CHECK(last_epoch.count == 800);
}

TEST_CASE("the CNN (conv-BN-ReLU-pool x 2) learns synthetic images") {
  const synthetic_split data = make_data(800, 400);
  xoshiro256ss rng(2);
  auto model = nn::make_cnn(nn::cnn_spec{1, 12, 8, 16, 4}, rng);
  tape t;
  const dense_shape sample{1, 12, 12};
  const double before = evaluate(*model, t, data.test, sample).accuracy();
  train(*model, data.train, sample, 4, 1, 6);
  const double after = evaluate(*model, t, data.test, sample).accuracy();
  MESSAGE("CNN test accuracy before ", before, ", after ", after);
  CHECK(before < 0.5);
  CHECK(after > 0.9);
}

TEST_CASE("train_batch hands the optimizer the loss's gradient (central differences on every parameter)") {
  const synthetic_split data = make_data(8, 1);
  xoshiro256ss rng(3);
  auto model = nn::make_cnn(nn::cnn_spec{1, 12, 2, 3, 4}, rng);
  const dense_shape sample{1, 12, 12};
  // SGD with lr 0 steps nowhere, so the gradients stay readable after train_batch.
  nn::sgd_options o;
  o.lr = 0.0f;
  nn::sgd opt(model->parameters(), o);
  tape t;
  const nn::batch_result r = nn::train_batch(*model, opt, t, data.train.features(), data.train.labels().data(), 8, sample);
  const auto loss_at = [&] {
    tape probe;
    const var x = probe.input(dense_view(data.train.features(), dense_shape{8, 1, 12, 12}));
    return static_cast<double>(probe.item(softmax_cross_entropy(model->forward(probe, x), data.train.labels())));
  };
  CHECK(loss_at() == doctest::Approx(r.mean_loss()).epsilon(1e-6));
  for (const nn::named_parameter& p : model->named_parameters()) {
    for (std::size_t i = 0; i < p.value->value.size(); i += 1 + p.value->value.size() / 5) {
      CAPTURE(p.name);
      CAPTURE(i);
      float& w = p.value->value[i];
      const float saved = w, h = 1e-3f;
      w = saved + h;
      const double up = loss_at();
      w = saved - h;
      const double down = loss_at();
      w = saved;
      const double numeric = (up - down) / (2.0 * h);
      CHECK(p.value->grad[i] == doctest::Approx(numeric).epsilon(2e-2).scale(1e-3));
    }
  }
}

TEST_CASE("evaluation changes neither parameters nor running statistics") {
  const synthetic_split data = make_data(64, 64);
  xoshiro256ss rng(4);
  auto model = nn::make_cnn(nn::cnn_spec{1, 12, 2, 3, 4}, rng);
  train(*model, data.train, dense_shape{1, 12, 12}, 1, 1, 1);
  const std::uint32_t before = state_crc(*model);
  tape t;
  evaluate(*model, t, data.test, dense_shape{1, 12, 12});
  CHECK(state_crc(*model) == before);
}

TEST_CASE("the same seed and thread count give bit-identical trained parameters") {
  const synthetic_split data = make_data(256, 1);
  for (const int threads : {1, 2}) {
    CAPTURE(threads);
    std::uint32_t crc[3] = {};
    for (int run = 0; run < 3; ++run) {
      xoshiro256ss rng(run < 2 ? 7 : 8);  // the third run has another initialisation seed
      auto model = nn::make_cnn(nn::cnn_spec{1, 12, 4, 8, 4}, rng);
      train(*model, data.train, dense_shape{1, 12, 12}, 1, threads, 3);
      crc[run] = state_crc(*model);
    }
    CHECK(crc[0] == crc[1]);
    CHECK(crc[0] != crc[2]);
  }
}
