// The synthetic dataset: pinned bytes (from an independent Python implementation), determinism,
// balance, and learnability measured by a nearest-centroid classifier written here.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/data/synthetic.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

// Accuracy on `test` of the classifier that picks the class whose training mean is nearest.
double nearest_centroid_accuracy(const classification_dataset& train, const classification_dataset& test) {
  const std::size_t d = train.feature_count();
  const auto classes = static_cast<std::size_t>(train.class_count());
  std::vector<double> centroid(classes * d, 0.0);
  std::vector<double> count(classes, 0.0);
  for (std::size_t i = 0; i < train.size(); ++i) {
    count[train.label(i)] += 1;
    for (std::size_t j = 0; j < d; ++j) centroid[train.label(i) * d + j] += train.sample(i)[j];
  }
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t j = 0; j < d; ++j) centroid[c * d + j] /= count[c];
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    std::size_t best = 0;
    double best_distance = 1e300;
    for (std::size_t c = 0; c < classes; ++c) {
      double distance = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double diff = test.sample(i)[j] - centroid[c * d + j];
        distance += diff * diff;
      }
      if (distance < best_distance) {
        best_distance = distance;
        best = c;
      }
    }
    if (best == test.label(i)) ++correct;
  }
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

}  // namespace

TEST_CASE("synthetic images are the same bytes as an independent implementation") {
  synthetic_spec spec;
  spec.count = 50;
  spec.rows = 6;
  spec.cols = 7;
  spec.class_count = 3;
  spec.noise = 0.25;
  spec.pattern_seed = 11;
  spec.sample_seed = 12;
  const labelled_images data = make_synthetic_images(spec);
  REQUIRE(data.images.pixels.size() == 50 * 42);
  // CRC-32 and first pixels of the same spec computed by a Python transcription of the generator.
  CHECK(crc32(data.images.pixels.data(), data.images.pixels.size()) == 0x63E18E6Du);
  CHECK(std::vector<std::uint8_t>(data.images.pixels.begin(), data.images.pixels.begin() + 8) ==
        std::vector<std::uint8_t>{40, 17, 30, 47, 28, 44, 17, 55});
  for (std::size_t i = 0; i < 50; ++i) CHECK(data.labels.values[i] == i % 3);
  CHECK(make_synthetic_images(spec).images.pixels == data.images.pixels);
}

TEST_CASE("without noise every sample of a class is its prototype, and classes differ") {
  synthetic_spec spec;
  spec.count = 40;
  spec.noise = 0.0;
  const labelled_images data = make_synthetic_images(spec);
  const std::size_t pixels = spec.rows * spec.cols;
  for (std::size_t i = 4; i < 40; ++i) {
    CHECK(std::equal(data.images.image(i), data.images.image(i) + pixels, data.images.image(i % 4)));
  }
  for (std::size_t a = 0; a < 4; ++a)
    for (std::size_t b = a + 1; b < 4; ++b) CHECK(!std::equal(data.images.image(a), data.images.image(a) + pixels, data.images.image(b)));
}

TEST_CASE("synthetic classes are learnable at moderate noise and not at full noise") {
  synthetic_spec spec;
  spec.count = 2000;
  spec.class_count = 8;
  spec.noise = 0.5;
  const classification_dataset train = make_synthetic_dataset(spec);
  spec.count = 800;
  spec.sample_seed = 3;  // fresh samples of the same classes
  const classification_dataset test = make_synthetic_dataset(spec);
  CHECK(train.feature_count() == 144);
  CHECK(nearest_centroid_accuracy(train, test) > 0.95);
  for (std::size_t i = 0; i < test.size() * test.feature_count(); ++i) {
    REQUIRE(test.features()[i] >= 0.0f);
    REQUIRE(test.features()[i] <= 1.0f);
  }

  spec.noise = 1.0;
  spec.count = 2000;
  spec.sample_seed = 2;
  const classification_dataset noise_train = make_synthetic_dataset(spec);
  spec.count = 800;
  spec.sample_seed = 3;
  CHECK(nearest_centroid_accuracy(noise_train, make_synthetic_dataset(spec)) < 0.25);  // chance is 0.125
}

TEST_CASE("an invalid synthetic spec is an error naming the field") {
  synthetic_spec spec;
  spec.rows = 0;
  CHECK(test::thrown_message<shape_error>([&] { make_synthetic_images(spec); }).find("image size 0 x 12") != std::string::npos);
  spec = synthetic_spec{};
  spec.class_count = 0;
  CHECK(test::thrown_message<shape_error>([&] { make_synthetic_images(spec); }).find("class count 0") != std::string::npos);
  spec = synthetic_spec{};
  spec.noise = 1.5;
  CHECK(test::thrown_message<error>([&] { make_synthetic_images(spec); }).find("noise 1.5, expected 0..1") != std::string::npos);
}
