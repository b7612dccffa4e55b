// anybit/data/synthetic.hpp — small deterministic image-classification data for tests and demos.
//
// Each class has a prototype image: a few bright rectangles on a dark background, placed by
// `pattern_seed`. A sample is its class's prototype blended with uniform noise drawn from
// `sample_seed`, so a train and a test set made with one pattern seed and two sample seeds come
// from the same distribution. Only integer arithmetic and the library's own generator are used:
// the bytes are the same on every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/idx.hpp"
#include "anybit/core/random.hpp"

namespace anybit {

struct synthetic_spec {
  std::size_t count = 1000;        // samples; sample i has class i % class_count
  std::size_t rows = 12;           // image height
  std::size_t cols = 12;           // image width
  int class_count = 4;             // 1..256
  double noise = 0.4;              // 0 = the prototypes themselves, 1 = pure noise
  std::uint64_t pattern_seed = 1;  // places the class prototypes
  std::uint64_t sample_seed = 2;   // draws the noise
};

struct labelled_images {
  idx_images images;
  idx_labels labels;
};

namespace data_detail {

inline void check_synthetic_spec(const synthetic_spec& spec) {
  if (spec.rows == 0 || spec.cols == 0 || spec.rows > 4096 || spec.cols > 4096) {
    throw shape_error(detail::message("anybit: synthetic image size ", spec.rows, " x ", spec.cols,
                                      ", expected 1..4096 x 1..4096"));
  }
  if (spec.class_count < 1 || spec.class_count > 256) {
    throw shape_error(detail::message("anybit: synthetic class count ", spec.class_count, ", expected 1..256"));
  }
  if (!(spec.noise >= 0.0 && spec.noise <= 1.0)) {
    throw error(detail::message("anybit: synthetic noise ", spec.noise, ", expected 0..1"));
  }
}

// Three rectangles of random position, size and brightness per class.
inline std::vector<std::uint8_t> synthetic_prototypes(const synthetic_spec& spec) {
  const std::size_t pixels = spec.rows * spec.cols;
  std::vector<std::uint8_t> prototypes(static_cast<std::size_t>(spec.class_count) * pixels, 0);
  xoshiro256ss rng(spec.pattern_seed);
  for (std::size_t c = 0; c < static_cast<std::size_t>(spec.class_count); ++c) {
    std::uint8_t* image = prototypes.data() + c * pixels;
    for (int rectangle = 0; rectangle < 3; ++rectangle) {
      const auto top = static_cast<std::size_t>(rng.below(spec.rows));
      const auto left = static_cast<std::size_t>(rng.below(spec.cols));
      const auto height = 1 + static_cast<std::size_t>(rng.below(std::max<std::size_t>(1, spec.rows / 2)));
      const auto width = 1 + static_cast<std::size_t>(rng.below(std::max<std::size_t>(1, spec.cols / 2)));
      const auto brightness = static_cast<std::uint8_t>(160 + rng.below(96));
      for (std::size_t r = top; r < std::min(spec.rows, top + height); ++r) {
        for (std::size_t col = left; col < std::min(spec.cols, left + width); ++col) image[r * spec.cols + col] = brightness;
      }
    }
  }
  return prototypes;
}

}  // namespace data_detail

/// `spec.count` noisy class prototypes as IDX-style images and labels. Throws shape_error for an
/// empty or huge image size or a class count outside 1..256, error for noise outside [0, 1].
inline labelled_images make_synthetic_images(const synthetic_spec& spec) {
  data_detail::check_synthetic_spec(spec);
  const std::size_t pixels = spec.rows * spec.cols;
  const std::vector<std::uint8_t> prototypes = data_detail::synthetic_prototypes(spec);
  // Blend weights in 1/256ths: pixel = ((256 - w) * prototype + w * noise) / 256.
  const auto noise_weight = static_cast<std::uint32_t>(std::lround(spec.noise * 256.0));
  labelled_images out;
  out.images.count = spec.count;
  out.images.rows = spec.rows;
  out.images.cols = spec.cols;
  out.images.pixels.resize(spec.count * pixels);
  out.labels.values.resize(spec.count);
  xoshiro256ss rng(spec.sample_seed);
  for (std::size_t i = 0; i < spec.count; ++i) {
    const std::size_t c = i % static_cast<std::size_t>(spec.class_count);
    out.labels.values[i] = static_cast<std::uint8_t>(c);
    const std::uint8_t* prototype = prototypes.data() + c * pixels;
    std::uint8_t* image = out.images.pixels.data() + i * pixels;
    for (std::size_t p = 0; p < pixels; ++p) {
      const auto noise = static_cast<std::uint32_t>(rng.below(256));
      image[p] = static_cast<std::uint8_t>(((256 - noise_weight) * prototype[p] + noise_weight * noise) >> 8);
    }
  }
  return out;
}

/// The same samples as a dataset with features in [0, 1].
inline classification_dataset make_synthetic_dataset(const synthetic_spec& spec) {
  const labelled_images data = make_synthetic_images(spec);
  return classification_dataset::from_images(data.images, data.labels, spec.class_count);
}

}  // namespace anybit
