// Writes the model files the anybit-infer tests run on (see examples/CMakeLists.txt):
//
//     OUT/random.aim          a random conv net for 1 x 28 x 28 images and 10 classes
//     OUT/corrupt/NNNN.aim    COUNT seeded copies of it, truncated or with 1..3 bits flipped
//     OUT/centroid.aim        if DATA holds Fashion-MNIST: a nearest-class-mean classifier, one
//                             8-bit linear layer built from the training set's class means
//
// usage: make_model_files OUT COUNT [DATA]
// The centroid model is a real classifier made without training: logit_c = x . m_c - |m_c|^2 / 2
// ranks classes by the distance of x to their mean image m_c (m_c quantized to 8 bits).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "anybit/deploy/integer_model_builder.hpp"
#include "anybit/deploy/model_file.hpp"

using namespace anybit;
using namespace anybit::deploy;

namespace {

layer_weights random_weights(splitmix64& r, std::size_t out, std::size_t k, int bits) {
  layer_weights w;
  w.out_channels = out;
  w.bits = bits;
  for (std::size_t i = 0; i < out * k; ++i) w.codes.push_back(static_cast<std::uint8_t>(r.next() % (1u << bits)));
  w.scale = {0.05f};
  w.zero_point = {static_cast<float>(max_code(bits)) / 2.0f};
  return w;
}

integer_model random_model() {
  splitmix64 r(5);
  integer_model_builder b;
  b.input(1, 28, 28, {0.286f}, {0.353f}, {0.024f, 80.0f, 8});
  b.conv2d(random_weights(r, 8, 9, 2), {3, 3, 1, 1}, output_spec::codes({0.1f, 0.0f, 4}, {1.0f}, {}, true));
  b.max_pool2d(2);
  b.conv2d(random_weights(r, 16, 72, 2), {3, 3, 1, 1}, output_spec::codes({0.1f, 0.0f, 4}, {-0.8f}, {}, true));
  b.max_pool2d(2);
  b.flatten();
  b.linear(random_weights(r, 10, 16 * 49, 4), output_spec::logits({1.0f}, std::vector<float>(10, 0.1f)));
  return b.build();
}

integer_model centroid_model(const std::string& data) {
  const classification_dataset train = load_idx_dataset(data + "/train-images-idx3-ubyte.gz",
                                                        data + "/train-labels-idx1-ubyte.gz", fashion_mnist_class_count);
  const std::size_t d = train.feature_count(), classes = 10;
  std::vector<double> sums(classes * d, 0.0);
  std::vector<double> counts(classes, 0.0);
  for (std::size_t i = 0; i < train.size(); ++i) {
    const float* x = train.sample(i);
    for (std::size_t j = 0; j < d; ++j) sums[train.label(i) * d + j] += x[j];
    counts[train.label(i)] += 1.0;
  }
  const float step = 1.0f / 255.0f;
  layer_weights w;
  w.out_channels = classes;
  w.bits = 8;
  w.scale = {step};
  w.zero_point = {0.0f};
  std::vector<float> bias(classes);
  for (std::size_t c = 0; c < classes; ++c) {
    double norm = 0;
    for (std::size_t j = 0; j < d; ++j) {
      const auto code = static_cast<std::uint8_t>(std::lround(sums[c * d + j] / counts[c] * 255.0));
      w.codes.push_back(code);
      norm += (code * static_cast<double>(step)) * (code * static_cast<double>(step));
    }
    bias[c] = static_cast<float>(-0.5 * norm);
  }
  integer_model_builder b;
  b.input(1, 28, 28, {}, {}, {step, 0.0f, 8});  // codes = the pixels
  b.flatten();
  b.linear(w, output_spec::logits({1.0f}, bias));
  return b.build();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_model_files OUT COUNT [DATA]\n");
    return 2;
  }
  try {
    const std::filesystem::path out = argv[1];
    const int count = std::atoi(argv[2]);
    std::filesystem::create_directories(out / "corrupt");
    const integer_model model = random_model();
    const std::vector<std::uint8_t> bytes = encode_model_file(model);
    save_model(model, (out / "random.aim").string());
    splitmix64 r(2024);
    for (int i = 0; i < count; ++i) {
      std::vector<std::uint8_t> copy = bytes;
      if (i % 2 == 0) {
        copy.resize(r.next() % bytes.size());
      } else {
        for (std::uint64_t f = 0, flips = 1 + r.next() % 3; f < flips; ++f) {
          const std::uint64_t bit = r.next() % (bytes.size() * 8);
          copy[bit / 8] = static_cast<std::uint8_t>(copy[bit / 8] ^ (1u << (bit % 8)));
        }
        if (copy == bytes) copy.pop_back();  // two flips cancelled: truncate instead
      }
      char name[32];
      std::snprintf(name, sizeof name, "%04d.aim", i);
      std::ofstream file(out / "corrupt" / name, std::ios::binary);
      file.write(reinterpret_cast<const char*>(copy.data()), static_cast<std::streamsize>(copy.size()));
    }
    std::printf("wrote %s/random.aim and %d corrupt copies\n", out.string().c_str(), count);
    if (argc > 3 && std::filesystem::exists(std::string(argv[3]) + "/train-images-idx3-ubyte.gz")) {
      save_model(centroid_model(argv[3]), (out / "centroid.aim").string());
      std::printf("wrote %s/centroid.aim\n", out.string().c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_model_files: %s\n", e.what());
    return 1;
  }
}
