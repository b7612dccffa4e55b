// The classification dataset: construction checks, scaling, normalisation against sums done
// here, seeded shuffling that keeps features and labels together, and batching that covers
// every sample once.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/data/dataset.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Sample i has features {i, i + 0.25, i + 0.5} and label i % classes, so a sample's features
// name it after any reordering.
classification_dataset indexed_dataset(std::size_t n, int classes) {
  std::vector<float> features;
  std::vector<std::uint8_t> labels;
  for (std::size_t i = 0; i < n; ++i) {
    for (float offset : {0.0f, 0.25f, 0.5f}) features.push_back(static_cast<float>(i) + offset);
    labels.push_back(static_cast<std::uint8_t>(i % static_cast<std::size_t>(classes)));
  }
  return classification_dataset(features, labels, 3, classes);
}

// The sample index a row of indexed_dataset came from, after checking the row is intact.
std::size_t index_of(const float* row, std::uint8_t label, int classes) {
  const auto i = static_cast<std::size_t>(row[0]);
  REQUIRE(row[1] == static_cast<float>(i) + 0.25f);
  REQUIRE(row[2] == static_cast<float>(i) + 0.5f);
  REQUIRE(label == i % static_cast<std::size_t>(classes));
  return i;
}

}  // namespace

TEST_CASE("a dataset checks its sizes, class count and labels") {
  const std::string sizes = test::thrown_message<shape_error>(
      [] { classification_dataset(std::vector<float>(7), std::vector<std::uint8_t>(2), 3, 4); });
  CHECK(contains(sizes, "dataset has 7 feature values for 2 labels of 3 features, expected 2 x 3"));
  const std::string label = test::thrown_message<format_error>(
      [] { classification_dataset(std::vector<float>(6), std::vector<std::uint8_t>{1, 0, 7}, 2, 5); });
  CHECK(contains(label, "label of sample 2 is 7, expected 0..4"));
  for (int classes : {0, 257}) {
    CHECK_THROWS_AS(classification_dataset(std::vector<float>(2), std::vector<std::uint8_t>{0, 0}, 1, classes), shape_error);
  }
  CHECK_THROWS_AS(classification_dataset(std::vector<float>{}, std::vector<std::uint8_t>{}, 0, 2), shape_error);
  const classification_dataset ok(std::vector<float>{1, 2, 3, 4}, std::vector<std::uint8_t>{1, 0}, 2, 2);
  CHECK(ok.size() == 2);
  CHECK(ok.sample(1)[1] == 4.0f);
  CHECK(ok.label(0) == 1);
}

TEST_CASE("images become features scaled to [0, 1], one label per image") {
  idx_images images;
  images.count = 2;
  images.rows = 2;
  images.cols = 3;
  images.pixels = {0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 254};
  idx_labels labels;
  labels.values = {3, 9};
  const auto data = classification_dataset::from_images(images, labels, 10);
  CHECK(data.size() == 2);
  CHECK(data.feature_count() == 6);
  CHECK(data.class_count() == 10);
  for (std::size_t i = 0; i < images.pixels.size(); ++i) {
    CHECK(data.features()[i] == doctest::Approx(images.pixels[i] / 255.0).epsilon(1e-7));
  }
  CHECK(data.features()[0] == 0.0f);
  CHECK(data.features()[5] == 1.0f);
  CHECK(data.labels() == labels.values);

  labels.values = {3};
  CHECK(contains(test::thrown_message<shape_error>([&] { classification_dataset::from_images(images, labels, 10); }),
                 "2 images but 1 labels"));
  labels.values = {3, 10};
  CHECK(contains(test::thrown_message<format_error>([&] { classification_dataset::from_images(images, labels, 10); }),
                 "label of sample 1 is 10, expected 0..9"));
}

TEST_CASE("normalisation statistics equal the closed form, globally and per feature") {
  // Features (x, 5, 10 - 2x) for x = 0..3.
  std::vector<float> features;
  for (int x = 0; x < 4; ++x) features.insert(features.end(), {float(x), 5.0f, float(10 - 2 * x)});
  classification_dataset data(features, std::vector<std::uint8_t>(4, 0), 3, 1);

  const feature_normalization per = compute_normalization(data, true);
  REQUIRE(per.mean.size() == 3);
  CHECK(per.mean[0] == doctest::Approx(1.5));
  CHECK(per.stddev[0] == doctest::Approx(std::sqrt(1.25)));  // population variance of 0..3
  CHECK(per.mean[1] == doctest::Approx(5.0));
  CHECK(per.stddev[1] == 1.0f);  // constant feature: left at 1, not a division by zero
  CHECK(per.mean[2] == doctest::Approx(7.0));
  CHECK(per.stddev[2] == doctest::Approx(2 * std::sqrt(1.25)));

  const feature_normalization global = compute_normalization(data);
  double sum = 0, squares = 0;
  for (float v : features) sum += v;
  const double mean = sum / 12;
  for (float v : features) squares += (v - mean) * (v - mean);
  REQUIRE(global.mean.size() == 1);
  CHECK(global.mean[0] == doctest::Approx(mean));
  CHECK(global.stddev[0] == doctest::Approx(std::sqrt(squares / 12)));

  normalize(data, per);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(data.sample(i)[0] == doctest::Approx((static_cast<double>(i) - 1.5) / std::sqrt(1.25)));
    CHECK(data.sample(i)[1] == 0.0f);
  }
  const feature_normalization after = compute_normalization(data, true);
  CHECK(after.mean[0] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(after.stddev[0] == doctest::Approx(1.0));
  CHECK(after.stddev[2] == doctest::Approx(1.0));
}

TEST_CASE("normalize rejects statistics of the wrong size or with a zero stddev") {
  classification_dataset data(std::vector<float>{1, 2, 3, 4}, std::vector<std::uint8_t>{0, 0}, 2, 1);
  CHECK(contains(test::thrown_message<shape_error>([&] { normalize(data, feature_normalization{{0, 0, 0}, {1, 1, 1}}); }),
                 "normalisation has 3 means and 3 stddevs, expected 1 and 1 or 2 and 2"));
  CHECK(contains(test::thrown_message<error>([&] { normalize(data, feature_normalization{{0}, {0}}); }),
                 "expected a finite mean and a positive finite stddev"));
  CHECK(contains(test::thrown_message<shape_error>([] {
                   compute_normalization(classification_dataset(std::vector<float>{}, {}, 2, 1));
                 }),
                 "empty dataset"));
  normalize(data, feature_normalization{{1}, {2}});
  CHECK(data.sample(1)[1] == 1.5f);  // (4 - 1) / 2
}

TEST_CASE("shuffle reorders samples by the seeded permutation and keeps each row with its label") {
  classification_dataset data = indexed_dataset(50, 7);
  const auto order = random_permutation(50, 11);
  data.shuffle(11);
  for (std::size_t k = 0; k < 50; ++k) CHECK(index_of(data.sample(k), data.label(k), 7) == order[k]);
  classification_dataset again = indexed_dataset(50, 7);
  again.shuffle(11);
  CHECK(again.labels() == data.labels());
  const auto sub = indexed_dataset(10, 3).subset({9, 0, 9});
  CHECK(sub.size() == 3);
  CHECK(index_of(sub.sample(0), sub.label(0), 3) == 9);
  CHECK(index_of(sub.sample(2), sub.label(2), 3) == 9);
  CHECK(contains(test::thrown_message<shape_error>([] { indexed_dataset(10, 3).subset({3, 10}); }),
                 "sample index 10 at position 1, expected below 10"));
}

TEST_CASE("batches cover every sample exactly once and keep the last partial batch") {
  const classification_dataset data = indexed_dataset(23, 4);
  for (std::size_t batch_size : {1u, 5u, 23u, 40u}) {
    CAPTURE(batch_size);
    batch_loader in_order(data, batch_size);
    batch_loader shuffled(data, batch_size);
    shuffled.shuffle(5);
    const auto order = random_permutation(23, 5);
    for (batch_loader* loader : {&in_order, &shuffled}) {
      CHECK(loader->batch_count() == (23 + batch_size - 1) / batch_size);
      std::vector<int> seen(23, 0);
      std::size_t position = 0;
      for (std::size_t b = 0; b < loader->batch_count(); ++b) {
        const sample_batch x = loader->get(b);
        CHECK(x.first == position);
        CHECK(x.size == std::min(batch_size, 23 - position));
        CHECK(x.feature_count == 3);
        if (loader == &shuffled) CHECK(reinterpret_cast<std::uintptr_t>(x.features) % 64 == 0);  // gathered
        for (std::size_t k = 0; k < x.size; ++k, ++position) {
          const std::size_t i = index_of(x.features + k * 3, x.labels[k], 4);
          ++seen[i];
          CHECK(i == (loader == &in_order ? position : order[position]));
        }
      }
      CHECK(position == 23);
      for (int s : seen) CHECK(s == 1);
    }
    if (batch_size == 5) CHECK(in_order.get(1).features == data.sample(5));  // dataset order: no copy
  }
}

TEST_CASE("a batch order may be a subset, and bad orders and sizes are shape errors") {
  const classification_dataset data = indexed_dataset(10, 2);
  batch_loader loader(data, 2, {4, 4, 9});
  CHECK(loader.sample_count() == 3);
  CHECK(loader.batch_count() == 2);
  const sample_batch last = loader.get(1);
  CHECK(last.size == 1);
  CHECK(index_of(last.features, last.labels[0], 2) == 9);
  CHECK(contains(test::thrown_message<shape_error>([&] { loader.get(2); }), "batch 2 requested, expected below 2"));
  CHECK(contains(test::thrown_message<shape_error>([&] { batch_loader(data, 0); }), "batch size is 0"));
  CHECK(contains(test::thrown_message<shape_error>([&] { batch_loader(data, 3, {1, 10}); }),
                 "batch order holds sample index 10 at position 1, expected below 10"));
}
