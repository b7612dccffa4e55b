// anybit-infer: evaluates a saved integer model (anybit/deploy/model_file.hpp) on the
// Fashion-MNIST test set and reports its accuracy and latency at batch 1 and batch N.
//
//     anybit-infer --model cnn_w2a2.aim --threads 1
//
// Features are pixels / 255; the model applies the normalisation stored in it. The model is
// loaded before the data, so a bad file is reported at once. Latency: the batch-N figure times
// the whole evaluation (after one warm-up batch); the batch-1 figure times single-image calls
// over the first images (after warm-up), whose predictions must equal the batched ones. Exit
// status: 0 on success, 1 on an anybit error (unreadable or corrupt model, missing data, a model
// that does not fit the data), 2 on a usage error. ANYBIT_PATHS restricts the gemm paths.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "anybit/deploy/integer_model.hpp"
#include "anybit/deploy/model_file.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/path.hpp"
#include "run_cli.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct settings {
  std::string model;
  std::string data = anybit::fashion_mnist_debian_dir;
  int threads = 1;
  std::size_t batch = 256;
  std::size_t limit = 0;          // 0 = every test image
  std::size_t latency_images = 1000;  // single-image calls timed for the batch-1 latency
};

// `dir/name`, or `dir/name.gz`; io_error naming both if neither exists.
std::string dataset_file(const std::string& dir, const std::string& name) {
  std::error_code ignored;
  for (const std::string& candidate : {name, name + ".gz"}) {
    const std::filesystem::path p = std::filesystem::path(dir) / candidate;
    if (std::filesystem::is_regular_file(p, ignored)) return p.string();
  }
  throw anybit::io_error(anybit::detail::message(name, "[.gz] not found in '", dir,
                                                 "' (on Debian: apt-get install dataset-fashion-mnist)"));
}

// The first `limit` test images (all for 0), features pixel / 255.
anybit::classification_dataset load_test_set(const std::string& dir, std::size_t limit) {
  anybit::classification_dataset test =
      anybit::load_idx_dataset(dataset_file(dir, "t10k-images-idx3-ubyte"), dataset_file(dir, "t10k-labels-idx1-ubyte"),
                               anybit::fashion_mnist_class_count);
  if (limit == 0 || limit >= test.size()) return test;
  std::vector<std::size_t> keep(limit);
  for (std::size_t i = 0; i < limit; ++i) keep[i] = i;
  return test.subset(keep);
}

int run(const settings& s) {
  anybit::deploy::integer_model model = anybit::deploy::load_model(s.model);
  std::printf("anybit-infer: %s, %zu layers, %zu model bytes, %.3f M MACs and %.3f G BitOps per image\n%s",
              s.model.c_str(), model.layers().size(), model.model_bytes(), static_cast<double>(model.macs()) * 1e-6,
              static_cast<double>(model.bitops()) * 1e-9, model.describe().c_str());

  const anybit::classification_dataset test = load_test_set(s.data, s.limit);
  if (model.input_size() != test.feature_count()) {
    throw anybit::shape_error(anybit::detail::message("the model takes ", model.input_size(),
                                                      " values per image, the test images have ", test.feature_count()));
  }
  if (model.output_size() != static_cast<std::size_t>(test.class_count())) {
    throw anybit::shape_error(anybit::detail::message("the model gives ", model.output_size(),
                                                      " logits per image, expected one per class: ", test.class_count()));
  }
  anybit::gemm_context ctx = anybit::gemm_context::from_environment();
  ctx.threads = s.threads;
  const std::size_t n = test.size();
  if (n == 0) throw anybit::shape_error("the test set is empty, expected at least one image");

  // Batch N: every image, in batches; the first batch once more beforehand as warm-up.
  std::vector<std::size_t> predicted(n);
  model.predict(test.features(), std::min(s.batch, n), predicted.data(), ctx);
  const auto batched_start = clock_type::now();
  for (std::size_t first = 0; first < n; first += s.batch) {
    model.predict(test.sample(first), std::min(s.batch, n - first), predicted.data() + first, ctx);
  }
  const double batched_seconds = seconds_since(batched_start);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) correct += predicted[i] == test.label(i);

  // Batch 1: single images, after a few warm-up calls.
  const std::size_t singles = std::min(s.latency_images, n);
  std::size_t one = 0, disagree = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, singles); ++i) model.predict(test.sample(i), 1, &one, ctx);
  const auto single_start = clock_type::now();
  for (std::size_t i = 0; i < singles; ++i) {
    model.predict(test.sample(i), 1, &one, ctx);
    disagree += one != predicted[i];
  }
  const double single_seconds = seconds_since(single_start);

  const std::size_t batches = (n + s.batch - 1) / s.batch;
  std::printf("accuracy %.2f%% (%zu of %zu test images), gemm path %s, %d thread(s)\n", 100.0 * static_cast<double>(correct) / static_cast<double>(n),
              correct, n, anybit::path_name(ctx.last_path), s.threads);
  std::printf("latency batch 1: %.4f ms per image (%zu images)\n", 1e3 * single_seconds / static_cast<double>(singles), singles);
  std::printf("latency batch %zu: %.4f ms per batch, %.4f ms per image (%zu batches)\n", s.batch,
              1e3 * batched_seconds / static_cast<double>(batches), 1e3 * batched_seconds / static_cast<double>(n), batches);
  if (disagree != 0) {
    std::fprintf(stderr, "anybit-infer: %zu of %zu images are predicted differently at batch 1 and batch %zu\n", disagree,
                 singles, s.batch);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"anybit-infer: evaluates a saved anybit integer model on the Fashion-MNIST test set"};
  app.add_option("--model", s.model, "the model file (saved by anybit::deploy::save_model)")->required();
  app.add_option("--data", s.data, "directory of the Fashion-MNIST IDX files (plain or .gz)");
  app.add_option("--threads", s.threads, "gemm threads (gemm_context::threads)")->check(CLI::Range(1, 256));
  app.add_option("--batch", s.batch, "images per call for the accuracy pass and the batch latency")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
  app.add_option("--limit", s.limit, "use only the first N test images (0 = all)");
  app.add_option("--latency-images", s.latency_images, "single-image calls timed for the batch-1 latency")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  return run_cli(app, argc, argv, "anybit-infer", [&] { return run(s); });
}
