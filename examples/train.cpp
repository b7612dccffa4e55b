// anybit-train: trains the reference MLP or CNN on Fashion-MNIST in fp32 and reports test
// accuracy and epoch times, on the terminal and as a JSON file.
//
//     anybit-train --model cnn --epochs 10 --threads 2 --json cnn.json
//
// Inputs are pixels / 255, normalised with the training set's mean and standard deviation.
// Defaults: Adam, lr 1e-3, batch 128, cosine decay of the learning rate over the run. The same
// seed and thread count give bit-identical results (only the timings differ). Exit status: 0 on
// success, 1 on an anybit error (missing or corrupt data, bad arguments), 2 on a usage error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/nn/adam.hpp"
#include "anybit/nn/classifier.hpp"
#include "anybit/nn/file_io.hpp"
#include "anybit/nn/lr_schedule.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "anybit/nn/sgd.hpp"

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
};

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

std::unique_ptr<anybit::nn::optimizer> make_optimizer(const settings& s, std::vector<anybit::parameter*> params) {
  if (s.optimizer == "sgd") {
    anybit::nn::sgd_options o;
    o.lr = static_cast<float>(s.lr);
    o.momentum = static_cast<float>(s.momentum);
    o.weight_decay = static_cast<float>(s.weight_decay);
    return std::make_unique<anybit::nn::sgd>(std::move(params), o);
  }
  anybit::nn::adam_options o;
  o.lr = static_cast<float>(s.lr);
  o.weight_decay = static_cast<float>(s.weight_decay);
  if (s.optimizer == "adamw") return std::make_unique<anybit::nn::adamw>(std::move(params), o);
  return std::make_unique<anybit::nn::adam>(std::move(params), o);
}

int run(const settings& s) {
  const auto load_start = clock_type::now();
  anybit::train_test_datasets sets = anybit::load_fashion_mnist(s.data);
  anybit::classification_dataset train = first_samples(std::move(sets.train), s.train_limit);
  anybit::classification_dataset test = first_samples(std::move(sets.test), s.test_limit);
  const anybit::feature_normalization norm = anybit::compute_normalization(train);
  anybit::normalize(train, norm);
  anybit::normalize(test, norm);
  const double load_seconds = seconds_since(load_start);

  anybit::xoshiro256ss init_rng(s.seed);
  const bool cnn = s.model == "cnn";
  std::unique_ptr<anybit::nn::sequential> model =
      cnn ? anybit::nn::make_cnn(anybit::nn::cnn_spec{}, init_rng) : anybit::nn::make_mlp({784, 256, 128, 10}, init_rng);
  const anybit::dense_shape sample_shape = cnn ? anybit::dense_shape{1, 28, 28} : anybit::dense_shape{784};
  if (train.feature_count() != sample_shape.size()) {
    throw anybit::shape_error(anybit::detail::message("anybit-train: the data has ", train.feature_count(),
                                                      " features per sample, the ", s.model, " expects ", sample_shape.size()));
  }
  const std::unique_ptr<anybit::nn::optimizer> opt = make_optimizer(s, model->parameters());

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
      train_total += anybit::nn::train_batch(*model, *opt, t, batch.features, batch.labels, batch.size, sample_shape);
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

  // A fingerprint of the trained state: equal for equal seeds and thread counts.
  const std::uint32_t state_crc = anybit::nn::state_checksum(*model);
  if (!s.save.empty()) anybit::nn::save_parameters(*model, s.save);
  if (!s.quiet) {
    std::printf("test accuracy %.2f%% after %d epochs, %.1f s training (%.2f s per epoch), state crc32 %08x\n",
                100.0 * last_test.accuracy(), s.epochs, train_seconds,
                s.epochs > 0 ? train_seconds / s.epochs : 0.0, state_crc);
  }
  if (!s.json.empty()) {
    const nlohmann::json result = {{"model", s.model},
                                   {"method", "fp32"},
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the message, or the help text for --help (code 0)
    return code == 0 ? 0 : 2;
  }
  try {
    return run(s);
  } catch (const anybit::error& e) {
    std::fprintf(stderr, "anybit-train: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anybit-train: unexpected error: %s\n", e.what());
    return 1;
  }
}
