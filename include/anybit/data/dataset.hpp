// anybit/data/dataset.hpp — an in-memory classification dataset (float features, uint8 labels)
// with scaling, normalisation, seeded shuffling and batching.
//
// Features are stored sample after sample in 64-byte-aligned memory, so a batch in dataset order
// is a plain pointer into the dataset and any other batch is one gather into a buffer the loader
// reuses.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/error.hpp"
#include "anybit/data/idx.hpp"
#include "anybit/core/random.hpp"

namespace anybit {

class classification_dataset {
 public:
  classification_dataset() = default;

  /// `labels.size()` samples of `feature_count` features each, sample after sample. Throws
  /// shape_error if the sizes disagree or `class_count` is not in 1..256, format_error if a label
  /// is not below `class_count`.
  classification_dataset(aligned_buffer<float> features, std::vector<std::uint8_t> labels, std::size_t feature_count,
                         int class_count)
      : features_(std::move(features)), labels_(std::move(labels)), feature_count_(feature_count), class_count_(class_count) {
    if (feature_count_ == 0) throw shape_error("anybit: dataset feature count is 0, expected at least 1");
    if (class_count_ < 1 || class_count_ > 256) {
      throw shape_error(detail::message("anybit: dataset class count is ", class_count_, ", expected 1..256"));
    }
    if (labels_.size() > features_.size() / feature_count_ || features_.size() != labels_.size() * feature_count_) {
      throw shape_error(detail::message("anybit: dataset has ", features_.size(), " feature values for ", labels_.size(),
                                        " labels of ", feature_count_, " features, expected ", labels_.size(), " x ",
                                        feature_count_));
    }
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i] >= class_count_) {
        throw format_error(detail::message("anybit: label of sample ", i, " is ", int{labels_[i]}, ", expected 0..",
                                           class_count_ - 1));
      }
    }
  }

  classification_dataset(const std::vector<float>& features, std::vector<std::uint8_t> labels, std::size_t feature_count,
                         int class_count)
      : classification_dataset(copy_of(features), std::move(labels), feature_count, class_count) {}

  /// Images as features scaled to [0, 1] (pixel / 255). Throws shape_error if the counts of
  /// images and labels differ, format_error if a label is not below `class_count`.
  static classification_dataset from_images(const idx_images& images, const idx_labels& labels, int class_count) {
    if (images.count != labels.count()) {
      throw shape_error(detail::message("anybit: ", images.count, " images but ", labels.count(),
                                        " labels, expected one label per image"));
    }
    if (images.pixels.size() != images.count * images.pixels_per_image()) {
      throw shape_error(detail::message("anybit: images hold ", images.pixels.size(), " pixels, expected ", images.count,
                                        " x ", images.rows, " x ", images.cols));
    }
    aligned_buffer<float> features(images.pixels.size());
    for (std::size_t i = 0; i < images.pixels.size(); ++i) features[i] = static_cast<float>(images.pixels[i]) / 255.0f;
    return classification_dataset(std::move(features), labels.values, images.pixels_per_image(), class_count);
  }

  std::size_t size() const { return labels_.size(); }
  std::size_t feature_count() const { return feature_count_; }
  int class_count() const { return class_count_; }

  const float* features() const { return features_.data(); }
  float* features() { return features_.data(); }
  const float* sample(std::size_t i) const { return features_.data() + i * feature_count_; }
  const std::vector<std::uint8_t>& labels() const { return labels_; }
  std::uint8_t label(std::size_t i) const { return labels_[i]; }

  /// The samples at `indices`, in that order (repeats allowed). Throws shape_error if an index
  /// is out of range.
  classification_dataset subset(const std::vector<std::size_t>& indices) const {
    aligned_buffer<float> features(indices.size() * feature_count_);
    std::vector<std::uint8_t> labels(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const std::size_t i = indices[k];
      if (i >= size()) {
        throw shape_error(detail::message("anybit: sample index ", i, " at position ", k, ", expected below ", size()));
      }
      std::memcpy(features.data() + k * feature_count_, sample(i), feature_count_ * sizeof(float));
      labels[k] = labels_[i];
    }
    classification_dataset result;
    result.features_ = std::move(features);
    result.labels_ = std::move(labels);
    result.feature_count_ = feature_count_;
    result.class_count_ = class_count_;
    return result;
  }

  /// Reorders the samples by `random_permutation(size(), seed)`.
  void shuffle(std::uint64_t seed) { *this = subset(random_permutation(size(), seed)); }

 private:
  static aligned_buffer<float> copy_of(const std::vector<float>& values) {
    aligned_buffer<float> buffer(values.size());
    if (!values.empty()) std::memcpy(buffer.data(), values.data(), values.size() * sizeof(float));
    return buffer;
  }

  aligned_buffer<float> features_;
  std::vector<std::uint8_t> labels_;
  std::size_t feature_count_ = 1;
  int class_count_ = 1;
};

/// x' = (x - mean) / stddev, with one (mean, stddev) pair for every feature or one per feature.
struct feature_normalization {
  std::vector<float> mean;
  std::vector<float> stddev;
};

/// Mean and (population) standard deviation of the features of `data`, over everything or per
/// feature. Sums run in double. A constant feature gets stddev 1, so normalising maps it to 0
/// instead of dividing by zero.
inline feature_normalization compute_normalization(const classification_dataset& data, bool per_feature = false) {
  const std::size_t n = data.size(), d = data.feature_count();
  if (n == 0) throw shape_error("anybit: cannot compute a normalisation from an empty dataset");
  const std::size_t groups = per_feature ? d : 1;
  std::vector<double> mean(groups, 0.0), squares(groups, 0.0);
  const float* x = data.features();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) mean[per_feature ? j : 0] += x[i * d + j];
  }
  const double per_group = per_feature ? static_cast<double>(n) : static_cast<double>(n * d);
  for (double& m : mean) m /= per_group;
  // Second pass over the deviations: sum(x^2) - n mean^2 loses everything to cancellation.
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t g = per_feature ? j : 0;
      const double deviation = x[i * d + j] - mean[g];
      squares[g] += deviation * deviation;
    }
  }
  feature_normalization result;
  for (std::size_t g = 0; g < groups; ++g) {
    const double stddev = std::sqrt(squares[g] / per_group);
    result.mean.push_back(static_cast<float>(mean[g]));
    result.stddev.push_back(stddev > 1e-12 ? static_cast<float>(stddev) : 1.0f);
  }
  return result;
}

/// Applies `norm` to every feature of `data` in place. Throws shape_error if `norm` has neither
/// one nor `feature_count()` values, error if a stddev is not positive and finite.
inline void normalize(classification_dataset& data, const feature_normalization& norm) {
  const std::size_t d = data.feature_count();
  const std::size_t groups = norm.mean.size();
  if ((groups != 1 && groups != d) || norm.stddev.size() != groups) {
    throw shape_error(detail::message("anybit: normalisation has ", norm.mean.size(), " means and ", norm.stddev.size(),
                                      " stddevs, expected 1 and 1 or ", d, " and ", d));
  }
  std::vector<float> scale(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    if (!(norm.stddev[g] > 0.0f) || !std::isfinite(norm.stddev[g]) || !std::isfinite(norm.mean[g])) {
      throw error(detail::message("anybit: normalisation ", g, " has mean ", norm.mean[g], " and stddev ", norm.stddev[g],
                                  ", expected a finite mean and a positive finite stddev"));
    }
    scale[g] = 1.0f / norm.stddev[g];
  }
  float* x = data.features();
  for (std::size_t i = 0; i < data.size(); ++i, x += d) {
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t g = groups == 1 ? 0 : j;
      x[j] = (x[j] - norm.mean[g]) * scale[g];
    }
  }
}

/// One batch: `size` samples with their features contiguous (size x feature_count) and their
/// labels. `first` is the position of its first sample in the loader's order.
struct sample_batch {
  const float* features = nullptr;
  const std::uint8_t* labels = nullptr;
  std::size_t size = 0;
  std::size_t feature_count = 0;
  std::size_t first = 0;
};

/// Cuts a dataset into batches of `batch_size` samples; the last batch keeps whatever is left.
/// In dataset order a batch points into the dataset (no copy; 64-byte aligned only where the
/// dataset's rows happen to be); in any other order its samples are gathered into a 64-byte-aligned
/// buffer the loader owns, valid until the next `get`. The dataset must outlive the loader.
class batch_loader {
 public:
  /// Batches in dataset order. Throws shape_error if `batch_size` is 0.
  batch_loader(const classification_dataset& data, std::size_t batch_size) : data_(&data), batch_size_(batch_size) {
    if (batch_size_ == 0) throw shape_error("anybit: batch size is 0, expected at least 1");
    sample_count_ = data.size();
  }

  /// Batches of the samples at `order` (indices into the dataset; a subset or repeats are
  /// allowed). Throws shape_error if `batch_size` is 0 or an index is out of range.
  batch_loader(const classification_dataset& data, std::size_t batch_size, std::vector<std::size_t> order)
      : batch_loader(data, batch_size) {
    set_order(std::move(order));
  }

  /// From now on, batches of the samples at `order` (checked as in the constructor).
  void set_order(std::vector<std::size_t> order) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (order[k] >= data_->size()) {
        throw shape_error(detail::message("anybit: batch order holds sample index ", order[k], " at position ", k,
                                          ", expected below ", data_->size()));
      }
    }
    order_ = std::move(order);
    in_dataset_order_ = false;
    sample_count_ = order_.size();
  }

  /// From now on, every sample in the seeded random order `random_permutation(size, seed)`.
  void shuffle(std::uint64_t seed) { set_order(random_permutation(data_->size(), seed)); }

  std::size_t sample_count() const { return sample_count_; }
  std::size_t batch_size() const { return batch_size_; }
  std::size_t batch_count() const { return (sample_count_ + batch_size_ - 1) / batch_size_; }

  /// Batch `index` (0-based). Throws shape_error if `index >= batch_count()`.
  sample_batch get(std::size_t index) {
    if (index >= batch_count()) {
      throw shape_error(detail::message("anybit: batch ", index, " requested, expected below ", batch_count()));
    }
    const std::size_t d = data_->feature_count();
    sample_batch b;
    b.first = index * batch_size_;
    b.size = std::min(batch_size_, sample_count_ - b.first);
    b.feature_count = d;
    if (in_dataset_order_) {
      b.features = data_->sample(b.first);
      b.labels = data_->labels().data() + b.first;
      return b;
    }
    if (features_.size() < batch_size_ * d) {
      features_ = aligned_buffer<float>(batch_size_ * d);
      labels_.resize(batch_size_);
    }
    for (std::size_t k = 0; k < b.size; ++k) {
      const std::size_t i = order_[b.first + k];
      std::memcpy(features_.data() + k * d, data_->sample(i), d * sizeof(float));
      labels_[k] = data_->label(i);
    }
    b.features = features_.data();
    b.labels = labels_.data();
    return b;
  }

 private:
  const classification_dataset* data_;
  std::size_t batch_size_;
  std::size_t sample_count_ = 0;
  bool in_dataset_order_ = true;
  std::vector<std::size_t> order_;
  aligned_buffer<float> features_;
  std::vector<std::uint8_t> labels_;
};

}  // namespace anybit
