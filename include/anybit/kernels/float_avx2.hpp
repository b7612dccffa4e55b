// anybit/kernels/float_avx2.hpp — AVX2+FMA float GEMM micro-kernel (x86-64, chosen at run time).
//
// One 6 x 16 tile of C lives in 12 ymm accumulators; each step of K loads two vectors of the
// packed B panel, broadcasts six values of the packed A panel and issues 12 FMAs. With the two
// B vectors and one broadcast that is 15 of the 16 ymm registers. Layouts: float_pack.hpp.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>

#include "anybit/kernels/float_pack.hpp"

#define ANYBIT_X86_TARGET "avx2,fma"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::float_avx2 {

namespace detail {

// c[0..16) = alpha * acc + beta * c (beta == 0: c is not read, so NaNs in it do not leak).
inline void store_row(float* c, __m256 acc0, __m256 acc1, __m256 alpha, __m256 beta, bool read_c) {
  __m256 out0 = _mm256_mul_ps(alpha, acc0);
  __m256 out1 = _mm256_mul_ps(alpha, acc1);
  if (read_c) {
    out0 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c), out0);
    out1 = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c + 8), out1);
  }
  _mm256_storeu_ps(c, out0);
  _mm256_storeu_ps(c + 8, out1);
}

// Transposes the 8 x 8 block r[0..8) in place (r[i][j] becomes r[j][i]).
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// One full panel of `rows` (<= 8) stored rows, each read along p: out[p * width + i] =
// src[i * ld + p]. Eight steps of p at a time through a register transpose; rows past `rows`
// in the transpose are zeros and are not stored.
template <int width, int rows>
void pack_rows_transposed(const float* src, std::size_t ld, std::size_t depth, float* out) {
  static_assert(rows == 6 || rows == 8, "stores are written for panels of 6 or 8 rows");
  std::size_t p = 0;
  for (; p + 8 <= depth; p += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + static_cast<std::size_t>(i) * ld + p) : _mm256_setzero_ps();
    transpose8(r);
    for (int q = 0; q < 8; ++q) {
      float* dst = out + (p + static_cast<std::size_t>(q)) * width;
      if constexpr (rows == 8) {
        _mm256_storeu_ps(dst, r[q]);
      } else {  // four and two floats
        _mm_storeu_ps(dst, _mm256_castps256_ps128(r[q]));
        _mm_storel_pi(reinterpret_cast<__m64*>(dst + 4), _mm256_extractf128_ps(r[q], 1));
      }
    }
  }
  for (; p < depth; ++p) {
    for (int i = 0; i < rows; ++i) out[p * width + static_cast<std::size_t>(i)] = src[static_cast<std::size_t>(i) * ld + p];
  }
}

}  // namespace detail

/// The AVX2+FMA kernel: a 6 x 16 register tile, its cache blocks and its packing.
struct micro_kernel {
  static constexpr int mr = 6;
  static constexpr int nr = 16;

  // Cache blocks: a kc x nr panel of B (16 KiB) stays in L1 while the mc x kc block of A
  // (144 KiB) streams from L2; the kc x nc block of B sits in L3. On AMD EPYC (Zen 3: 32 KiB
  // L1D, 512 KiB L2) float_gemm_plan sweeps of kc 192..512, mc 72..288, nc 512..3072 were all
  // within a few percent at 1024^3 (noise level); kc 192 was the slowest.
  static constexpr std::size_t kc = 256;
  static constexpr std::size_t mc = 144;
  static constexpr std::size_t nc = 3072;

  /// As float_pack::pack_a<6>; stored rows (no transpose) go through register transposes.
  static void pack_a(bool transposed, const float* a, std::size_t lda, std::size_t rows, std::size_t depth,
                     float* out) {
    if (transposed) return float_pack::copy_panels<mr>(a, lda, depth, rows, out);
    for (std::size_t i0 = 0; i0 < rows; i0 += mr, out += depth * mr) {
      if (rows - i0 < mr) {
        float_pack::gather_panels<mr>(a + i0 * lda, lda, depth, rows - i0, out);
      } else {
        detail::pack_rows_transposed<mr, mr>(a + i0 * lda, lda, depth, out);
      }
    }
  }

  /// As float_pack::pack_b<16>; a transposed B goes through register transposes.
  static void pack_b(bool transposed, const float* b, std::size_t ldb, std::size_t depth, std::size_t cols,
                     float* out) {
    if (!transposed) return float_pack::copy_panels<nr>(b, ldb, depth, cols, out);
    for (std::size_t j0 = 0; j0 < cols; j0 += nr, out += depth * nr) {
      if (cols - j0 < nr) {
        float_pack::gather_panels<nr>(b + j0 * ldb, ldb, depth, cols - j0, out);
      } else {
        detail::pack_rows_transposed<nr, 8>(b + j0 * ldb, ldb, depth, out);
        detail::pack_rows_transposed<nr, 8>(b + (j0 + 8) * ldb, ldb, depth, out + 8);
      }
    }
  }

  /// c[i * ldc + j] = alpha * sum_p a[p * 6 + i] * b[p * 16 + j] + beta * c[i * ldc + j] for
  /// i < rows (<= 6), j < 16; b is 32-byte aligned (packed panels are). beta == 0 does not read
  /// c. A shorter tile (the last rows of C) costs in proportion to its rows.
  template <int rows>
  static void tile(std::size_t depth, const float* a, const float* b, float alpha, float beta, float* c,
                        std::size_t ldc) {
    static_assert(rows >= 1 && rows <= mr, "a tile has 1..6 rows");
    __m256 acc[static_cast<std::size_t>(rows)][2];
#pragma GCC unroll 6
    for (int i = 0; i < rows; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    // The tile of C is written once at the end: start fetching its rows now.
#pragma GCC unroll 6
    for (int i = 0; i < rows; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + static_cast<std::size_t>(i) * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + static_cast<std::size_t>(i) * ldc + nr - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (std::size_t p = 0; p < depth; ++p, a += mr, b += nr) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < rows; ++i) {
        const __m256 x = _mm256_broadcast_ss(a + i);
        acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
      }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const bool read_c = beta != 0.0f;
#pragma GCC unroll 6
    for (int i = 0; i < rows; ++i) detail::store_row(c + static_cast<std::size_t>(i) * ldc, acc[i][0], acc[i][1], va, vb, read_c);
  }

};

}  // namespace anybit::kernels::float_avx2

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
