// anybit/kernels/avx512.hpp — AVX-512 bit-serial micro-kernel with VPOPCNTDQ (x86-64, chosen
// at run time): vpandq + vpopcntq + vpaddq per 512 bit-MACs, one weight panel per zmm.
//
// Its own tile loop rather than bitserial_tile-inl.hpp: 64-bit lane counters never need a
// mid-K flush, so the loop can start each counter from its first k step (no zeroing, no add)
// and can prefetch the output lines for writing while it counts. With a short K (1024 codes =
// 16 words per tile) writing the int64 output is what separates the GEMM from the in-L1
// roofline. Taller tiles (6x4, 8x3, 8x2 with 24-32 counters) measured slower in the GEMM than
// this 4x4 tile, at the same roofline.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

// prfchw: every CPU with VPOPCNTDQ has PREFETCHW (prefetch for writing).
#define ANYBIT_X86_TARGET "avx512f,avx512bw,avx512vl,avx512vpopcntdq,prfchw"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512 {

inline constexpr int mr = 4;
inline constexpr int np = 4;

// popcount(a & w) in each 64-bit lane of w, a broadcast to every lane.
inline __m512i and_popcount(__m512i a, __m512i w) { return _mm512_popcnt_epi64(_mm512_and_si512(a, w)); }

// R rows x P panels: c[r][8p + l] = sum over plane pairs of 2^(i+j) * popcounts (tile_args.hpp).
template <int R, int P>
inline void tile(const tile_args& t, const std::uint64_t* a_rows, std::int64_t* c_rows) {
  const std::size_t lda = t.a_row_stride, ldw = t.w_panel_stride, ldc = t.c_row_stride, k_words = t.k_words;
  if (k_words == 0) {
    for (int r = 0; r < R; ++r) {
      for (int p = 0; p < P; ++p) _mm512_storeu_si512(c_rows + r * ldc + p * panel_width, _mm512_setzero_si512());
    }
    return;
  }
  // The output lines are written at the end of the tile: ask for them (with write intent) now,
  // so the stores find them in L1 instead of stalling on read-for-ownership misses (the output
  // is int64, 8 bytes per result: at K = 1024 writing it costs half as long as computing it).
  // A row's P vectors need not start on a line, so its last line is asked for too.
  for (int r = 0; r < R; ++r) {
    for (int p = 0; p < P; ++p) __builtin_prefetch(c_rows + r * ldc + p * panel_width, 1, 3);
    __builtin_prefetch(c_rows + r * ldc + P * panel_width - 1, 1, 3);
  }
  for (int i = 0; i < t.a_bits; ++i) {
    const std::uint64_t* a = a_rows + i * t.a_plane_stride;
    for (int j = 0; j < t.w_bits; ++j) {
      const std::uint64_t* w = t.w + j * t.w_plane_stride;
      __m512i acc[R][P];
      {  // k = 0 sets the counters
        __m512i wv[P];
        ANYBIT_UNROLL
        for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_si512(w + p * ldw);
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          const __m512i av = _mm512_set1_epi64(static_cast<long long>(a[r * lda]));
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) acc[r][p] = and_popcount(av, wv[p]);
        }
      }
      for (std::size_t k = 1; k < k_words; ++k) {
        __m512i wv[P];
        ANYBIT_UNROLL
        for (int p = 0; p < P; ++p) wv[p] = _mm512_loadu_si512(w + p * ldw + k * panel_width);
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          const __m512i av = _mm512_set1_epi64(static_cast<long long>(a[r * lda + k]));
          ANYBIT_UNROLL
          for (int p = 0; p < P; ++p) acc[r][p] = _mm512_add_epi64(acc[r][p], and_popcount(av, wv[p]));
        }
      }
      const int shift = i + j;
      ANYBIT_UNROLL
      for (int r = 0; r < R; ++r) {
        ANYBIT_UNROLL
        for (int p = 0; p < P; ++p) {
          std::int64_t* c = c_rows + r * ldc + p * panel_width;
          if (shift == 0) {
            _mm512_storeu_si512(c, acc[r][p]);  // the first plane pair stores: no zeroing pass
          } else {
            // maskz form with a full mask: _mm512_sll_epi64 trips a GCC 12 -Wmaybe-uninitialized false positive.
            const __m512i shifted = _mm512_maskz_sll_epi64(0xFF, acc[r][p], _mm_cvtsi32_si128(shift));
            _mm512_storeu_si512(c, _mm512_add_epi64(_mm512_loadu_si512(c), shifted));
          }
        }
      }
    }
  }
}

// Every row, R at a time; the last rows (fewer than R) get their own unrolled tile.
template <int P, int R = mr>
inline void rows(const tile_args& t) {
  int r0 = 0;
  for (; r0 + R <= t.rows; r0 += R) tile<R, P>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride);
  if constexpr (R > 1) {
    if (r0 < t.rows) {
      tile_args rest = t;
      rest.a += r0 * t.a_row_stride;
      rest.c += r0 * t.c_row_stride;
      rest.rows = t.rows - r0;
      rows<P, R - 1>(rest);
    }
  }
}

// panels is a run-time value up to np; each count gets its own unrolled loop.
template <int P>
inline void dispatch(const tile_args& t) {
  if constexpr (P > 1) {
    if (t.panels < P) return dispatch<P - 1>(t);
  }
  rows<P>(t);
}

/// Computes t.rows rows x t.panels panels (at most np); see tile_args.hpp for the contract.
inline void run(const tile_args& t) { dispatch<np>(t); }

}  // namespace anybit::kernels::avx512

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
