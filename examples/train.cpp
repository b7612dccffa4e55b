// anybit-train: trains the reference MLP or CNN on Fashion-MNIST, in fp32 or quantization-aware
// (LSQ, PACT, DDQ with learned bit-widths), and reports test accuracy and epoch times, on the
// terminal and as a JSON file.
//
//     anybit-train --model cnn --epochs 10 --threads 2 --json cnn.json
//     anybit-train --model cnn --method lsq --wbits 2 --abits 2
//     anybit-train --model cnn --method ddq --budget 3 --abits 4
//
// Quantized runs: weights per output channel, activations per tensor; the first and last layer
// at --edge-bits (8) unless it is 0; the network input through a calibrated 8-bit uniform
// quantizer. lsq: LSQ weights and activations. pact: PACT activations, uniform min/max weights
// recalibrated every step (DoReFa-like). ddq: DDQ weights (bit-widths learned from 8, with the
// --budget hinge on their average), LSQ activations; the gates freeze for the last epoch.
//
// Inputs are pixels / 255, normalised with the training set's mean and standard deviation.
// Defaults: Adam, lr 1e-3, batch 128, cosine decay of the learning rate over the run. The same
// seed and thread count give bit-identical results (only the timings differ). Exit status: 0 on
// success, 1 on an anybit error (missing or corrupt data, bad arguments), 2 on a usage error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "anybit/deploy/export.hpp"
#include "anybit/deploy/model_file.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/bit_budget.hpp"
#include "anybit/nn/classifier.hpp"
#include "anybit/nn/file_io.hpp"
#include "anybit/nn/lr_schedule.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "anybit/nn/sgd.hpp"
#include "run_cli.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct settings {
  std::string model = "mlp";
  int epochs = 10;
  std::size_t batch = 128;
  double lr = 1e-3;  // double, so the JSON repeats what was typed
  std::uint64_t seed = 1;
  int threads = 1;
  std::string data = anybit::fashion_mnist_debian_dir;
  std::string json;
  std::string optimizer = "adam";
  double weight_decay = 0.0;
  double momentum = 0.9;
  std::string schedule = "cosine";
  std::size_t train_limit = 0;  // 0 = every sample
  std::size_t test_limit = 0;
  std::string save;
  bool quiet = false;
  std::string method = "fp32";
  int wbits = 4, abits = 4;
  int edge_bits = 8;          // first and last layer; 0 = like the others
  double budget = 0;          // ddq: target average weight bits (0 = no budget)
  double budget_lambda = 1.0;
  double quant_lr = 0;        // quantizer parameters' learning rate (0 = --lr)
  int freeze_epochs = 1;      // ddq: gates fixed for the last N epochs
  double gate_lr = 0.05;      // ddq: gradient-descent rate of the gate logits
  std::string export_path;    // quantized: save the integer model here
};

/// The quantizers of each layer for the chosen method (null for fp32).
std::unique_ptr<anybit::nn::network_quantization> make_quantization(const settings& s) {
  using anybit::nn::quant_method;
  if (s.method == "fp32") return nullptr;
  const auto spec = [](quant_method m, int bits, bool recalibrate = false) {
    anybit::nn::quantizer_spec q;
    q.method = m;
    q.bits = bits;
    q.recalibrate = recalibrate;
    return q;
  };
  const bool pact = s.method == "pact", ddq = s.method == "ddq";
  const auto weights = [&](int bits) {
    if (pact) return spec(quant_method::uniform, bits, true);
    if (ddq) return spec(quant_method::ddq, 8);  // learns its width down from 8
    return spec(quant_method::lsq, bits);
  };
  const auto inputs = [&](int bits) { return spec(pact ? quant_method::pact : quant_method::lsq, bits); };
  auto q = std::make_unique<anybit::nn::network_quantization>();
  q->middle = {weights(s.wbits), inputs(s.abits)};
  if (s.edge_bits == 0) {
    q->first = q->last = q->middle;
  } else {
    const auto edge_weights = ddq ? spec(quant_method::lsq, s.edge_bits) : weights(s.edge_bits);
    q->first = {edge_weights, inputs(s.edge_bits)};
    q->last = {edge_weights, inputs(s.edge_bits)};
  }
  // The network input is normalised (either sign): a calibrated grid with an integer zero point.
  q->first.inputs = spec(quant_method::uniform, s.edge_bits == 0 ? s.abits : s.edge_bits);
  return q;
}

/// Per weight layer of a quantized model: name, weight bits, input bits, weight count.
struct layer_bits {
  std::string name;
  int wbits, abits;
  std::size_t weights;
};
std::vector<layer_bits> quantized_layers(anybit::nn::module& model) {
  std::vector<layer_bits> out;
  const auto bits_of = [](anybit::nn::quantizer* q) { return q != nullptr && q->initialized() ? q->bits() : 32; };
  for (anybit::nn::module* m : model.modules()) {
    if (auto* c = dynamic_cast<anybit::nn::qconv2d*>(m)) {
      out.push_back({c->describe(), bits_of(c->weight_quantizer()), bits_of(c->input_quantizer()), c->weight().value.size()});
    } else if (auto* l = dynamic_cast<anybit::nn::qlinear*>(m)) {
      out.push_back({l->describe(), bits_of(l->weight_quantizer()), bits_of(l->input_quantizer()), l->weight().value.size()});
    }
  }
  return out;
}

/// A one-line progress display on stderr, redrawn at most every 0.2 s when it is a terminal.
class progress_line {
 public:
  explicit progress_line(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) != 0) {}

  void update(int epoch, int epochs, std::size_t batch, std::size_t batches, const anybit::nn::batch_result& so_far,
              double seconds) {
    if (!enabled_ || (batch != batches && seconds_since(last_) < 0.2)) return;
    last_ = clock_type::now();
    std::fprintf(stderr, "\repoch %d/%d  batch %zu/%zu  loss %.4f  acc %.2f%%  %.0f samples/s   ", epoch, epochs, batch,
                 batches, so_far.mean_loss(), 100.0 * so_far.accuracy(),
                 seconds > 0 ? static_cast<double>(so_far.count) / seconds : 0.0);
    std::fflush(stderr);
  }
  void finish() {
    if (enabled_) std::fprintf(stderr, "\r%90s\r", "");
  }

 private:
  bool enabled_;
  clock_type::time_point last_ = clock_type::now();
};

anybit::classification_dataset first_samples(anybit::classification_dataset data, std::size_t limit) {
  if (limit == 0 || limit >= data.size()) return data;
  std::vector<std::size_t> keep(limit);
  for (std::size_t i = 0; i < limit; ++i) keep[i] = i;
  return data.subset(keep);
}

/// Two groups: the model's weights, and the quantizers' parameters (their own learning rate, no
/// weight decay: a decayed step or clip would shrink for no reason).
std::unique_ptr<anybit::nn::optimizer> make_optimizer(const settings& s, anybit::nn::module& model) {
  anybit::nn::param_group weights, quantizers;
  for (const anybit::nn::named_parameter& p : model.named_parameters()) {
    (p.name.find("quantizer.") != std::string::npos ? quantizers : weights).params.push_back(p.value);
  }
  quantizers.lr = static_cast<float>(s.quant_lr > 0 ? s.quant_lr : s.lr);
  quantizers.weight_decay = 0.0f;
  std::vector<anybit::nn::param_group> groups{weights};
  if (!quantizers.params.empty()) groups.push_back(quantizers);
  if (s.optimizer == "sgd") {
    anybit::nn::sgd_options o;
    o.lr = static_cast<float>(s.lr);
    o.momentum = static_cast<float>(s.momentum);
    o.weight_decay = static_cast<float>(s.weight_decay);
    return std::make_unique<anybit::nn::sgd>(std::move(groups), o);
  }
  anybit::nn::adam_options o;
  o.lr = static_cast<float>(s.lr);
  o.weight_decay = static_cast<float>(s.weight_decay);
  if (s.optimizer == "adamw") return std::make_unique<anybit::nn::adamw>(std::move(groups), o);
  return std::make_unique<anybit::nn::adam>(std::move(groups), o);
}

using sample_clock = std::chrono::steady_clock;

/// Milliseconds per call of f(), the median of `runs` after one warm-up call.
template <class F>
double median_ms(int runs, F f) {
  f();
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto start = sample_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(sample_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

/// The quantized model against its integer export on the test set.
struct integer_results {
  double accuracy = 0, agreement = 0;
  double latency_ms_batch1 = 0, latency_ms_batch256 = 0;
  double float_latency_ms_batch1 = 0, float_latency_ms_batch256 = 0;
  std::size_t model_bytes = 0;
  std::uint64_t bitops = 0, macs = 0;
};

integer_results evaluate_integer(anybit::nn::sequential& model, anybit::deploy::integer_model& integer,
                                 anybit::nn::sequential& float_model, const anybit::classification_dataset& test,
                                 const anybit::classification_dataset& raw_test, const anybit::dense_shape& sample,
                                 anybit::gemm_context& ctx) {
  integer_results r;
  const std::size_t n = test.size(), features = test.feature_count();
  std::vector<std::size_t> int_classes(n);
  integer.predict(raw_test.features(), n, int_classes.data(), ctx);
  // The fake-quant model's predictions, in eval mode, 1000 at a time.
  model.eval();
  anybit::tape t(ctx);
  std::size_t agree = 0, correct = 0;
  for (std::size_t first = 0; first < n; first += 1000) {
    const std::size_t count = std::min<std::size_t>(1000, n - first);
    t.clear();
    const anybit::no_grad_guard no_grad(t);
    const anybit::dense_shape shape = sample.rank() == 1 ? anybit::dense_shape{count, sample[0]}
                                                         : anybit::dense_shape{count, sample[0], sample[1], sample[2]};
    const anybit::var logits = model.forward(t, t.input(anybit::dense_view(test.features() + first * features, shape)));
    const anybit::dense_view v = t.value(logits);
    const std::size_t classes = v.shape()[1];
    for (std::size_t i = 0; i < count; ++i) {
      const float* row = v.data() + i * classes;
      const auto fq = static_cast<std::size_t>(std::max_element(row, row + classes) - row);
      agree += fq == int_classes[first + i] ? 1 : 0;
      correct += int_classes[first + i] == static_cast<std::size_t>(test.labels()[first + i]) ? 1 : 0;
    }
  }
  r.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  r.agreement = static_cast<double>(agree) / static_cast<double>(n);
  r.model_bytes = integer.model_bytes();
  r.bitops = integer.bitops();
  r.macs = integer.macs();

  // Latency: the integer model and the float model of the same architecture (the library's own
  // float path, eval mode, no gradients), on the first images of the test set.
  const std::size_t big = std::min<std::size_t>(256, n);
  std::vector<float> logits(big * 16);
  r.latency_ms_batch1 = median_ms(50, [&] { integer.forward(raw_test.features(), 1, logits.data(), ctx); });
  r.latency_ms_batch256 = median_ms(5, [&] { integer.forward(raw_test.features(), big, logits.data(), ctx); });
  float_model.eval();
  const auto float_forward = [&](std::size_t count) {
    t.clear();
    const anybit::no_grad_guard no_grad(t);
    const anybit::dense_shape shape = sample.rank() == 1 ? anybit::dense_shape{count, sample[0]}
                                                         : anybit::dense_shape{count, sample[0], sample[1], sample[2]};
    (void)float_model.forward(t, t.input(anybit::dense_view(test.features(), shape)));
  };
  r.float_latency_ms_batch1 = median_ms(50, [&] { float_forward(1); });
  r.float_latency_ms_batch256 = median_ms(5, [&] { float_forward(big); });
  return r;
}

int run(const settings& s) {
  const auto load_start = clock_type::now();
  anybit::train_test_datasets sets = anybit::load_fashion_mnist(s.data);
  anybit::classification_dataset train = first_samples(std::move(sets.train), s.train_limit);
  anybit::classification_dataset test = first_samples(std::move(sets.test), s.test_limit);
  const anybit::feature_normalization norm = anybit::compute_normalization(train);
  const anybit::classification_dataset raw_test = test;  // what an exported model is fed
  anybit::normalize(train, norm);
  anybit::normalize(test, norm);
  const double load_seconds = seconds_since(load_start);

  anybit::xoshiro256ss init_rng(s.seed);
  const bool cnn = s.model == "cnn";
  const std::unique_ptr<anybit::nn::network_quantization> quantization = make_quantization(s);
  std::unique_ptr<anybit::nn::sequential> model =
      cnn ? anybit::nn::make_cnn(anybit::nn::cnn_spec{}, init_rng, quantization.get())
          : anybit::nn::make_mlp({784, 256, 128, 10}, init_rng, quantization.get());
  const anybit::dense_shape sample_shape = cnn ? anybit::dense_shape{1, 28, 28} : anybit::dense_shape{784};
  if (train.feature_count() != sample_shape.size()) {
    throw anybit::shape_error(anybit::detail::message("anybit-train: the data has ", train.feature_count(),
                                                      " features per sample, the ", s.model, " expects ", sample_shape.size()));
  }
  const std::unique_ptr<anybit::nn::optimizer> opt = make_optimizer(s, *model);
  std::unique_ptr<anybit::nn::weight_bit_budget> budget;
  if (s.method == "ddq" && s.budget > 0) budget = std::make_unique<anybit::nn::weight_bit_budget>(*model, s.budget, s.budget_lambda);
  const int search_epochs = s.method == "ddq" ? std::max(1, s.epochs - s.freeze_epochs) : s.epochs;
  bool frozen = false;

  anybit::gemm_context ctx;
  ctx.threads = s.threads;
  anybit::tape t(ctx);
  anybit::batch_loader loader(train, s.batch);
  anybit::batch_loader test_loader(test, 1000);
  const std::size_t batches = loader.batch_count();
  const std::size_t total_steps = batches * static_cast<std::size_t>(s.epochs);

  if (!s.quiet) {
    std::printf("anybit-train: %s, %zu parameters: %s\n", s.model.c_str(), model->parameter_count(),
                model->describe().c_str());
    std::printf("data: %zu train / %zu test samples from %s (%.2f s to load; mean %.4f, std %.4f)\n", train.size(),
                test.size(), s.data.c_str(), load_seconds, static_cast<double>(norm.mean[0]),
                static_cast<double>(norm.stddev[0]));
    std::printf("%s, lr %g, %s schedule, batch %zu, %d epochs, %d thread(s), seed %llu\n", s.optimizer.c_str(),
                s.lr, s.schedule.c_str(), s.batch, s.epochs, s.threads,
                static_cast<unsigned long long>(s.seed));
  }

  nlohmann::json epochs_json = nlohmann::json::array();
  std::vector<double> epoch_seconds;
  double train_seconds = 0;
  anybit::nn::batch_result last_test;
  progress_line progress(!s.quiet);
  std::size_t step = 0;
  anybit::splitmix64 order_seeds(s.seed);  // one data order per epoch, replayed by the seed
  for (int epoch = 0; epoch < s.epochs; ++epoch) {
    loader.shuffle(order_seeds.next());
    model->train();
    if (budget && epoch == search_epochs && !frozen) {  // the search ends: meet the budget, fix the gates
      const int merges = budget->repair();
      budget->freeze();
      frozen = true;
      if (!s.quiet) std::printf("ddq: gates frozen at %.3f average weight bits (%d merged by repair)\n", budget->average_bits(), merges);
    }
    anybit::nn::batch_result train_total;
    const auto epoch_start = clock_type::now();
    for (std::size_t b = 0; b < batches; ++b, ++step) {
      if (s.schedule == "cosine") {
        anybit::nn::apply_schedule(*opt, anybit::nn::cosine_schedule{total_steps, 0.0}, step);
      } else if (s.schedule == "step") {  // x0.1 at 50 % and 75 % of the run
        const double progress_fraction = static_cast<double>(step) / static_cast<double>(total_steps);
        const std::size_t drops = progress_fraction >= 0.75 ? 2 : progress_fraction >= 0.5 ? 1 : 0;
        anybit::nn::apply_schedule(*opt, anybit::nn::step_schedule{1, 0.1}, drops);
      }
      const anybit::sample_batch batch = loader.get(b);
      train_total += anybit::nn::train_batch(*model, *opt, t, batch.features, batch.labels, batch.size, sample_shape, [&] {
        if (!budget) return;
        if (frozen) return budget->zero_gate_gradients();
        budget->add_gradient();
        budget->step_gates(static_cast<float>(s.gate_lr));
      });
      progress.update(epoch + 1, s.epochs, b + 1, batches, train_total, seconds_since(epoch_start));
    }
    const double seconds = seconds_since(epoch_start);
    progress.finish();
    epoch_seconds.push_back(seconds);
    train_seconds += seconds;

    const auto eval_start = clock_type::now();
    model->eval();
    anybit::nn::batch_result test_total;
    for (std::size_t b = 0; b < test_loader.batch_count(); ++b) {
      const anybit::sample_batch batch = test_loader.get(b);
      test_total += anybit::nn::evaluate_batch(*model, t, batch.features, batch.labels, batch.size, sample_shape);
    }
    const double eval_seconds = seconds_since(eval_start);
    last_test = test_total;
    if (!s.quiet && quantization) {
      std::printf("bits (w/a):");
      for (const layer_bits& l : quantized_layers(*model)) std::printf(" %d/%d", l.wbits, l.abits);
      if (budget) std::printf("  ddq average weight bits %.3f (budget %.3g)", budget->average_bits(), s.budget);
      std::printf("\n");
    }
    if (!s.quiet) {
      std::printf("epoch %2d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  %.2f s (%.0f samples/s), eval %.2f s\n",
                  epoch + 1, s.epochs, train_total.mean_loss(), 100.0 * train_total.accuracy(), test_total.mean_loss(),
                  100.0 * test_total.accuracy(), seconds, static_cast<double>(train_total.count) / seconds,
                  eval_seconds);
      std::fflush(stdout);
    }
    epochs_json.push_back({{"epoch", epoch + 1},
                           {"train_loss", train_total.mean_loss()},
                           {"train_accuracy", train_total.accuracy()},
                           {"test_loss", test_total.mean_loss()},
                           {"test_accuracy", test_total.accuracy()},
                           {"seconds", seconds},
                           {"eval_seconds", eval_seconds}});
  }

  std::optional<integer_results> integer;
  if (quantization) {
    const anybit::deploy::export_input input{cnn ? anybit::deploy::tensor_shape{1, 28, 28} : anybit::deploy::tensor_shape{784, 1, 1},
                                             norm.mean, norm.stddev};
    anybit::deploy::integer_model exported = anybit::deploy::export_model(*model, input);
    if (!s.export_path.empty()) anybit::deploy::save_model(exported, s.export_path);
    anybit::xoshiro256ss float_rng(s.seed);
    const std::unique_ptr<anybit::nn::sequential> float_model =
        cnn ? anybit::nn::make_cnn(anybit::nn::cnn_spec{}, float_rng) : anybit::nn::make_mlp({784, 256, 128, 10}, float_rng);
    integer = evaluate_integer(*model, exported, *float_model, test, raw_test, sample_shape, ctx);
    if (!s.quiet) {
      std::printf("integer model: test accuracy %.2f%%, agrees with fake-quant on %.2f%%, %zu bytes, %.3g BitOps/image\n",
                  100.0 * integer->accuracy, 100.0 * integer->agreement, integer->model_bytes,
                  static_cast<double>(integer->bitops));
      std::printf("latency ms (batch 1 / 256): integer %.3f / %.2f, float %.3f / %.2f%s\n", integer->latency_ms_batch1,
                  integer->latency_ms_batch256, integer->float_latency_ms_batch1, integer->float_latency_ms_batch256,
                  s.export_path.empty() ? "" : (", saved to " + s.export_path).c_str());
    }
  }

  // A fingerprint of the trained state: equal for equal seeds and thread counts.
  const std::uint32_t state_crc = anybit::nn::state_checksum(*model);
  if (!s.save.empty()) anybit::nn::save_parameters(*model, s.save);
  if (!s.quiet) {
    std::printf("test accuracy %.2f%% after %d epochs, %.1f s training (%.2f s per epoch), state crc32 %08x\n",
                100.0 * last_test.accuracy(), s.epochs, train_seconds,
                s.epochs > 0 ? train_seconds / s.epochs : 0.0, state_crc);
  }
  if (!s.json.empty()) {
    nlohmann::json result = {{"model", s.model},
                                   {"method", s.method},
                                   {"test_accuracy", last_test.accuracy()},
                                   {"test_loss", last_test.mean_loss()},
                                   {"epoch_seconds", epoch_seconds},
                                   {"train_seconds", train_seconds},
                                   {"params", model->parameter_count()},
                                   {"epochs", s.epochs},
                                   {"batch", s.batch},
                                   {"lr", s.lr},
                                   {"optimizer", s.optimizer},
                                   {"weight_decay", s.weight_decay},
                                   {"schedule", s.schedule},
                                   {"seed", s.seed},
                                   {"threads", s.threads},
                                   {"train_samples", train.size()},
                                   {"test_samples", test.size()},
                                   {"state_crc32", state_crc},
                                   {"history", epochs_json}};
    if (quantization) {
      // Output positions per weight layer: a weight is used once per position per sample.
      const std::vector<std::size_t> positions = cnn ? std::vector<std::size_t>{28 * 28, 14 * 14, 1}
                                                     : std::vector<std::size_t>{1, 1, 1};
      std::vector<int> wbits, abits;
      double bitops = 0, macs = 0, weighted_bits = 0, weights = 0;
      const std::vector<layer_bits> layers = quantized_layers(*model);
      for (std::size_t i = 0; i < layers.size(); ++i) {
        const double layer_macs = static_cast<double>(layers[i].weights * positions.at(i));
        wbits.push_back(layers[i].wbits);
        abits.push_back(layers[i].abits);
        macs += layer_macs;
        bitops += layer_macs * layers[i].wbits * layers[i].abits;
        weighted_bits += static_cast<double>(layers[i].weights) * layers[i].wbits;
        weights += static_cast<double>(layers[i].weights);
      }
      result["wbits"] = wbits;
      result["abits"] = abits;
      result["macs"] = macs;
      result["bitops"] = bitops;
      result["avg_wbits"] = weighted_bits / weights;
      if (budget) {
        result["budget"] = s.budget;
        result["ddq_avg_wbits"] = budget->average_bits();
      }
      result["int_accuracy"] = integer->accuracy;
      result["agreement"] = integer->agreement;
      result["model_bytes"] = integer->model_bytes;
      result["latency_ms"] = {{"integer_batch1", integer->latency_ms_batch1},
                              {"integer_batch256", integer->latency_ms_batch256},
                              {"float_batch1", integer->float_latency_ms_batch1},
                              {"float_batch256", integer->float_latency_ms_batch256}};
    }
    anybit::nn::write_file_atomically(s.json, result.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"anybit-train: trains an fp32 MLP or CNN on Fashion-MNIST"};
  app.add_option("--model", s.model, "mlp (784-256-128-10) or cnn (two conv-BN-ReLU-pool blocks)")
      ->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", s.epochs, "passes over the training set")->check(CLI::Range(0, 1000));
  app.add_option("--batch", s.batch, "samples per step")->check(CLI::Range(std::size_t{2}, std::size_t{65536}));
  app.add_option("--lr", s.lr, "learning rate")->check(CLI::PositiveNumber);
  app.add_option("--seed", s.seed, "seeds initialisation and data order");
  app.add_option("--threads", s.threads, "float GEMM threads (gemm_context::threads)")->check(CLI::Range(1, 256));
  app.add_option("--data", s.data, "directory of the Fashion-MNIST IDX files (plain or .gz)");
  app.add_option("--json", s.json, "write the results here (atomically)");
  app.add_option("--optimizer", s.optimizer, "adam, adamw or sgd")->check(CLI::IsMember({"adam", "adamw", "sgd"}));
  app.add_option("--weight-decay", s.weight_decay, "L2 (adam, sgd) or decoupled (adamw) weight decay")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--momentum", s.momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0));
  app.add_option("--schedule", s.schedule, "learning rate: none, cosine (to 0 over the run, per step) or step "
                                           "(x0.1 at 50 % and 75 %)")
      ->check(CLI::IsMember({"none", "cosine", "step"}));
  app.add_option("--train-limit", s.train_limit, "use only the first N training samples (0 = all)");
  app.add_option("--test-limit", s.test_limit, "use only the first N test samples (0 = all)");
  app.add_option("--save", s.save, "save the trained parameters here (anybit parameter file)");
  app.add_flag("--quiet", s.quiet, "print nothing but errors");
  app.add_option("--method", s.method, "fp32, or quantization-aware: lsq, pact or ddq")
      ->check(CLI::IsMember({"fp32", "lsq", "pact", "ddq"}));
  app.add_option("--wbits", s.wbits, "weight bits of the quantized layers (lsq, pact)")->check(CLI::Range(1, 8));
  app.add_option("--abits", s.abits, "activation bits of the quantized layers")->check(CLI::Range(1, 8));
  app.add_option("--edge-bits", s.edge_bits, "bits of the first and last layer (0: like the others)")
      ->check(CLI::Range(0, 8));
  app.add_option("--budget", s.budget, "ddq: target average weight bits of the learned layers")
      ->check(CLI::Range(1.0, 8.0));
  app.add_option("--budget-lambda", s.budget_lambda, "ddq: weight of the budget term")->check(CLI::Range(0.0, 1e6));
  app.add_option("--quant-lr", s.quant_lr, "learning rate of the quantizer parameters (default: --lr)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--export", s.export_path, "quantized methods: save the integer model here (for anybit-infer)");
  app.add_option("--gate-lr", s.gate_lr, "ddq: gradient-descent rate of the bit-width gates")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--freeze-epochs", s.freeze_epochs, "ddq: last epochs with the bit-widths fixed")
      ->check(CLI::Range(0, 1000));
  return run_cli(app, argc, argv, "anybit-train", [&] { return run(s); });
}
