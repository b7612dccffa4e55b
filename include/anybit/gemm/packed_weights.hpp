// anybit/gemm/packed_weights.hpp — weights packed once into the micro-kernels' panel format.
//
// A weight matrix of N output columns x K codes (one bitplane row per output column) becomes,
// per plane, ceil(N / 8) panels of 8 columns whose words are interleaved:
//
//     word(j, n, k) = data[j * plane_stride + (n / 8) * panel_stride + k * 8 + n % 8]
//
// with panel_stride = 8 * k_words and k_words = ceil(K / 64). Columns past N in the last panel
// and bits past K are zero. Every path reads this one format, so weights are packed once.
// As with bit-plane tensors, top(b) is the nested view of the top b planes, without copying.
// Column code sums (for zero-point corrections) are computed at packing for every top(b), so a
// GEMV never pays an N x K pass for them.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/kernels/tile_args.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

class packed_weights;

namespace detail {
// Other kernel formats of the same weights (the int8 paths' byte panels in group order and in
// group pairs, each lookup path's nibbles; one per nested width), built on first use by their own headers and kept here,
// type-erased so this header needs none. Slot: kind's first slot + width - 1.
struct derived_forms {
  static constexpr std::size_t int8_slot = 0, lut_slot = 8, vbmi_lut_slot = 16, int8_pairs_slot = 24, slots = 32;
  std::array<std::once_flag, slots> once;
  std::array<std::shared_ptr<const void>, slots> form;
};
}  // namespace detail

class packed_weights_view {
 public:
  /// column_sums: N sums of this view's codes (packed_weights provides them), or null.
  packed_weights_view(const std::uint64_t* data, int bits, std::size_t cols, std::size_t k,
                      const std::int64_t* column_sums = nullptr, detail::derived_forms* forms = nullptr)
      : data_(data), column_sums_(column_sums), forms_(forms), bits_(check_bits(bits)), cols_(cols), k_(k),
        k_words_(ceil_div(k, bits_per_word)) {}

  int bits() const noexcept { return bits_; }
  std::size_t cols() const noexcept { return cols_; }  // N, output columns
  std::size_t k() const noexcept { return k_; }
  std::size_t k_words() const noexcept { return k_words_; }
  std::size_t panels() const noexcept { return ceil_div(cols_, kernels::panel_width); }
  std::size_t panel_stride() const noexcept { return k_words_ * kernels::panel_width; }
  std::size_t plane_stride() const noexcept { return panels() * panel_stride(); }
  const std::uint64_t* data() const noexcept { return data_; }

  std::uint64_t word(int plane, std::size_t n, std::size_t kw) const noexcept {
    return data_[plane * plane_stride() + (n / kernels::panel_width) * panel_stride() + kw * kernels::panel_width +
                 n % kernels::panel_width];
  }

  /// Sum of the codes of output column n (for zero-point corrections).
  std::int64_t column_sum(std::size_t n) const {
    if (column_sums_ == nullptr) throw error("anybit: this packed_weights_view carries no column sums");
    return column_sums_[n];
  }
  const std::int64_t* column_sums() const noexcept { return column_sums_; }
  /// Where other kernel formats of these weights are cached (null for a bare view).
  detail::derived_forms* forms() const noexcept { return forms_; }

  /// The top b planes: weights q >> (bits() - b).
  packed_weights_view top(int b) const {
    if (b < 1 || b > bits_) {
      throw bit_width_error(detail::message("anybit: top(", b, ") of ", bits_, "-bit packed weights, expected a width in 1..",
                                            bits_));
    }
    return packed_weights_view(data_ + (bits_ - b) * plane_stride(), b, cols_, k_,
                               column_sums_ == nullptr ? nullptr : column_sums_ - cols_ * static_cast<std::size_t>(bits_ - b),
                               forms_);
  }

 private:
  const std::uint64_t* data_;
  const std::int64_t* column_sums_;
  detail::derived_forms* forms_;
  int bits_;
  std::size_t cols_;
  std::size_t k_;
  std::size_t k_words_;
};

namespace detail {

/// Kernel format Form of w (constructed as Form(w, args...)), built once per packed_weights and
/// nested width in slot first_slot + width - 1 of its derived forms (thread-safe); a bare view
/// gets a private copy in `scratch`.
template <class Form, class... Args>
const Form& derived_form(const packed_weights_view& w, std::size_t first_slot, std::unique_ptr<Form>& scratch,
                         const Args&... args) {
  derived_forms* forms = w.forms();
  if (forms == nullptr) {
    scratch = std::make_unique<Form>(w, args...);
    return *scratch;
  }
  const std::size_t slot = first_slot + static_cast<std::size_t>(w.bits() - 1);
  std::call_once(forms->once[slot], [&] { forms->form[slot] = std::make_shared<const Form>(w, args...); });
  return *static_cast<const Form*>(forms->form[slot].get());
}

}  // namespace detail

class packed_weights {
 public:
  /// Packs N x K row-major weight codes of `bits` bits (each must be < 2^bits).
  static packed_weights from_codes(const std::uint8_t* codes, std::size_t n, std::size_t k, int bits) {
    return packed_weights(bitplane_tensor<>::from_codes(codes, n, k, bits));
  }

  /// Packs weights given as a bit-plane tensor of N rows (output columns) x K codes.
  explicit packed_weights(const bitplane_view& w)
      : bits_(w.bits()), cols_(w.rows()), k_(w.cols()),
        storage_(static_cast<std::size_t>(w.bits()) * shape().plane_stride()),
        sums_(static_cast<std::size_t>(w.bits()) * w.rows(), 0) {
    const packed_weights_view s = shape();
    for (int j = 0; j < bits_; ++j) {
      for (std::size_t n = 0; n < cols_; ++n) {
        const std::uint64_t* row = w.plane_row(j, n);
        std::uint64_t* dst = storage_.data() + j * s.plane_stride() + (n / kernels::panel_width) * s.panel_stride() +
                             n % kernels::panel_width;
        for (std::size_t kw = 0; kw < s.k_words(); ++kw) dst[kw * kernels::panel_width] = row[kw];
      }
    }
    // sums_[(b - 1) * N + n]: column sums of the top b planes, i.e. of the codes q >> (bits - b).
    for (int b = 1; b <= bits_; ++b) {
      const std::vector<std::int64_t> sums = w.top(b).row_sums();
      std::copy(sums.begin(), sums.end(), sums_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(b - 1) * cols_));
    }
  }

  packed_weights_view view() const noexcept {
    return packed_weights_view(storage_.data(), bits_, cols_, k_, sums_.data() + static_cast<std::size_t>(bits_ - 1) * cols_,
                               forms_.get());
  }
  operator packed_weights_view() const noexcept { return view(); }  // NOLINT: packed weights are viewable
  packed_weights_view top(int b) const { return view().top(b); }
  int bits() const noexcept { return bits_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t k() const noexcept { return k_; }
  std::size_t storage_bytes() const noexcept { return storage_.size() * sizeof(std::uint64_t); }

 private:
  // The geometry of this packing, before storage exists (no data is read through it).
  packed_weights_view shape() const noexcept { return packed_weights_view(nullptr, bits_, cols_, k_); }

  int bits_;
  std::size_t cols_;
  std::size_t k_;
  aligned_buffer<std::uint64_t> storage_;
  std::vector<std::int64_t> sums_;
  std::unique_ptr<detail::derived_forms> forms_ = std::make_unique<detail::derived_forms>();
};

}  // namespace anybit
