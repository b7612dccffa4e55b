// anybit/kernels/pack_avx512.hpp — AVX-512BW activation packing and plane unpacking (x86-64,
// chosen at run time). A plane's 64-bit word is a byte mask: packing 64 codes is one vptestmb
// per plane (the mask is the word), unpacking one masked byte add per plane. Floats are quantized
// 16 at a time with quantize_code's exact op sequence and go to planes without storing codes.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anybit/core/bits.hpp"
#include "anybit/kernels/pack_scalar.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512bw {

namespace pack_detail {

// Bit k set for k < count: the columns of a 64-column block that exist.
inline __mmask64 first_columns(std::size_t count) {
  return _cvtu64_mask64(count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1);
}

// quantize_code of 16 floats as int32: fma, then min(top, t) (minps returns its second operand
// for NaN, so NaN stays NaN), then round half to even in the conversion. Clamping high before
// rounding equals rounding first (top is an integer); values that round to <= 0, NaN and huge
// negatives (INT_MIN) are left for the unsigned-saturating packs, which give 0 as the scalar.
// The maskz forms with full masks below dodge a GCC 12 -Wmaybe-uninitialized false positive
// (_mm512_undefined_epi32); the code is the same.
inline __m512i codes16(__m512 x, __m512 inv, __m512 zero, __m512 top) {
  const __m512 high_clamped = _mm512_maskz_min_ps(0xFFFF, top, _mm512_fmadd_ps(x, inv, zero));
  return _mm512_maskz_cvt_roundps_epi32(0xFFFF, high_clamped, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 64 codes as bytes in column order, from 64 floats at x.
inline __m512i codes64(const float* x, __m512 inv, __m512 zero, __m512 top) {
  const __m512i w01 = _mm512_packus_epi32(codes16(_mm512_loadu_ps(x), inv, zero, top),
                                          codes16(_mm512_loadu_ps(x + 16), inv, zero, top));
  const __m512i w23 = _mm512_packus_epi32(codes16(_mm512_loadu_ps(x + 32), inv, zero, top),
                                          codes16(_mm512_loadu_ps(x + 48), inv, zero, top));
  // Packs work per 128-bit lane: dword 4 * lane + source holds columns 16 * source + 4 * lane ..;
  // this transpose of the 4 x 4 dword grid restores column order.
  const __m512i lane_order = _mm512_packus_epi16(w01, w23);
  const __m512i transpose = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_maskz_permutexvar_epi32(0xFFFF, transpose, lane_order);
}

// Plane words of 64 byte codes: bit p of every byte, as a mask, is word w of plane p. Bits is a
// template argument so the loop unrolls (the row loops are instantiated per width).
template <int Bits>
inline void store_planes(__m512i codes, __mmask64 valid, std::uint64_t* planes, std::size_t plane_stride) {
  ANYBIT_UNROLL
  for (int p = 0; p < Bits; ++p) {
    const __m512i bit = _mm512_set1_epi8(static_cast<char>(1u << p));
    planes[static_cast<std::size_t>(p) * plane_stride] = _cvtmask64_u64(_mm512_mask_test_epi8_mask(valid, codes, bit));
  }
}

// 1-bit codes of 16 floats as a mask: bit k is x[k] > threshold (false for NaN).
inline __mmask16 above(const float* x, __m512 threshold) {
  return _mm512_cmp_ps_mask(_mm512_loadu_ps(x), threshold, _CMP_GT_OQ);
}

// The 1-bit codes of 64 floats into *word, as two 32-bit halves (x86 is little-endian). The
// four compares are port 5's, as is kunpck, the mask op joining two 16-bit masks; the low half
// is joined there and the high half through general registers (kmov to them runs on port 0), so
// port 5 does 5 ops per word instead of 6 (pack_vs_gemm W1A1: see docs/performance.md). A
// third kunpck joining the halves, as first written, made it 7.
inline void store_word_above(const float* x, __m512 threshold, std::uint64_t* word) {
  const std::uint32_t low = _cvtmask32_u32(_mm512_kunpackw(above(x + 16, threshold), above(x, threshold)));
  const std::uint32_t high = _cvtmask16_u32(above(x + 32, threshold)) | _cvtmask16_u32(above(x + 48, threshold)) << 16;
  std::memcpy(reinterpret_cast<char*>(word), &low, 4);
  std::memcpy(reinterpret_cast<char*>(word) + 4, &high, 4);
}

template <int Bits>
inline std::uint8_t pack_row(const std::uint8_t* codes, std::size_t cols, std::uint64_t* planes, std::size_t plane_stride,
                             std::size_t words) {
  // Whole words in a loop of their own: with the ragged-end test inside, it ran at half the
  // speed of reading the codes.
  __m512i seen = _mm512_setzero_si512();
  const std::size_t full = std::min(cols / 64, words);
  std::size_t w = 0;
  for (; w < full; ++w) {
    const __m512i v = _mm512_loadu_si512(codes + w * 64);
    seen = _mm512_or_si512(seen, v);
    store_planes<Bits>(v, first_columns(64), planes + w, plane_stride);
  }
  for (; w < words; ++w) {  // the ragged end (masked lanes read nothing and are zero), then zeros
    const std::size_t begin = w * 64;
    const __m512i v = begin < cols ? _mm512_maskz_loadu_epi8(first_columns(cols - begin), codes + begin) : _mm512_setzero_si512();
    seen = _mm512_or_si512(seen, v);
    store_planes<Bits>(v, first_columns(64), planes + w, plane_stride);
  }
  std::uint64_t lanes[8];
  _mm512_storeu_si512(lanes, seen);
  std::uint64_t all = 0;
  for (std::uint64_t lane : lanes) all |= lane;
  all |= all >> 32;
  all |= all >> 16;
  all |= all >> 8;
  return static_cast<std::uint8_t>(all);
}

template <int Bits>  // Bits >= 2
inline void quantize_pack_row(const float* x, std::size_t cols, float inv_scale, float zero_point, std::uint64_t* planes,
                              std::size_t plane_stride, std::size_t words) {
  const __m512 inv = _mm512_set1_ps(inv_scale), zero = _mm512_set1_ps(zero_point);
  const __m512 top = _mm512_set1_ps(static_cast<float>(max_code(Bits)));
  const std::size_t full = std::min(cols / 64, words);
  std::size_t w = 0;
  for (; w < full; ++w) {
    store_planes<Bits>(codes64(x + w * 64, inv, zero, top), first_columns(64), planes + w, plane_stride);
  }
  if (w * 64 < cols && w < words) {  // the ragged end through a zero-filled copy; padding bits cleared
    float tail[64] = {};
    std::memcpy(tail, x + w * 64, (cols - w * 64) * sizeof(float));
    store_planes<Bits>(codes64(tail, inv, zero, top), first_columns(cols - w * 64), planes + w, plane_stride);
    ++w;
  }
  for (; w < words; ++w) {
    for (int p = 0; p < Bits; ++p) planes[static_cast<std::size_t>(p) * plane_stride + w] = 0;
  }
}

}  // namespace pack_detail

/// As scalar::pack_row (kernels/pack_scalar.hpp): `words` words of each of `bits` planes from
/// `cols` codes, zero past the codes; returns the OR of all codes (range check).
inline std::uint8_t pack_row(const std::uint8_t* codes, std::size_t cols, int bits, std::uint64_t* planes,
                             std::size_t plane_stride, std::size_t words) {
  using namespace pack_detail;
  switch (bits) {
    case 1: return pack_row<1>(codes, cols, planes, plane_stride, words);
    case 2: return pack_row<2>(codes, cols, planes, plane_stride, words);
    case 3: return pack_row<3>(codes, cols, planes, plane_stride, words);
    case 4: return pack_row<4>(codes, cols, planes, plane_stride, words);
    case 5: return pack_row<5>(codes, cols, planes, plane_stride, words);
    case 6: return pack_row<6>(codes, cols, planes, plane_stride, words);
    case 7: return pack_row<7>(codes, cols, planes, plane_stride, words);
    case 8: return pack_row<8>(codes, cols, planes, plane_stride, words);
    default: return scalar::pack_row(codes, cols, bits, planes, plane_stride, words);  // not a width: callers check
  }
}

/// As scalar::quantize_row: quantize_code of `cols` floats to bytes (max_code <= 255).
inline void quantize_row(const float* x, std::size_t cols, float inv_scale, float zero_point, float max_code,
                         std::uint8_t* codes) {
  const __m512 inv = _mm512_set1_ps(inv_scale), zero = _mm512_set1_ps(zero_point), top = _mm512_set1_ps(max_code);
  std::size_t k = 0;
  for (; k + 64 <= cols; k += 64) _mm512_storeu_si512(codes + k, pack_detail::codes64(x + k, inv, zero, top));
  if (k < cols) {  // the ragged end through a zero-filled copy, stored under a mask
    float tail[64] = {};
    std::memcpy(tail, x + k, (cols - k) * sizeof(float));
    _mm512_mask_storeu_epi8(codes + k, pack_detail::first_columns(cols - k), pack_detail::codes64(tail, inv, zero, top));
  }
}

/// 1-bit activations fused: code 1 exactly when x > threshold (binary_threshold in
/// quant/affine.hpp: quantize_code as one compare per 16 floats).
inline void quantize_pack_row_1bit(const float* x, std::size_t cols, float threshold, std::uint64_t* plane,
                                   std::size_t words) {
  const __m512 t = _mm512_set1_ps(threshold);
  const std::size_t full = std::min(cols / 64, words);  // one bound: the loop is short enough to notice it
  // Reading the floats bounds this loop. Rows that are not 64-byte aligned split every load over
  // two lines; for them a software prefetch 2 KiB ahead (into the next row too) measured 20 %
  // faster, while on aligned rows it cost 10 % (its load-port slots; 3.4 against 3.7 % of the
  // W1A1 GEMM at 64x1024x1024). Prefetches never fault, so an address past the data is
  // harmless; it is formed as an integer, not by pointer arithmetic past the array.
  const bool prefetch = reinterpret_cast<std::uintptr_t>(x) % 64 != 0;
  std::size_t w = 0;
  for (; w < full; ++w) {
    if (prefetch) {
      const auto ahead = reinterpret_cast<std::uintptr_t>(x + w * 64) + 2048;
      for (std::uintptr_t line = 0; line < 256; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(ahead + line), _MM_HINT_T0);
      }
    }
    pack_detail::store_word_above(x + w * 64, t, plane + w);
  }
  if (w * 64 < cols && w < words) {  // the ragged end through a zero-filled copy; padding bits cleared
    float tail[64] = {};
    std::memcpy(tail, x + w * 64, (cols - w * 64) * sizeof(float));
    pack_detail::store_word_above(tail, t, plane + w);
    plane[w] &= _cvtmask64_u64(pack_detail::first_columns(cols - w * 64));
    ++w;
  }
  for (; w < words; ++w) plane[w] = 0;
}

/// Fused float -> planes for any width: quantize_code of `cols` floats with max code
/// 2^bits - 1, written as `words` words of each of `bits` planes (zero past the codes), with no
/// code bytes stored. Equals scalar::quantize_row followed by scalar::pack_row bit for bit.
/// (Callers packing many 1-bit rows find the threshold once and call quantize_pack_row_1bit.)
inline void quantize_pack_row(const float* x, std::size_t cols, float inv_scale, float zero_point, int bits,
                              std::uint64_t* planes, std::size_t plane_stride, std::size_t words) {
  using namespace pack_detail;
  switch (bits) {
    case 1: return quantize_pack_row_1bit(x, cols, binary_threshold(inv_scale, zero_point), planes, words);
    case 2: return quantize_pack_row<2>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 3: return quantize_pack_row<3>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 4: return quantize_pack_row<4>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 5: return quantize_pack_row<5>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 6: return quantize_pack_row<6>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 7: return quantize_pack_row<7>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    case 8: return quantize_pack_row<8>(x, cols, inv_scale, zero_point, planes, plane_stride, words);
    default: check_bits(bits);  // not a width: throws (callers check first)
  }
}

/// The inverse of pack_row (see kernels/pack_scalar.hpp): `cols` codes as bytes, then zeros up
/// to `len`.
inline void unpack_row(const std::uint64_t* planes, std::size_t plane_stride, int bits, std::size_t cols,
                       std::uint8_t* codes, std::size_t len) {
  std::size_t k = 0;
  for (; k + 64 <= cols && k + 64 <= len; k += 64) {
    __m512i code = _mm512_setzero_si512(), bit = _mm512_set1_epi8(1);
    for (int p = 0; p < bits; ++p) {
      const __mmask64 set = _cvtu64_mask64(planes[static_cast<std::size_t>(p) * plane_stride + k / 64]);
      code = _mm512_mask_add_epi8(code, set, code, bit);  // bit p of the selected codes
      bit = _mm512_add_epi8(bit, bit);
    }
    _mm512_storeu_si512(codes + k, code);
  }
  scalar::unpack_row(planes, plane_stride, bits, cols, codes, len, k);  // the ragged end and the zero padding
}

}  // namespace anybit::kernels::avx512bw

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
