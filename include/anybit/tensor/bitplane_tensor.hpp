// anybit/tensor/bitplane_tensor.hpp — an owning rows x cols tensor of b-bit codes in bit-planes.
//
// `bitplane_tensor<4>` has its width fixed at compile time; `bitplane_tensor<>` (that is,
// `bitplane_tensor<dynamic>`) takes it at run time. Both share the layout described in
// bitplane_view.hpp: b planes, 64 codes per word along cols, rows padded with zero bits to
// 64 bytes, storage 64-byte aligned. Overhead: at most 511 padding bits per row and plane, and
// one 64-byte line per plane when a plane would be a multiple of 4 KiB.
//
// Invariant: every bit past `cols` in a row is zero. The codec keeps it; code that writes
// planes directly through `plane_row` must keep it too, or AND-popcount sums go wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

template <int Bits = dynamic>
class bitplane_tensor {
  static_assert(Bits == dynamic || is_valid_bits(Bits), "anybit: bit-width must be in 1..8");

 public:
  static constexpr bool static_width = Bits != dynamic;

  /// Zero codes of a compile-time width.
  template <int B = Bits, std::enable_if_t<B != dynamic, int> = 0>
  bitplane_tensor(std::size_t rows, std::size_t cols) : bitplane_tensor(rows, cols, Bits) {}

  /// Zero codes of width `bits`; for a compile-time width, `bits` must equal it.
  bitplane_tensor(std::size_t rows, std::size_t cols, int bits)
      : bits_(checked_width(bits)),
        rows_(rows),
        cols_(cols),
        words_per_row_(bitplane_words_per_row(cols)),
        plane_stride_(checked_plane_stride(rows, words_per_row_)),
        storage_(plane_stride_ * static_cast<std::size_t>(bits_)) {}

  /// Encodes row-major codes (rows x cols); every code must be < 2^bits.
  template <int B = Bits, std::enable_if_t<B != dynamic, int> = 0>
  static bitplane_tensor from_codes(const std::uint8_t* codes, std::size_t rows, std::size_t cols) {
    return from_codes(codes, rows, cols, Bits);
  }

  static bitplane_tensor from_codes(const std::uint8_t* codes, std::size_t rows, std::size_t cols,
                                    int bits) {
    bitplane_tensor t(rows, cols, bits);
    t.assign_codes(codes);
    return t;
  }

  /// Overwrites every code from row-major `codes` (rows() x cols()); throws if one is >= 2^bits,
  /// leaving the tensor unchanged.
  void assign_codes(const std::uint8_t* codes) {
    if (rows_ * cols_ == 0) return;
    if (codes == nullptr) throw shape_error("anybit: assign_codes got a null pointer for a non-empty tensor");
    check_code_range(codes);
    for (std::size_t r = 0; r < rows_; ++r) encode_row(r, codes + r * cols_);
  }

  constexpr int bits() const noexcept {
    if constexpr (static_width) return Bits;
    else return bits_;
  }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t words_per_row() const noexcept { return words_per_row_; }
  std::size_t plane_stride() const noexcept { return plane_stride_; }
  /// Bytes of plane storage, padding included.
  std::size_t storage_bytes() const noexcept { return storage_.size() * sizeof(std::uint64_t); }

  std::uint64_t* plane_row(int p, std::size_t r) noexcept {
    return storage_.data() + static_cast<std::size_t>(p) * plane_stride_ + r * words_per_row_;
  }
  const std::uint64_t* plane_row(int p, std::size_t r) const noexcept { return view().plane_row(p, r); }

  bitplane_view view() const noexcept {
    return bitplane_view(storage_.data(), bits(), rows_, cols_, words_per_row_, plane_stride_);
  }
  operator bitplane_view() const noexcept { return view(); }  // NOLINT: a tensor is viewable

  // The read-only operations of the view, for convenience.
  std::uint8_t code(std::size_t r, std::size_t k) const noexcept { return view().code(r, k); }
  std::vector<std::uint8_t> to_codes() const { return view().to_codes(); }
  std::vector<std::int64_t> row_sums() const { return view().row_sums(); }
  bitplane_view top(int b) const { return view().top(b); }

 private:
  static int checked_width(int bits) {
    check_bits(bits);
    if (static_width && bits != Bits) {
      throw bit_width_error(detail::message("anybit: bitplane_tensor<", Bits, "> constructed with bits = ",
                                            bits, ", expected ", Bits));
    }
    return bits;
  }

  static std::size_t checked_plane_stride(std::size_t rows, std::size_t words_per_row) {
    // rows * words * 64 bounds both the code count and the storage bytes (bits * 8 <= 64).
    const std::size_t limit = std::numeric_limits<std::size_t>::max() / bits_per_word;
    if (words_per_row != 0 && rows > limit / words_per_row) {
      throw shape_error(detail::message("anybit: bitplane_tensor of ", rows, " x ", words_per_row * 64,
                                        " bits per plane does not fit in memory addresses"));
    }
    return bitplane_plane_stride(rows, words_per_row);
  }

  void check_code_range(const std::uint8_t* codes) const {
    const std::size_t n = rows_ * cols_;
    const unsigned limit = max_code(bits());
    for (std::size_t i = 0; i < n; ++i) {
      if (codes[i] > limit) {
        throw bit_width_error(detail::message("anybit: code ", unsigned{codes[i]}, " at row ", i / cols_,
                                              ", column ", i % cols_, " does not fit in ", bits(),
                                              " bits, expected 0..", limit));
      }
    }
  }

  // Scalar codec: gather bit p of 64 consecutive codes into one word of plane p.
  void encode_row(std::size_t r, const std::uint8_t* row) {
    const int b = bits();
    for (std::size_t w = 0; w < words_per_row_; ++w) {
      std::uint64_t planes[max_bits] = {};
      const std::size_t begin = w * bits_per_word;
      const std::size_t end = begin + bits_per_word < cols_ ? begin + bits_per_word : cols_;
      for (std::size_t k = begin; k < end; ++k) {
        for (int p = 0; p < b; ++p) planes[p] |= static_cast<std::uint64_t>((row[k] >> p) & 1u) << (k - begin);
      }
      for (int p = 0; p < b; ++p) plane_row(p, r)[w] = planes[p];
    }
  }

  int bits_;
  std::size_t rows_;
  std::size_t cols_;
  std::size_t words_per_row_;
  std::size_t plane_stride_;
  aligned_buffer<std::uint64_t> storage_;
};

}  // namespace anybit
