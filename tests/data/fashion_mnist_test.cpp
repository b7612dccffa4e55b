// Loading Fashion-MNIST: the real files when the Debian package is installed (sizes, the known
// class balance, and the published pixel mean and standard deviation), and a directory built here
// of tiny plain and gzip'd IDX files, and a missing one.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_le(std::vector<std::uint8_t>& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A gzip file holding `data` in one stored block (RFC 1952 around RFC 1951 3.2.4).
std::vector<std::uint8_t> stored_gzip(const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> gz = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1};  // header, then BFINAL=1 BTYPE=00
  put_le(gz, static_cast<std::uint32_t>(data.size()), 2);
  put_le(gz, static_cast<std::uint32_t>(~data.size()) & 0xFFFFu, 2);
  gz.insert(gz.end(), data.begin(), data.end());
  put_le(gz, crc32(data.data(), data.size()), 4);
  put_le(gz, static_cast<std::uint32_t>(data.size()), 4);
  return gz;
}

std::vector<std::uint8_t> images_file(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, std::uint8_t first) {
  std::vector<std::uint8_t> out;
  put_be32(out, 0x803);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) out.push_back(static_cast<std::uint8_t>(first + i));
  return out;
}

std::vector<std::uint8_t> labels_file(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> out;
  put_be32(out, 0x801);
  put_be32(out, static_cast<std::uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}


}  // namespace

TEST_CASE("Fashion-MNIST from the Debian package: 60000 + 10000 images of 28 x 28, 6000 + 1000 per class") {
  const std::string dir = fashion_mnist_debian_dir;
  std::error_code ignored;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "train-images-idx3-ubyte.gz", ignored)) {
    std::printf("ANYBIT_SKIP: %s not installed (apt-get install dataset-fashion-mnist)\n", dir.c_str());
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const train_test_datasets sets = load_fashion_mnist(dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("load_fashion_mnist: %.3f s\n", seconds);
  CHECK(sets.train.size() == 60000);
  CHECK(sets.test.size() == 10000);
  CHECK(sets.train.feature_count() == 28 * 28);
  CHECK(sets.test.feature_count() == 28 * 28);
  std::array<int, 10> train_counts{}, test_counts{};
  for (std::uint8_t l : sets.train.labels()) ++train_counts[l];
  for (std::uint8_t l : sets.test.labels()) ++test_counts[l];
  for (int c : train_counts) CHECK(c == 6000);
  for (int c : test_counts) CHECK(c == 1000);
  // The training-set statistics published with the dataset (and used by torchvision examples).
  const feature_normalization stats = compute_normalization(sets.train);
  CHECK(stats.mean[0] == doctest::Approx(0.2860).epsilon(0.0005));
  CHECK(stats.stddev[0] == doctest::Approx(0.3530).epsilon(0.0005));
}

TEST_CASE("a dataset directory may mix plain and gzip'd IDX files") {
  const test::scratch_dir dir("fashion_mnist_test");
  const std::vector<std::uint8_t> train_labels = {0, 9, 4};
  const std::vector<std::uint8_t> test_labels = {7, 1};
  dir.write("train-images-idx3-ubyte", images_file(3, 2, 2, 10));
  dir.write("train-labels-idx1-ubyte.gz", stored_gzip(labels_file(train_labels)));
  dir.write("t10k-images-idx3-ubyte.gz", stored_gzip(images_file(2, 2, 2, 100)));
  dir.write("t10k-labels-idx1-ubyte", labels_file(test_labels));
  const train_test_datasets sets = load_fashion_mnist(dir.path.string());
  CHECK(sets.train.size() == 3);
  CHECK(sets.train.labels() == train_labels);
  CHECK(sets.test.labels() == test_labels);
  CHECK(sets.train.sample(2)[3] == doctest::Approx((10 + 2 * 4 + 3) / 255.0));
  CHECK(sets.test.sample(1)[0] == doctest::Approx((100 + 4) / 255.0));

  dir.write("t10k-images-idx3-ubyte", images_file(2, 3, 1, 0));  // plain file wins over .gz, and is 3 x 1
  CHECK(test::thrown_message<shape_error>([&] { load_fashion_mnist(dir.path.string()); })
            .find("training images have 4 pixels, test images 3, expected the same") != std::string::npos);
}

TEST_CASE("a missing Fashion-MNIST file is an io_error naming the directory and the file") {
  const std::string m = test::thrown_message<io_error>([] { load_fashion_mnist("/nonexistent/fmnist"); });
  CHECK(m.find("train-images-idx3-ubyte not found in '/nonexistent/fmnist'") != std::string::npos);
  CHECK(m.find("apt-get install dataset-fashion-mnist") != std::string::npos);
}

TEST_CASE("Fashion-MNIST class names") {
  CHECK(std::string(fashion_mnist_class_name(0)) == "T-shirt/top");
  CHECK(std::string(fashion_mnist_class_name(9)) == "Ankle boot");
  CHECK_THROWS_AS(fashion_mnist_class_name(10), error);
  CHECK_THROWS_AS(fashion_mnist_class_name(-1), error);
}
