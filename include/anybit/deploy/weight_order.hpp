// anybit/deploy/weight_order.hpp — where each weight code lives, in training order and at run time.
//
// Training sees NCHW activations, so a conv2d's weights are O x (C, kh, kw) and a linear layer
// after a flatten reads K in (C, H, W) order. The integer model keeps its codes NHWC instead
// (gemm writes positions x channels, so no layer ever transposes), which makes both reductions
// (kh, kw, C) and (H, W, C). The permutation is the same for both: within each output row, move
// the leading axis of a (C, H, W) block last. It is applied once when a model is built and undone
// when it is saved, so builders and files speak training order only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bitops.hpp"
#include "anybit/gemm/packed_weights.hpp"

namespace anybit::deploy {

/// rows x (C, H, W) codes -> rows x (H, W, C): what the NHWC model reads.
inline std::vector<std::uint8_t> channels_last(const std::vector<std::uint8_t>& codes, std::size_t rows, std::size_t c,
                                               std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> out(codes.size());
  const std::size_t k = c * h * w, plane = h * w;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* src = codes.data() + r * k;
    std::uint8_t* dst = out.data() + r * k;
    for (std::size_t ch = 0; ch < c; ++ch) {
      for (std::size_t p = 0; p < plane; ++p) dst[p * c + ch] = src[ch * plane + p];
    }
  }
  return out;
}

/// rows x (H, W, C) codes -> rows x (C, H, W): the inverse of channels_last.
inline std::vector<std::uint8_t> channels_first(const std::vector<std::uint8_t>& codes, std::size_t rows, std::size_t c,
                                                std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> out(codes.size());
  const std::size_t k = c * h * w, plane = h * w;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* src = codes.data() + r * k;
    std::uint8_t* dst = out.data() + r * k;
    for (std::size_t ch = 0; ch < c; ++ch) {
      for (std::size_t p = 0; p < plane; ++p) dst[ch * plane + p] = src[p * c + ch];
    }
  }
  return out;
}

/// The N x K codes held by packed weights, row-major: bit j of code (n, k) is bit k % 64 of
/// word(j, n, k / 64). Saving reads the weights back this way instead of keeping a byte copy.
inline std::vector<std::uint8_t> unpack_weight_codes(const packed_weights_view& w) {
  const std::size_t n_count = w.cols(), k_count = w.k();
  std::vector<std::uint8_t> codes(n_count * k_count, 0);
  for (int j = 0; j < w.bits(); ++j) {
    for (std::size_t n = 0; n < n_count; ++n) {
      std::uint8_t* row = codes.data() + n * k_count;
      for (std::size_t k = 0; k < k_count; ++k) {
        const std::uint64_t word = w.word(j, n, k / bits_per_word);
        row[k] = static_cast<std::uint8_t>(row[k] | (((word >> (k % bits_per_word)) & 1u) << j));
      }
    }
  }
  return codes;
}

}  // namespace anybit::deploy
