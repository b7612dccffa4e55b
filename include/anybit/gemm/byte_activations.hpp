// anybit/gemm/byte_activations.hpp — activation codes as bytes, in the layout the int8
// micro-kernels read (kernels/int8_args.hpp), with the code sum of every row.
//
// The int8 path multiplies bytes, so activations that are already codes (a conv's input, a
// hidden layer's output) go straight here instead of through bit-planes and back. Row r is at
// row(r), K codes then zero bytes up to stride() (a multiple of 32). The buffer is kept between
// calls while the shape stays the same, so a layer fills it without allocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/kernels/byte_rows_avx2.hpp"
#include "anybit/kernels/pack_avx2.hpp"
#include "anybit/kernels/pack_avx512.hpp"
#include "anybit/kernels/pack_scalar.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

class byte_activations {
 public:
  static constexpr std::size_t row_align = 32;

  /// Makes this rows x cols codes of `bits` bits. Memory (and its zero padding) is reused when
  /// rows and cols are unchanged; the codes themselves are then stale until rewritten.
  void reshape(std::size_t rows, std::size_t cols, int bits) {
    check_bits(bits);
    const std::size_t stride = round_up(cols, row_align);
    if (rows != rows_ || cols != cols_ || stride != stride_) {
      data_ = aligned_buffer<std::uint8_t>(rows * stride);  // zeroed: the padding stays zero
      sums_.assign(rows, 0);
    }
    rows_ = rows;
    cols_ = cols;
    stride_ = stride;
    bits_ = bits;
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t stride() const noexcept { return stride_; }
  int bits() const noexcept { return bits_; }
  std::uint8_t* row(std::size_t r) noexcept { return data_.data() + r * stride_; }
  const std::uint8_t* row(std::size_t r) const noexcept { return data_.data() + r * stride_; }
  const std::uint8_t* data() const noexcept { return data_.data(); }
  /// The code sum of every row (valid after finish_rows).
  const std::int64_t* row_sums() const noexcept { return sums_.data(); }

  /// Call once the codes [0, cols) of every row are written: records the row sums and checks
  /// every code fits in bits() bits (bit_width_error naming the first that does not). The
  /// padding must still be zero. One pass after the writes, not one per row as it is written:
  /// reading a row back right after its small stores would stall on store forwarding.
  void finish_rows(bool avx2) {
    const auto over = static_cast<std::uint8_t>(~max_code(bits_));
    bool out_of_range = false;
#if ANYBIT_X86_KERNELS
    if (avx2) {
      out_of_range = kernels::avx2::byte_rows_stats(data_.data(), rows_, stride_, over, sums_.data());  // padding is zero
      if (out_of_range) throw_out_of_range();
      return;
    }
#endif
    (void)avx2;
    for (std::size_t r = 0; r < rows_; ++r) {
      const std::uint8_t* codes = row(r);
      std::int64_t sum = 0;
      std::uint8_t seen = 0;
      for (std::size_t k = 0; k < cols_; ++k) {
        sum += codes[k];
        seen = static_cast<std::uint8_t>(seen | codes[k]);
      }
      sums_[r] = sum;
      out_of_range |= (seen & over) != 0;
    }
    if (out_of_range) throw_out_of_range();
  }

 private:
  [[noreturn]] void throw_out_of_range() const {
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t k = 0; k < cols_; ++k) {
        if (row(r)[k] > max_code(bits_)) {
          throw bit_width_error(detail::message("anybit: activation code ", unsigned{row(r)[k]}, " at row ", r, ", column ",
                                                k, " does not fit in ", bits_, " bits, expected 0..", max_code(bits_)));
        }
      }
    }
    throw error("anybit: activation code range check failed without an offending code");
  }

  aligned_buffer<std::uint8_t> data_;
  std::vector<std::int64_t> sums_;
  std::size_t rows_ = 0, cols_ = 0, stride_ = 0;
  int bits_ = 1;
};

namespace detail {

/// Whether byte work may use AVX2 here: the avx2, avx2_int8, avx512_int8 or a lookup path (all
/// supported only with AVX2) is allowed and supported (so forcing `reference` or `scalar` keeps
/// every step portable).
inline bool byte_avx2(const gemm_context& ctx) {
#if ANYBIT_X86_KERNELS
  const path_mask avx2 = mask_of(path::avx2) | mask_of(path::avx2_int8) | mask_of(path::avx512_int8) | lut_paths;
  return (ctx.allowed & supported_paths() & avx2) != 0;
#else
  (void)ctx;
  return false;
#endif
}

/// Whether byte work may use AVX-512BW here: the avx512_int8 or a lookup path is allowed and supported.
inline bool byte_avx512(const gemm_context& ctx) {
#if ANYBIT_X86_KERNELS
  return (ctx.allowed & supported_paths() & (mask_of(path::avx512_int8) | lut_paths)) != 0;
#else
  (void)ctx;
  return false;
#endif
}

/// rows x cols codes (row stride ld) of `bits` bits into out.
inline void copy_codes(const std::uint8_t* codes, std::size_t rows, std::size_t cols, std::size_t ld, int bits,
                       byte_activations& out, const gemm_context& ctx) {
  if (ld < cols) throw shape_error(message("anybit: activation row stride ld = ", ld, ", expected at least cols = ", cols));
  if (rows * cols != 0 && codes == nullptr) throw shape_error("anybit: activation pointer is null");
  out.reshape(rows, cols, bits);
  const bool avx2 = byte_avx2(ctx);
  for (std::size_t r = 0; r < rows; ++r) {
    if (cols != 0) std::copy_n(codes + r * ld, cols, out.row(r));
  }
  out.finish_rows(avx2);
}

/// The codes of bit-plane activations, as bytes.
inline void unpack_planes(const bitplane_view& a, byte_activations& out, const gemm_context& ctx) {
  out.reshape(a.rows(), a.cols(), a.bits());
  const bool avx2 = byte_avx2(ctx);
#if ANYBIT_X86_KERNELS
  const bool avx512 = byte_avx512(ctx);
#endif
  for (std::size_t m = 0; m < a.rows(); ++m) {
#if ANYBIT_X86_KERNELS
    if (avx512) {
      kernels::avx512bw::unpack_row(a.plane_row(0, m), a.plane_stride(), a.bits(), a.cols(), out.row(m), out.stride());
    } else if (avx2) {
      kernels::avx2::unpack_row(a.plane_row(0, m), a.plane_stride(), a.bits(), a.cols(), out.row(m), out.stride());
    } else
#endif
    {
      kernels::scalar::unpack_row(a.plane_row(0, m), a.plane_stride(), a.bits(), a.cols(), out.row(m), out.stride());
    }
  }
  out.finish_rows(avx2);
}

}  // namespace detail
}  // namespace anybit
