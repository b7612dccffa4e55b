// anybit/tensor/dense_tensor.hpp — an owning, contiguous, row-major float tensor of rank 0..4.
//
// Storage comes from aligned_buffer: 64-byte aligned and zero-initialised, so SIMD code may use
// aligned loads from data(). Used for parameters, gradients, running statistics and batches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/error.hpp"
#include "anybit/tensor/dense_shape.hpp"
#include "anybit/tensor/dense_view.hpp"

namespace anybit {

class dense_tensor {
 public:
  /// An empty tensor of shape [0].
  dense_tensor() : dense_tensor(dense_shape{0}) {}

  /// Zeros of `shape`.
  explicit dense_tensor(const dense_shape& shape) : shape_(shape), storage_(shape.size()) {}

  /// `shape` filled from `values` in row-major order; their count must equal shape.size().
  dense_tensor(const dense_shape& shape, std::initializer_list<float> values) : dense_tensor(shape) {
    check_count(values.size());
    std::copy(values.begin(), values.end(), storage_.data());
  }

  /// A copy of `shape.size()` floats read from `values`.
  static dense_tensor from_data(const dense_shape& shape, const float* values) {
    dense_tensor t(shape);
    if (t.size() != 0) std::memcpy(t.data(), values, t.size() * sizeof(float));
    return t;
  }

  /// A copy of what a view shows.
  static dense_tensor from_view(const dense_view& view) { return from_data(view.shape(), view.data()); }

  const dense_shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  std::size_t size() const noexcept { return shape_.size(); }
  float* data() noexcept { return storage_.data(); }
  const float* data() const noexcept { return storage_.data(); }
  float* begin() noexcept { return data(); }
  float* end() noexcept { return data() + size(); }
  const float* begin() const noexcept { return data(); }
  const float* end() const noexcept { return data() + size(); }
  float& operator[](std::size_t i) noexcept { return storage_[i]; }
  float operator[](std::size_t i) const noexcept { return storage_[i]; }

  /// Element at a full multi-index, e.g. `at(n, c, h, w)`; throws shape_error when out of range.
  template <class... Index>
  float& at(Index... index) {
    return storage_[dense_view::offset_of(shape_, {static_cast<std::size_t>(index)...})];
  }
  template <class... Index>
  float at(Index... index) const {
    return storage_[dense_view::offset_of(shape_, {static_cast<std::size_t>(index)...})];
  }

  dense_view view() const noexcept { return dense_view(data(), shape_); }
  operator dense_view() const noexcept { return view(); }  // NOLINT: a tensor is usable wherever a view is

  /// Same elements, new extents; throws shape_error (naming both shapes) if the counts differ.
  void reshape(const dense_shape& shape) {
    if (shape.size() != shape_.size()) {
      throw shape_error(detail::message("anybit: cannot reshape ", shape_, " (", shape_.size(), " elements) to ", shape,
                                        " (", shape.size(), " elements)"));
    }
    shape_ = shape;
  }

  void fill(float value) noexcept { std::fill(begin(), end(), value); }

 private:
  void check_count(std::size_t count) const {
    if (count != shape_.size()) {
      throw shape_error(detail::message("anybit: ", count, " values for shape ", shape_, ", expected ", shape_.size()));
    }
  }

  dense_shape shape_;
  aligned_buffer<float> storage_;
};

}  // namespace anybit
