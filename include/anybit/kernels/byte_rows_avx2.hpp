// anybit/kernels/byte_rows_avx2.hpp — AVX2 statistics of a row of byte codes for the int8 path:
// the sum (vpsadbw) and whether any code is out of range, 32 codes at a time.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define ANYBIT_X86_TARGET "avx2"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx2 {

/// For each of `rows` rows of n codes (row r at codes + r * n, n a multiple of 32: rows are
/// zero-padded to that): its sum into sums[r]. Returns whether any code has a bit of `over` set
/// (the range check).
inline bool byte_rows_stats(const std::uint8_t* codes, std::size_t rows, std::size_t n, std::uint8_t over,
                            std::int64_t* sums) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i seen = _mm256_setzero_si256();
  for (std::size_t r = 0; r < rows; ++r, codes += n) {
    __m256i total = _mm256_setzero_si256();
    for (std::size_t k = 0; k < n; k += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + k));
      total = _mm256_add_epi64(total, _mm256_sad_epu8(v, zero));
      seen = _mm256_or_si256(seen, v);
    }
    const __m128i pair = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    sums[r] = _mm_cvtsi128_si64(_mm_add_epi64(pair, _mm_unpackhi_epi64(pair, pair)));
  }
  return _mm256_testz_si256(seen, _mm256_set1_epi8(static_cast<char>(over))) == 0;
}

}  // namespace anybit::kernels::avx2

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
