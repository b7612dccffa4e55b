// anybit/tensor/bitplane_view.hpp — the bit-plane layout, and a read-only view of it.
//
// Layout. A rows x cols matrix of b-bit codes q in [0, 2^b) is stored as b planes; plane p
// holds bit p of every code (plane 0 is the least significant). Inside a plane each row is a
// run of 64-bit words along cols (the reduction dimension K): code k of a row is bit (k % 64)
// of word (k / 64). Planes are stored one after another:
//
//     word(p, r, w) = data[p * plane_stride + r * words_per_row + w]
//
// Padding and overhead. words_per_row is ceil(cols / 64) rounded up to a multiple of 8 words,
// so every row of every plane starts on a 64-byte boundary and a 512-bit SIMD load never needs
// a tail. plane_stride is rows * words_per_row, plus one 64-byte line when that is a multiple
// of 4 KiB: there, word w of every plane would fall in one L1 cache set, and a packer storing
// the b words of one column block to b lines of that set ran 18 % slower at b = 8 (64 x 1024
// activations, AVX-512). The overhead is therefore at most 511 zero bits per row and plane, and
// 64 bytes per plane; padding bits are always zero, which makes AND-popcount over whole words
// exact.
//
// Nesting. Because plane p is bit p, the top b' planes of a b-bit tensor are the codes
// q >> (b - b'): `top(b')` is that lower-precision view, made by moving a pointer, no copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"

namespace anybit {

/// Row alignment of every plane, in 64-bit words (8 words = 64 bytes = one AVX-512 vector).
inline constexpr std::size_t bitplane_row_align_words = 8;

/// Words one row of one plane occupies for `cols` codes, padding included.
constexpr std::size_t bitplane_words_per_row(std::size_t cols) noexcept {
  return round_up(ceil_div(cols, bits_per_word), bitplane_row_align_words);
}

/// Words from one plane to the next for `rows` rows of `words_per_row` words (see Layout):
/// rows * words_per_row, one line more when that is a multiple of 4 KiB. Callers check that
/// rows * words_per_row * 64 does not overflow.
constexpr std::size_t bitplane_plane_stride(std::size_t rows, std::size_t words_per_row) noexcept {
  constexpr std::size_t words_per_4kib = 4096 / sizeof(std::uint64_t);
  const std::size_t words = rows * words_per_row;
  return words != 0 && words % words_per_4kib == 0 ? words + bitplane_row_align_words : words;
}

/// A non-owning, read-only view of bit-plane codes. Cheap to copy.
class bitplane_view {
 public:
  bitplane_view(const std::uint64_t* data, int bits, std::size_t rows, std::size_t cols,
                std::size_t words_per_row, std::size_t plane_stride)
      : data_(data),
        bits_(check_bits(bits)),
        rows_(rows),
        cols_(cols),
        words_per_row_(words_per_row),
        plane_stride_(plane_stride) {}

  int bits() const noexcept { return bits_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t words_per_row() const noexcept { return words_per_row_; }
  std::size_t plane_stride() const noexcept { return plane_stride_; }

  /// The words of row r in plane p (p = 0 is the least significant bit of the code).
  const std::uint64_t* plane_row(int p, std::size_t r) const noexcept {
    return data_ + static_cast<std::size_t>(p) * plane_stride_ + r * words_per_row_;
  }

  /// Code at (r, k), assembled from its planes. For tests and diagnostics, not hot loops.
  std::uint8_t code(std::size_t r, std::size_t k) const noexcept {
    const std::size_t w = k / bits_per_word;
    const unsigned shift = static_cast<unsigned>(k % bits_per_word);
    unsigned q = 0;
    for (int p = 0; p < bits_; ++p) q |= static_cast<unsigned>((plane_row(p, r)[w] >> shift) & 1u) << p;
    return static_cast<std::uint8_t>(q);
  }

  /// Decodes into `out`, row-major rows x cols.
  void to_codes(std::uint8_t* out) const noexcept {
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t k = 0; k < cols_; ++k) out[r * cols_ + k] = code(r, k);
    }
  }

  std::vector<std::uint8_t> to_codes() const {
    std::vector<std::uint8_t> out(rows_ * cols_);
    to_codes(out.data());
    return out;
  }

  /// Sum of the codes of each row: sum_p 2^p * popcount(plane p of the row).
  std::vector<std::int64_t> row_sums() const {
    std::vector<std::int64_t> sums(rows_, 0);
    for (std::size_t r = 0; r < rows_; ++r) {
      for (int p = 0; p < bits_; ++p) {
        sums[r] += popcount_words(plane_row(p, r), words_per_row_) << p;
      }
    }
    return sums;
  }

  /// The nested lower-precision view: the top `b` planes, i.e. the codes q >> (bits() - b).
  bitplane_view top(int b) const {
    if (b < 1 || b > bits_) {
      throw bit_width_error(detail::message("anybit: top(", b, ") of a ", bits_,
                                            "-bit tensor, expected a width in 1..", bits_));
    }
    return bitplane_view(plane_row(bits_ - b, 0), b, rows_, cols_, words_per_row_, plane_stride_);
  }

 private:
  const std::uint64_t* data_;
  int bits_;
  std::size_t rows_;
  std::size_t cols_;
  std::size_t words_per_row_;
  std::size_t plane_stride_;
};

}  // namespace anybit
