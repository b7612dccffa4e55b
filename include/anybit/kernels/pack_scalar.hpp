// anybit/kernels/pack_scalar.hpp — portable activation packing: float -> codes -> bit-planes.
// The SIMD packers must equal these bit for bit (and these equal the bit-plane codec).
#pragma once

#include <cstddef>
#include <cstdint>

#include "anybit/quant/affine.hpp"

namespace anybit::kernels::scalar {

/// Writes `words` words of each of `bits` planes (plane p at planes + p * plane_stride) from
/// `cols` codes; words past the codes are zero. Returns the OR of all codes (range check).
inline std::uint8_t pack_row(const std::uint8_t* codes, std::size_t cols, int bits, std::uint64_t* planes,
                             std::size_t plane_stride, std::size_t words) {
  std::uint8_t seen = 0;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t plane_words[8] = {};
    for (std::size_t k = w * 64; k < cols && k < w * 64 + 64; ++k) {
      seen = static_cast<std::uint8_t>(seen | codes[k]);
      for (int p = 0; p < bits; ++p) plane_words[p] |= static_cast<std::uint64_t>((codes[k] >> p) & 1u) << (k % 64);
    }
    for (int p = 0; p < bits; ++p) planes[static_cast<std::size_t>(p) * plane_stride + w] = plane_words[p];
  }
  return seen;
}

inline void quantize_row(const float* x, std::size_t cols, float inv_scale, float zero_point, float max_code,
                         std::uint8_t* codes) {
  for (std::size_t k = 0; k < cols; ++k) codes[k] = quantize_code(x[k], inv_scale, zero_point, max_code);
}

/// The inverse of pack_row, for the int8 path: `cols` codes as bytes, then zeros up to `len`
/// (positions from `begin` on; SIMD versions finish their ragged end here).
inline void unpack_row(const std::uint64_t* planes, std::size_t plane_stride, int bits, std::size_t cols,
                       std::uint8_t* codes, std::size_t len, std::size_t begin = 0) {
  for (std::size_t k = begin; k < len; ++k) {
    unsigned code = 0;
    for (int p = 0; k < cols && p < bits; ++p) {
      code |= static_cast<unsigned>((planes[static_cast<std::size_t>(p) * plane_stride + k / 64] >> (k % 64)) & 1u) << p;
    }
    codes[k] = static_cast<std::uint8_t>(code);
  }
}

}  // namespace anybit::kernels::scalar
