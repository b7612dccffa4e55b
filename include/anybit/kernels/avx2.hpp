// anybit/kernels/avx2.hpp — AVX2 bit-serial micro-kernel (x86-64, chosen at run time).
// AVX2 has no vector popcount: bytes are counted with the vpshufb nibble lookup (Mula et al.)
// and summed into the four 64-bit lanes with vpsadbw.
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
  using vec = __m256i;
  static constexpr int lanes = 4;
  static vec zero() { return _mm256_setzero_si256(); }
  static vec load(const std::uint64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static vec broadcast(std::uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
  static vec and_popcount_add(vec acc, vec a, vec w) {
    const __m256i lookup = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i x = _mm256_and_si256(a, w);
    const __m256i lo = _mm256_shuffle_epi8(lookup, _mm256_and_si256(x, low_nibbles));
    const __m256i hi = _mm256_shuffle_epi8(lookup, _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles));
    return _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
  }
  static void store_shifted_add(std::int64_t* c, vec acc, int shift) {
    __m256i* p = reinterpret_cast<__m256i*>(c);
    const __m256i shifted = _mm256_sll_epi64(acc, _mm_cvtsi32_si128(shift));
    _mm256_storeu_si256(p, _mm256_add_epi64(_mm256_loadu_si256(p), shifted));
  }
};

inline constexpr int mr = 2;
inline constexpr int np = 2;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::avx2

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
