// anybit/kernels/requantize_avx2.hpp — the gemm output stage, 4 outputs per step in double.
//
// Computes, per column x of one output row, exactly what gemm/output_stage.hpp's scalar code
// does, operation by operation in the same order (so the results are the same bits on every
// path):
//     y = clamp(((raw + offset) - zero * row_sum) * scale + bias, min, max)      in double
//     float out: (float) y
//     codes out: quant/affine.hpp's quantize_code((float) y, 1 / q_scale, q_zero, q_max): the
//                one fused multiply-add of training's fake quantization, 8 floats at a time
// The int64 sums are converted exactly with the 2^52 + 2^51 trick, valid for |raw| < 2^51 (the
// caller checks its bound). In the double part nothing may be fused: contraction is off for
// these functions, since a fused rounding would differ from the scalar stage.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#define ANYBIT_X86_TARGET "avx2,fma"
#include "anybit/kernels/x86_target_begin.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#define ANYBIT_DETAIL_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define ANYBIT_DETAIL_NO_CONTRACT
#endif

namespace anybit::kernels::avx2 {

/// Per-column constants of the output stage, from column n0 on; each array has at least
/// round_up(cols, 8) readable values.
struct stage_columns {
  const double* offset;
  const double* zero;
  const double* scale;
  const double* bias;
  double row_sum, min, max;
};

/// |raw| below this converts exactly.
inline constexpr double exact_int64_limit = 2251799813685248.0;  // 2^51

ANYBIT_DETAIL_NO_CONTRACT inline __m256d stage4(const std::int64_t* raw, const stage_columns& c, std::size_t x) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  const __m256i magic_bits = _mm256_set1_epi64x(0x4338000000000000LL);  // the double 2^52 + 2^51
  const __m256d magic = _mm256_castsi256_pd(magic_bits);
  const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw + x));
  const __m256d v = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(r, magic_bits)), magic);
  const __m256d zr = _mm256_mul_pd(_mm256_loadu_pd(c.zero + x), _mm256_set1_pd(c.row_sum));
  const __m256d t = _mm256_sub_pd(_mm256_add_pd(v, _mm256_loadu_pd(c.offset + x)), zr);
  const __m256d y = _mm256_add_pd(_mm256_mul_pd(t, _mm256_loadu_pd(c.scale + x)), _mm256_loadu_pd(c.bias + x));
  // std::min(std::max(y, min), max): max_pd(a, b) is a > b ? a : b, so min goes first
  return _mm256_min_pd(_mm256_set1_pd(c.max), _mm256_max_pd(_mm256_set1_pd(c.min), y));
}

/// out[x] = (float) y for x < cols.
ANYBIT_DETAIL_NO_CONTRACT inline void stage_row_float(const std::int64_t* raw, std::size_t cols, const stage_columns& c,
                                                      float* out) {
  std::size_t x = 0;
  for (; x + 4 <= cols; x += 4) _mm_storeu_ps(out + x, _mm256_cvtpd_ps(stage4(raw, c, x)));
  if (x < cols) {
    alignas(32) std::int64_t tail[4] = {};
    std::memcpy(tail, raw + x, (cols - x) * sizeof(std::int64_t));
    const stage_columns shifted{c.offset + x, c.zero + x, c.scale + x, c.bias + x, c.row_sum, c.min, c.max};
    alignas(16) float f[4];
    _mm_store_ps(f, _mm256_cvtpd_ps(stage4(tail, shifted, 0)));
    std::memcpy(out + x, f, (cols - x) * sizeof(float));
  }
}

// quant/affine.hpp's quantize_code on 8 floats: clamp(nearbyint(fma(y, inverse, zero)), 0, top),
// NaN to 0 (max_ps(r, 0) is r > 0 ? r : 0). Returns the 8 codes in the low 8 bytes.
inline __m128i code8(__m256 y, __m256 inverse, __m256 zero, __m256 top) {
  const __m256 r = _mm256_round_ps(_mm256_fmadd_ps(y, inverse, zero), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 c = _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), top);
  const __m256i i32 = _mm256_cvttps_epi32(c);
  const __m128i i16 = _mm_packus_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
  return _mm_packus_epi16(i16, i16);
}

ANYBIT_DETAIL_NO_CONTRACT inline __m256 stage8(const std::int64_t* raw, const stage_columns& c, std::size_t x) {
  return _mm256_set_m128(_mm256_cvtpd_ps(stage4(raw, c, x + 4)), _mm256_cvtpd_ps(stage4(raw, c, x)));
}

/// out[x] = quantize_code((float) y, inverse, zero, top) for x < cols: the code training's fake
/// quantization gives the value y. The columns must be readable up to round_up(cols, 8).
ANYBIT_DETAIL_NO_CONTRACT inline void stage_row_codes(const std::int64_t* raw, std::size_t cols, const stage_columns& c,
                                                      float inverse, float zero, float top, std::uint8_t* out) {
  const __m256 inv = _mm256_set1_ps(inverse), zp = _mm256_set1_ps(zero), hi = _mm256_set1_ps(top);
  std::size_t x = 0;
  for (; x + 8 <= cols; x += 8) _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x), code8(stage8(raw, c, x), inv, zp, hi));
  if (x < cols) {
    alignas(32) std::int64_t tail[8] = {};
    std::memcpy(tail, raw + x, (cols - x) * sizeof(std::int64_t));
    const stage_columns shifted{c.offset + x, c.zero + x, c.scale + x, c.bias + x, c.row_sum, c.min, c.max};
    alignas(16) std::uint8_t codes[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(codes), code8(stage8(tail, shifted, 0), inv, zp, hi));
    std::memcpy(out + x, codes, cols - x);
  }
}

}  // namespace anybit::kernels::avx2

#undef ANYBIT_DETAIL_NO_CONTRACT

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
