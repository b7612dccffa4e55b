// anybit/tensor/dense_view.hpp — a read-only, non-owning view of contiguous row-major floats.
//
// What the tape hands out for values and gradients: cheap to copy, valid as long as the storage
// it points into (a dense_tensor, or a tape until its next clear()).
#pragma once

#include <cstddef>
#include <initializer_list>

#include "anybit/core/error.hpp"
#include "anybit/tensor/dense_shape.hpp"

namespace anybit {

class dense_view {
 public:
  dense_view() = default;
  dense_view(const float* data, const dense_shape& shape) noexcept : data_(data), shape_(shape) {}

  const float* data() const noexcept { return data_; }
  const dense_shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  std::size_t size() const noexcept { return shape_.size(); }
  const float* begin() const noexcept { return data_; }
  const float* end() const noexcept { return data_ + size(); }
  /// Element `i` in row-major order; unchecked.
  float operator[](std::size_t i) const noexcept { return data_[i]; }

  /// Element at a full multi-index, e.g. `at(n, c, h, w)`; throws shape_error if the index count
  /// differs from the rank or an index is out of range.
  template <class... Index>
  float at(Index... index) const {
    return data_[offset_of(shape_, {static_cast<std::size_t>(index)...})];
  }

  /// Row-major offset of a full multi-index into `shape`, checked.
  static std::size_t offset_of(const dense_shape& shape, std::initializer_list<std::size_t> index) {
    if (index.size() != static_cast<std::size_t>(shape.rank())) {
      throw shape_error(detail::message("anybit: ", index.size(), " indices into shape ", shape, ", expected ",
                                        shape.rank()));
    }
    std::size_t offset = 0;
    int axis = 0;
    for (const std::size_t i : index) {
      if (i >= shape[axis]) {
        throw shape_error(detail::message("anybit: index ", i, " at axis ", axis, " of shape ", shape,
                                          ", expected less than ", shape[axis]));
      }
      offset = offset * shape[axis] + i;
      ++axis;
    }
    return offset;
  }

 private:
  const float* data_ = nullptr;
  dense_shape shape_;
};

}  // namespace anybit
