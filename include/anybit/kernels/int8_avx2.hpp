// anybit/kernels/int8_avx2.hpp — AVX2 int8 micro-kernel: vpmaddubsw (u8 x s8 -> pairs of s16),
// vpmaddwd with ones (-> s32 per 4 products), vpaddd; one ymm = 8 columns x 4 k.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anybit/kernels/int8_args.hpp"

#define ANYBIT_X86_TARGET "avx2"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx2_int8 {

inline constexpr int mr = 3;
inline constexpr int np = 2;

inline __m256i load_group(const int8_tile_args& t, int panel, std::size_t g) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.w + panel * t.w_panel_stride + g * 32));
}

inline __m256i broadcast_group(const std::uint8_t* row, std::size_t g) {  // the 4 codes of group g, to all 8 lanes
  std::int32_t four;
  std::memcpy(&four, row + g * 4, 4);
  return _mm256_set1_epi32(four);
}

template <int R, int P, bool Split>
inline void tile(const int8_tile_args& t, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
  const __m256i ones = _mm256_set1_epi16(1), sixteens = _mm256_set1_epi16(16), low_nibbles = _mm256_set1_epi8(0x0F);
  for (std::size_t g0 = 0; g0 < t.k_groups || g0 == 0; g0 += t.chunk_groups) {
    const std::size_t g_end = g0 + t.chunk_groups < t.k_groups ? g0 + t.chunk_groups : t.k_groups;
    __m256i acc[R][P];
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) acc[r][p] = _mm256_setzero_si256();
    }
    if constexpr (Split) {
      for (std::size_t g = g0; g < g_end; ++g) {
        __m256i w[P];
        ANYBIT_UNROLL
        for (int p = 0; p < P; ++p) w[p] = load_group(t, p, g);
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          const __m256i ab = broadcast_group(a + r * t.a_row_stride, g);
          const __m256i lo = _mm256_and_si256(ab, low_nibbles);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(ab, 4), low_nibbles);
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) {
            acc[r][p] = _mm256_add_epi32(acc[r][p], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w[p]), ones));
            acc[r][p] = _mm256_add_epi32(acc[r][p], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w[p]), sixteens));
          }
        }
      }
    } else {
      for (std::size_t g = g0; g < g_end;) {
        const std::size_t g16_end = g + t.i16_groups < g_end ? g + t.i16_groups : g_end;
        __m256i acc16[R][P];
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) acc16[r][p] = _mm256_setzero_si256();
        }
        for (; g < g16_end; ++g) {
          __m256i w[P];
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) w[p] = load_group(t, p, g);
          ANYBIT_UNROLL
          for (int r = 0; r < R; ++r) {
            const __m256i ab = broadcast_group(a + r * t.a_row_stride, g);
            ANYBIT_UNROLL
            for (int p = 0; p < P; ++p) acc16[r][p] = _mm256_add_epi16(acc16[r][p], _mm256_maddubs_epi16(ab, w[p]));
          }
        }
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) acc[r][p] = _mm256_add_epi32(acc[r][p], _mm256_madd_epi16(acc16[r][p], ones));
        }
      }
    }
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256i row_add = _mm256_set1_epi64x(add != nullptr && g0 == 0 ? add[r] : 0);
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) {
        __m256i* out = reinterpret_cast<__m256i*>(c + r * t.c_row_stride + p * 8);
        const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc[r][p]));
        const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc[r][p], 1));
        if (g0 == 0) {
          _mm256_storeu_si256(out, _mm256_add_epi64(lo, row_add));
          _mm256_storeu_si256(out + 1, _mm256_add_epi64(hi, row_add));
        } else {
          _mm256_storeu_si256(out, _mm256_add_epi64(_mm256_loadu_si256(out), lo));
          _mm256_storeu_si256(out + 1, _mm256_add_epi64(_mm256_loadu_si256(out + 1), hi));
        }
      }
    }
    if (g_end >= t.k_groups) break;
  }
}

// The common narrow-code case: every group's pair sums fit int16 together (k_groups <=
// i16_groups, and <= chunk_groups), so no int32 accumulators are live in the loop and a
// taller tile fits the 16 registers (4 rows x 2 panels: 8 accumulators, 2 weights, 1 row).
template <int R, int P>
inline void tile_int16(const int8_tile_args& t, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
  __m256i acc[R][P];
  ANYBIT_UNROLL
  for (int r = 0; r < R; ++r) {
    ANYBIT_UNROLL
    for (int p = 0; p < P; ++p) acc[r][p] = _mm256_setzero_si256();
  }
  for (std::size_t g = 0; g < t.k_groups; ++g) {
    __m256i w[P];
    ANYBIT_UNROLL
    for (int p = 0; p < P; ++p) w[p] = load_group(t, p, g);
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256i ab = broadcast_group(a + r * t.a_row_stride, g);
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) acc[r][p] = _mm256_add_epi16(acc[r][p], _mm256_maddubs_epi16(ab, w[p]));
    }
  }
  const __m256i ones = _mm256_set1_epi16(1);
  ANYBIT_UNROLL
  for (int r = 0; r < R; ++r) {
    const __m256i row_add = _mm256_set1_epi64x(add != nullptr ? add[r] : 0);
    ANYBIT_UNROLL
    for (int p = 0; p < P; ++p) {
      const __m256i sums = _mm256_madd_epi16(acc[r][p], ones);
      __m256i* out = reinterpret_cast<__m256i*>(c + r * t.c_row_stride + p * 8);
      _mm256_storeu_si256(out, _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(sums)), row_add));
      _mm256_storeu_si256(out + 1, _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(sums, 1)), row_add));
    }
  }
}

template <int P>
inline void rows_int16(const int8_tile_args& t) {
  const auto add_of = [&](int r0) { return t.row_add != nullptr ? t.row_add + r0 : nullptr; };
  int r0 = 0;
  for (; r0 + 4 <= t.rows; r0 += 4) tile_int16<4, P>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride, add_of(r0));
  const std::uint8_t* a = t.a + r0 * t.a_row_stride;
  std::int64_t* c = t.c + r0 * t.c_row_stride;
  switch (t.rows - r0) {
    case 1: return tile_int16<1, P>(t, a, c, add_of(r0));
    case 2: return tile_int16<2, P>(t, a, c, add_of(r0));
    case 3: return tile_int16<3, P>(t, a, c, add_of(r0));
    default: return;
  }
}

template <int R, int P, bool Split>
inline void rows(const int8_tile_args& t) {
  const auto add_of = [&](int r0) { return t.row_add != nullptr ? t.row_add + r0 : nullptr; };
  int r0 = 0;
  for (; r0 + R <= t.rows; r0 += R) tile<R, P, Split>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride, add_of(r0));
  const std::uint8_t* a = t.a + r0 * t.a_row_stride;
  std::int64_t* c = t.c + r0 * t.c_row_stride;
  switch (t.rows - r0) {
    case 1: return tile<1, P, Split>(t, a, c, add_of(r0));
    case 2: return tile<2, P, Split>(t, a, c, add_of(r0));
    case 3: return tile<3, P, Split>(t, a, c, add_of(r0));
    default: return;
  }
}

/// Computes t.rows rows x t.panels panels (at most np); see int8_args.hpp for the contract.
inline void run(const int8_tile_args& t) {
  static_assert(mr <= 4 && np == 2, "run() unrolls remainders of up to 3 rows and 1..2 panels");
  if (!t.split && t.k_groups <= t.i16_groups && t.k_groups <= t.chunk_groups) {
    return t.panels == 1 ? rows_int16<1>(t) : rows_int16<2>(t);
  }
  if (t.panels == 1) return t.split ? rows<mr, 1, true>(t) : rows<mr, 1, false>(t);
  return t.split ? rows<mr, 2, true>(t) : rows<mr, 2, false>(t);
}

}  // namespace anybit::kernels::avx2_int8

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
