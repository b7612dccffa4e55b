// anybit/kernels/avx2.hpp — AVX2 bit-serial micro-kernel (x86-64, chosen at run time).
// AVX2 has no vector popcount: bytes are counted with the vpshufb nibble lookup (Mula et al.)
// into byte counters, folded into the four 64-bit lanes with vpsadbw every 31 steps.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

#define ANYBIT_X86_TARGET "avx2,popcnt"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx2 {

struct ops {
  // The activation word is split into nibbles once per row and the weight vector shifted once
  // per column group, so each 256 bit-MACs cost 2 AND, 2 vpshufb and 2 byte adds.
  struct a_word {
    __m256i low, high;  // nibbles 0..3 and 4..7 of every byte, each in the low half of its byte
  };
  struct w_vec {
    __m256i w, w_shifted;  // w and w >> 4 (16-bit lanes; the stray bits meet a's zero high nibbles)
  };
  using acc = __m256i;  // byte counts: at most 8 per step, so 31 steps fit
  static constexpr int lanes = 4;
  static constexpr std::size_t flush_every = 31;
  static acc zero() { return _mm256_setzero_si256(); }
  static a_word prepare_a(std::uint64_t x) {
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i a = _mm256_set1_epi64x(static_cast<long long>(x));
    return {_mm256_and_si256(a, low_nibbles), _mm256_and_si256(_mm256_srli_epi16(a, 4), low_nibbles)};
  }
  static w_vec prepare_w(const std::uint64_t* p) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return {w, _mm256_srli_epi16(w, 4)};
  }
  static acc and_popcount_add(acc sum, a_word a, w_vec w) {
    const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_shuffle_epi8(lookup, _mm256_and_si256(a.low, w.w));
    const __m256i high = _mm256_shuffle_epi8(lookup, _mm256_and_si256(a.high, w.w_shifted));
    return _mm256_add_epi8(_mm256_add_epi8(sum, low), high);
  }
  static void flush(std::int64_t* c, acc sum, int shift, bool add) {
    __m256i* p = reinterpret_cast<__m256i*>(c);
    const __m256i lanes64 = _mm256_sad_epu8(sum, _mm256_setzero_si256());  // bytes -> one sum per 64-bit lane
    const __m256i shifted = _mm256_sll_epi64(lanes64, _mm_cvtsi32_si128(shift));
    _mm256_storeu_si256(p, add ? _mm256_add_epi64(_mm256_loadu_si256(p), shifted) : shifted);
  }
};

inline constexpr int mr = 4;
inline constexpr int np = 1;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::avx2

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
