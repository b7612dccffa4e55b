// export_model: a trained quantized CNN and MLP become integer models whose predictions agree
// with the models' own eval-mode fake-quant forward, at several bit-widths (binary weights and
// DDQ-learned widths included), through a file round trip; unexportable models say why.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/data/dataset.hpp"
#include "anybit/data/synthetic.hpp"
#include "anybit/deploy/export.hpp"
#include "anybit/deploy/model_file.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/classifier.hpp"
#include "anybit/nn/models.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

nn::quantizer_spec spec(nn::quant_method m, int bits) {
  nn::quantizer_spec s;
  s.method = m;
  s.bits = bits;
  return s;
}

nn::network_quantization quantization(nn::quant_method weights, int wbits, nn::quant_method inputs, int abits) {
  nn::network_quantization q;
  q.first = {spec(nn::quant_method::lsq, 8), spec(nn::quant_method::uniform, 8)};
  q.middle = {spec(weights, wbits), spec(inputs, abits)};
  q.last = {spec(nn::quant_method::lsq, 8), spec(nn::quant_method::lsq, 8)};
  return q;
}

struct split {
  classification_dataset train, test;
};

split make_data() {
  synthetic_spec s;
  s.noise = 0.6;
  s.count = 400;
  s.sample_seed = 31;
  split d{make_synthetic_dataset(s), {}};
  s.count = 500;
  s.sample_seed = 32;
  d.test = make_synthetic_dataset(s);
  const feature_normalization norm = compute_normalization(d.train);
  normalize(d.train, norm);
  normalize(d.test, norm);
  return d;
}

void train(nn::module& model, const classification_dataset& data, const dense_shape& sample) {
  nn::adam opt(model.parameters(), nn::adam_options{});
  tape t;
  batch_loader loader(data, 32);
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.shuffle(static_cast<std::uint64_t>(epoch));
    for (std::size_t b = 0; b < loader.batch_count(); ++b) {
      const sample_batch batch = loader.get(b);
      nn::train_batch(model, opt, t, batch.features, batch.labels, batch.size, sample);
    }
  }
}

std::vector<std::size_t> argmax_rows(const float* logits, std::size_t rows, std::size_t classes) {
  std::vector<std::size_t> out(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    out[r] = static_cast<std::size_t>(std::max_element(logits + r * classes, logits + (r + 1) * classes) -
                                      (logits + r * classes));
  }
  return out;
}

// Fraction of test samples where the integer model and the fake-quant model predict alike, and
// the largest logit difference.
struct agreement {
  double fraction = 0;
  double max_logit_gap = 0;
};

agreement compare(nn::sequential& model, deploy::integer_model& integer, const classification_dataset& test,
                  const dense_shape& sample) {
  model.eval();
  tape t;
  const no_grad_guard no_grad(t);
  const dense_shape batch_shape = sample.rank() == 1 ? dense_shape{test.size(), sample[0]}
                                                    : dense_shape{test.size(), sample[0], sample[1], sample[2]};
  const var logits = model.forward(t, t.input(dense_view(test.features(), batch_shape)));
  const dense_view want = t.value(logits);
  const std::size_t classes = want.shape()[1];
  std::vector<float> got(test.size() * classes);
  gemm_context ctx;
  integer.forward(test.features(), test.size(), got.data(), ctx);
  const auto a = argmax_rows(want.data(), test.size(), classes), b = argmax_rows(got.data(), test.size(), classes);
  agreement r;
  for (std::size_t i = 0; i < a.size(); ++i) r.fraction += a[i] == b[i] ? 1.0 : 0.0;
  r.fraction /= static_cast<double>(a.size());
  for (std::size_t i = 0; i < got.size(); ++i) r.max_logit_gap = std::max(r.max_logit_gap, static_cast<double>(std::fabs(got[i] - want[i])));
  model.train();
  return r;
}

}  // namespace

TEST_CASE("exported CNNs predict as their fake-quant forward does, and survive a file round trip") {
  const split data = make_data();
  const dense_shape sample{1, 12, 12};
  struct config {
    nn::quant_method weights;
    int wbits;
    nn::quant_method inputs;
    int abits;
  };
  for (const config c : {config{nn::quant_method::lsq, 4, nn::quant_method::lsq, 4},
                         config{nn::quant_method::lsq, 2, nn::quant_method::lsq, 2},
                         config{nn::quant_method::lsq, 1, nn::quant_method::lsq, 1},
                         config{nn::quant_method::ddq, 8, nn::quant_method::pact, 3}}) {
    CAPTURE(std::string(nn::quant_method_name(c.weights)));
    CAPTURE(c.wbits);
    CAPTURE(c.abits);
    const nn::network_quantization q = quantization(c.weights, c.wbits, c.inputs, c.abits);
    xoshiro256ss rng(9);
    auto model = nn::make_cnn(nn::cnn_spec{1, 12, 8, 16, 4}, rng, &q);
    train(*model, data.train, sample);
    deploy::integer_model integer = deploy::export_model(*model, {{1, 12, 12}, {}, {}});
    const agreement a = compare(*model, integer, data.test, sample);
    MESSAGE("agreement ", a.fraction, ", largest logit gap ", a.max_logit_gap);
    CHECK(a.fraction >= 0.99);
    CHECK(a.max_logit_gap < 1e-3);

    const test::scratch_dir dir("export");
    const std::string path = (dir.path / "model.anybit").string();
    deploy::save_model(integer, path);
    deploy::integer_model loaded = deploy::load_model(path);
    std::vector<float> x(data.test.features(), data.test.features() + 20 * 144), y1(20 * 4), y2(20 * 4);
    gemm_context ctx;
    integer.forward(x.data(), 20, y1.data(), ctx);
    loaded.forward(x.data(), 20, y2.data(), ctx);
    CHECK(y1 == y2);
  }
}

TEST_CASE("an exported MLP agrees with its fake-quant forward") {
  const split data = make_data();
  const nn::network_quantization q = quantization(nn::quant_method::lsq, 3, nn::quant_method::lsq, 3);
  xoshiro256ss rng(10);
  auto model = nn::make_mlp({144, 32, 16, 4}, rng, &q);
  train(*model, data.train, dense_shape{144});
  deploy::integer_model integer = deploy::export_model(*model, {{144, 1, 1}, {}, {}});
  const agreement a = compare(*model, integer, data.test, dense_shape{144});
  CHECK(a.fraction >= 0.99);
  CHECK(a.max_logit_gap < 1e-3);
}

TEST_CASE("export names what it cannot handle") {
  xoshiro256ss rng(11);
  auto plain = nn::make_mlp({6, 4, 3}, rng);
  CHECK(test::thrown_message<error>([&] { (void)deploy::export_model(*plain, {{6, 1, 1}, {}, {}}); })
            .find("not exportable") != std::string::npos);
  const nn::network_quantization q = quantization(nn::quant_method::lsq, 3, nn::quant_method::lsq, 3);
  auto untrained = nn::make_mlp({6, 4, 3}, rng, &q);
  CHECK(test::thrown_message<error>([&] { (void)deploy::export_model(*untrained, {{6, 1, 1}, {}, {}}); })
            .find("never initialised") != std::string::npos);
}
