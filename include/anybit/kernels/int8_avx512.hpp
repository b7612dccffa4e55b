// anybit/kernels/int8_avx512.hpp — AVX-512 VNNI int8 micro-kernel: vpdpbusd adds 4 u8 x s8
// products straight into each int32 lane, so no int16 stage (no saturation, no nibble split).
//
// It reads weights in group pairs (int8_args.hpp): the 64 bytes at pair g / 2 of a panel are
// (col 0, g), (col 0, g + 1), (col 1, g), ..., so a single 8-byte broadcast of the activations'
// two groups lines up with them; at the store each column's two int32 lanes are added into one
// int64 lane, in column order. (Reading the AVX2 kernel's group-order panels took one vpermd
// per weight vector, on the port vpdpbusd uses: 4 per 24 vpdpbusd.)
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anybit/kernels/int8_args.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw,avx512vl,avx512vnni"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512_int8 {

// Shifts are written in their maskz form with a full mask: the plain forms trip a
// GCC 12 -Wmaybe-uninitialized false positive (_mm512_undefined_epi32); the code is the same.

// 6 rows x 4 panels: 24 accumulators, 4 weight vectors and a broadcast in the 32 zmm registers;
// measured ahead of 8 x 2 and 4 x 4 at 1024^3 and 64x1024^2, and 1.7x 8 x 2 on a GEMV (four
// weight streams in flight); 4 x 8 spills.
inline constexpr int mr = 6;
inline constexpr int np = 4;
// Rows per call: whole tiles (with 32, a last 2-row tile ran ~40 % slower per row).
inline constexpr std::size_t row_block = 5 * mr;
// A tile of 1 or 2 rows (a GEMV) streams its weights once, from L3 or memory: fetch them this
// many groups (2 KiB per panel) ahead (1x4096x4096: ~75 -> ~115 GOPS; 16 and 32 groups less).
inline constexpr std::size_t prefetch_groups = 64;

// Groups g and g + 1 (g even) of a panel's 8 columns.
inline __m512i load_weights(const int8_tile_args& t, int panel, std::size_t g) {
  return _mm512_loadu_si512(t.w + panel * t.w_panel_stride + g * 32);
}

// The activation codes of groups g and g + 1 of one row, in every lane pair. Chunks are whole
// pairs; past an odd last group these bytes are the row's padding (its stride is a multiple of
// 8) and meet the panels' zero padding.
inline __m512i broadcast_activations(const std::uint8_t* row, std::size_t g) {
  long long eight;
  std::memcpy(&eight, row + g * 4, 8);
  return _mm512_set1_epi64(eight);
}

template <int R, int P>
inline void tile(const int8_tile_args& t, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
  for (std::size_t g0 = 0; g0 < t.k_groups || g0 == 0; g0 += t.chunk_groups) {
    const std::size_t g_end = g0 + t.chunk_groups < t.k_groups ? g0 + t.chunk_groups : t.k_groups;
    // Every loop over r and p is unrolled: an accumulator indexed at run time lives in memory.
    __m512i acc[R][P];
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) acc[r][p] = _mm512_setzero_si512();
    }
    for (std::size_t g = g0; g < g_end; g += 2) {
      __m512i w[P];
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) w[p] = load_weights(t, p, g);
      if constexpr (R <= 2) {
        if (g + prefetch_groups < t.k_groups) {
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) {
            const std::int8_t* ahead = t.w + p * t.w_panel_stride + (g + prefetch_groups) * 32;
            _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
          }
        }
      }
      ANYBIT_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m512i ab = broadcast_activations(a + r * t.a_row_stride, g);
        ANYBIT_UNROLL
        for (int p = 0; p < P; ++p) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], ab, w[p]);
      }
    }
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m512i row_add = _mm512_set1_epi64(add != nullptr && g0 == 0 ? add[r] : 0);
      ANYBIT_UNROLL
      for (int p = 0; p < P; ++p) {
        // Column j's two int32 lanes, sign-extended and added in its int64 lane.
        const __m512i odd = _mm512_maskz_srai_epi64(0xFF, acc[r][p], 32);
        const __m512i even = _mm512_maskz_srai_epi64(0xFF, _mm512_maskz_slli_epi64(0xFF, acc[r][p], 32), 32);
        const __m512i sums = _mm512_add_epi64(even, odd);
        std::int64_t* out = c + r * t.c_row_stride + p * 8;
        if (g0 == 0) {
          _mm512_storeu_si512(out, _mm512_add_epi64(sums, row_add));
        } else {
          _mm512_storeu_si512(out, _mm512_add_epi64(_mm512_loadu_si512(out), sums));
        }
      }
    }
    if (g_end >= t.k_groups) break;
  }
}

// The last rows (R down to 1) of a call whose row count is not a multiple of mr.
template <int P, int R = mr - 1>
inline void remainder(const int8_tile_args& t, int r0) {
  if constexpr (R >= 1) {
    if (t.rows - r0 != R) return remainder<P, R - 1>(t, r0);
    tile<R, P>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride, t.row_add != nullptr ? t.row_add + r0 : nullptr);
  }
}

template <int P>
inline void rows(const int8_tile_args& t) {
  int r0 = 0;
  for (; r0 + mr <= t.rows; r0 += mr) {
    tile<mr, P>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride, t.row_add != nullptr ? t.row_add + r0 : nullptr);
  }
  remainder<P>(t, r0);
}

// Panels: np, or fewer at the right edge.
template <int P = np>
inline void panels(const int8_tile_args& t) {
  if constexpr (P > 1) {
    if (t.panels < P) return panels<P - 1>(t);
  }
  rows<P>(t);
}

/// Computes t.rows rows x t.panels panels (at most np); see int8_args.hpp for the contract
/// (split and i16_groups are vpmaddubsw's concerns: vpdpbusd needs neither).
inline void run(const int8_tile_args& t) { panels(t); }

}  // namespace anybit::kernels::avx512_int8

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
