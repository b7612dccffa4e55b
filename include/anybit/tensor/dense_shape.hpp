// anybit/tensor/dense_shape.hpp — the extents of a dense tensor: rank 0 (a scalar) to 4.
//
// Four dimensions cover every layout training needs here (NCHW activations, OIHW weights) and
// let a shape live inline, without allocation. The element count is checked for overflow once,
// at construction, so code that multiplies extents later cannot wrap.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>

#include "anybit/core/error.hpp"

namespace anybit {

class dense_shape {
 public:
  static constexpr int max_rank = 4;

  /// Rank 0: a scalar, one element.
  dense_shape() = default;

  /// `dense_shape{n, c, h, w}`; throws shape_error for more than four dimensions.
  dense_shape(std::initializer_list<std::size_t> dims) : dense_shape(dims.begin(), dims.size()) {}

  /// The first `rank` entries of `dims`.
  dense_shape(const std::size_t* dims, std::size_t rank) {
    if (rank > static_cast<std::size_t>(max_rank)) {
      throw shape_error(detail::message("anybit: a dense shape has ", rank, " dimensions, expected at most ", max_rank));
    }
    rank_ = static_cast<int>(rank);
    for (std::size_t i = 0; i < rank; ++i) {
      if (dims[i] != 0 && size_ > std::numeric_limits<std::size_t>::max() / sizeof(float) / dims[i]) {
        throw shape_error(detail::message("anybit: a dense shape with extent ", dims[i], " at axis ", i,
                                          " has more elements than memory can address"));
      }
      dims_[i] = dims[i];
      size_ *= dims[i];
    }
  }

  int rank() const noexcept { return rank_; }
  /// Number of elements (1 for a scalar).
  std::size_t size() const noexcept { return size_; }
  /// Extent of `axis`; unchecked, like operator[] of a std::array.
  std::size_t operator[](int axis) const noexcept { return dims_[static_cast<std::size_t>(axis)]; }
  /// Extent of `axis`; throws shape_error when axis >= rank().
  std::size_t dim(int axis) const {
    if (axis < 0 || axis >= rank_) {
      throw shape_error(detail::message("anybit: axis ", axis, " of shape ", *this, ", expected 0..", rank_ - 1));
    }
    return dims_[static_cast<std::size_t>(axis)];
  }
  const std::size_t* data() const noexcept { return dims_.data(); }

  friend bool operator==(const dense_shape& a, const dense_shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  friend bool operator!=(const dense_shape& a, const dense_shape& b) noexcept { return !(a == b); }

  /// Prints "[2, 3, 5, 5]"; a scalar prints "[]".
  friend std::ostream& operator<<(std::ostream& out, const dense_shape& s) {
    out << '[';
    for (int i = 0; i < s.rank_; ++i) out << (i == 0 ? "" : ", ") << s[i];
    return out << ']';
  }
  std::string str() const {
    std::ostringstream out;
    out << *this;
    return out.str();
  }

 private:
  std::array<std::size_t, max_rank> dims_{};
  int rank_ = 0;
  std::size_t size_ = 1;
};

/// Throws shape_error naming both shapes unless they are equal; `what` names the operation.
inline void check_same_shape(const char* what, const dense_shape& a, const dense_shape& b) {
  if (a != b) {
    throw shape_error(detail::message("anybit: ", what, " got shapes ", a, " and ", b, ", expected equal shapes"));
  }
}

}  // namespace anybit
