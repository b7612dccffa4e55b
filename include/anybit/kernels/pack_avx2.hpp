// anybit/kernels/pack_avx2.hpp — AVX2 activation packing (x86-64, chosen at run time).
// Bit p of 32 codes becomes one 32-bit mask: shift bit p to each byte's top, then vpmovmskb.
// Quantization is vfmadd + vroundps + clamp, 32 floats to 32 bytes at a time.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anybit/kernels/pack_scalar.hpp"

#define ANYBIT_X86_TARGET "avx2,fma"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx2 {

inline std::uint8_t pack_row(const std::uint8_t* codes, std::size_t cols, int bits, std::uint64_t* planes,
                             std::size_t plane_stride, std::size_t words) {
  __m256i seen = _mm256_setzero_si256();
  for (std::size_t w = 0; w < words; ++w) {
    __m256i v[2];
    const std::size_t begin = w * 64;
    if (begin + 64 <= cols) {
      v[0] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + begin));
      v[1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + begin + 32));
    } else {  // the ragged end (or padding words): zero-filled copy
      alignas(32) std::uint8_t tail[64] = {};
      if (begin < cols) std::memcpy(tail, codes + begin, cols - begin);
      v[0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
      v[1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail + 32));
    }
    seen = _mm256_or_si256(seen, _mm256_or_si256(v[0], v[1]));
    for (int p = 0; p < bits; ++p) {
      const __m128i shift = _mm_cvtsi32_si128(7 - p);  // bit p -> bit 7 of its byte (16-bit lanes keep bytes apart)
      const auto low = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_sll_epi16(v[0], shift)));
      const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_sll_epi16(v[1], shift)));
      planes[static_cast<std::size_t>(p) * plane_stride + w] = low | static_cast<std::uint64_t>(high) << 32;
    }
  }
  alignas(32) std::uint8_t bytes[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(bytes), seen);
  std::uint8_t all = 0;
  for (std::uint8_t b : bytes) all = static_cast<std::uint8_t>(all | b);
  return all;
}

inline void quantize_row(const float* x, std::size_t cols, float inv_scale, float zero_point, float max_code,
                         std::uint8_t* codes) {
  const __m256 inv = _mm256_set1_ps(inv_scale), zero = _mm256_set1_ps(zero_point);
  const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(max_code);
  const auto code32 = [&](const float* p) {
    const __m256 r = _mm256_round_ps(_mm256_fmadd_ps(_mm256_loadu_ps(p), inv, zero), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));  // maxps(NaN, 0) = 0, as the scalar
  };
  std::size_t k = 0;
  for (; k + 32 <= cols; k += 32) {
    const __m256i w01 = _mm256_packus_epi32(code32(x + k), code32(x + k + 8));
    const __m256i w23 = _mm256_packus_epi32(code32(x + k + 16), code32(x + k + 24));
    const __m256i b = _mm256_packus_epi16(w01, w23);  // 4-byte groups in lane order 0 2 4 6 1 3 5 7
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + k),
                        _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  scalar::quantize_row(x + k, cols - k, inv_scale, zero_point, max_code, codes + k);
}

/// The inverse of pack_row (see kernels/pack_scalar.hpp): each 32 bits of a plane spread to 32
/// bytes (vpshufb byte i/8 to byte i, test bit i%8), shifted to bit p and ORed.
inline void unpack_row(const std::uint64_t* planes, std::size_t plane_stride, int bits, std::size_t cols,
                       std::uint8_t* codes, std::size_t len) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit_of_byte = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  std::size_t k = 0;
  for (; k + 32 <= cols && k + 32 <= len; k += 32) {
    __m256i code = _mm256_setzero_si256();
    for (int p = 0; p < bits; ++p) {
      std::uint32_t word32;
      std::memcpy(&word32, reinterpret_cast<const std::uint8_t*>(planes + static_cast<std::size_t>(p) * plane_stride) + k / 8, 4);
      const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(word32)), spread);
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit_of_byte), bit_of_byte);
      code = _mm256_or_si256(code, _mm256_and_si256(set, _mm256_set1_epi8(static_cast<char>(1 << p))));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + k), code);
  }
  scalar::unpack_row(planes, plane_stride, bits, cols, codes, len, k);  // the ragged end and the zero padding
}

/// 1-bit activations fused: code 1 exactly when x > threshold (binary_threshold in
/// quant/affine.hpp: quantize_code as one compare and vmovmskps per 8 floats).
inline void quantize_pack_row_1bit(const float* x, std::size_t cols, float threshold, std::uint64_t* plane,
                                   std::size_t words) {
  const __m256 t = _mm256_set1_ps(threshold);
  for (std::size_t w = 0; w < words; ++w) {
    const std::size_t begin = w * 64;
    std::uint64_t word = 0;
    if (begin + 64 <= cols) {
      for (int g = 0; g < 8; ++g) {
        const __m256 above = _mm256_cmp_ps(_mm256_loadu_ps(x + begin + 8 * g), t, _CMP_GT_OQ);
        word |= static_cast<std::uint64_t>(_mm256_movemask_ps(above)) << (8 * g);
      }
    } else {
      for (std::size_t k = begin; k < cols && k < begin + 64; ++k) word |= static_cast<std::uint64_t>(x[k] > threshold) << (k - begin);
    }
    plane[w] = word;
  }
}

}  // namespace anybit::kernels::avx2

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
