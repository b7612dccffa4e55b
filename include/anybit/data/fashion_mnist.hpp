// anybit/data/fashion_mnist.hpp — loads Fashion-MNIST (or MNIST, which uses the same file names
// and format) from a directory of IDX files, plain or gzip'd.
#pragma once

#include <array>
#include <string>
#include <system_error>
#include <filesystem>

#include "anybit/core/error.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/idx.hpp"

namespace anybit {

/// Where Debian's `dataset-fashion-mnist` package installs the files.
inline constexpr const char* fashion_mnist_debian_dir = "/usr/share/datasets/fashion-mnist";
inline constexpr int fashion_mnist_class_count = 10;

/// The name of a Fashion-MNIST class. Throws error if `label` is not in 0..9.
inline const char* fashion_mnist_class_name(int label) {
  static constexpr std::array<const char*, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  if (label < 0 || label >= fashion_mnist_class_count) {
    throw error(detail::message("anybit: Fashion-MNIST label ", label, ", expected 0..9"));
  }
  return names[static_cast<std::size_t>(label)];
}

struct train_test_datasets {
  classification_dataset train;
  classification_dataset test;
};

/// Images and labels from two IDX files (plain or gzip'd) as a dataset with features in [0, 1].
inline classification_dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                                               int class_count) {
  return classification_dataset::from_images(read_idx_images(images_path), read_idx_labels(labels_path), class_count);
}

namespace data_detail {

// `dir/name` if it exists, else `dir/name.gz`; io_error naming both if neither does.
inline std::string find_dataset_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path plain = std::filesystem::path(dir) / name;
  const std::filesystem::path gzipped = std::filesystem::path(dir) / (name + ".gz");
  std::error_code ignored;
  if (std::filesystem::is_regular_file(plain, ignored)) return plain.string();
  if (std::filesystem::is_regular_file(gzipped, ignored)) return gzipped.string();
  throw io_error(detail::message("anybit: dataset file ", name, " not found in '", dir, "' (tried ", plain.string(), " and ",
                                 gzipped.string(), "; on Debian: apt-get install dataset-fashion-mnist)"));
}

}  // namespace data_detail

/// The Fashion-MNIST training (60000) and test (10000) sets from `dir`, which holds
/// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
/// t10k-labels-idx1-ubyte, each plain or with .gz appended. Features are pixels / 255; apply
/// `compute_normalization(train)` to both sets if the model wants centred inputs. Throws
/// io_error if a file is missing, format_error if one is malformed, shape_error if the sets
/// disagree in image size.
inline train_test_datasets load_fashion_mnist(const std::string& dir = fashion_mnist_debian_dir) {
  const std::string train_images = data_detail::find_dataset_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = data_detail::find_dataset_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = data_detail::find_dataset_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = data_detail::find_dataset_file(dir, "t10k-labels-idx1-ubyte");
  train_test_datasets sets;
  sets.train = load_idx_dataset(train_images, train_labels, fashion_mnist_class_count);
  sets.test = load_idx_dataset(test_images, test_labels, fashion_mnist_class_count);
  if (sets.train.feature_count() != sets.test.feature_count()) {
    throw shape_error(detail::message("anybit: training images have ", sets.train.feature_count(), " pixels, test images ",
                                      sets.test.feature_count(), ", expected the same"));
  }
  return sets;
}

}  // namespace anybit
