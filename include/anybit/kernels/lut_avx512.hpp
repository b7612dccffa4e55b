// anybit/kernels/lut_avx512.hpp — table-lookup GEMV kernel (AVX-512BW): one vpshufb adds 4
// activation codes per weight nibble for 64 (column, k-group) pairs.
//
// For a GEMV the activations are the small operand, so they become tables: for every group of
// 4 consecutive k, the 16 sums sum_t bit_t(e) * a[4g + t], e = 0..15, one per pattern of 4 weight
// bits. A weight plane's 4 bits of a column at that group then index its table, so one shuffle
// replaces 4 bit-MACs x 64 columns of AND-popcount work per activation plane pair: the cost
// grows with W only, not with W * A. Codes are split into nibbles (a = 16 * hi + lo) so every
// table entry fits in a byte (<= 60); four lookups fit a byte counter (<= 240) before they are
// widened (vpmaddubsw, which also weighs the high nibble by 16) into 16-bit lanes, and those are
// widened to 32 bits every 32 steps. Everything is integer: the sums are exact.
//
// Layouts (kc: a step of 32 k = 8 groups; a 128-bit lane L of a vector serves group 8kc + L or
// 8kc + 4 + L, so vpshufb's per-lane tables are four different groups at once):
//   tables:  per row, per kc, 4 vectors (2 when A <= 4): lo nibbles of groups 8kc+0..3 (lane L
//            = group 8kc + L), lo of 8kc+4..7, then hi of the same; 64 bytes each.
//   weights: per 64-column group, per plane, per kc, 4 vectors of 16 columns: byte 16L + c =
//            bits of column c at group 8kc + L (low nibble) and 8kc + 4 + L (high nibble).
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define ANYBIT_X86_TARGET "avx512f,avx512bw"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512_lut {

inline constexpr std::size_t k_step = 32;        // k per kc step: one weight byte per column and lane
inline constexpr std::size_t group_columns = 64;  // columns per kernel call
inline constexpr std::size_t sub_blocks = 4;      // 16-column vectors per kc step
inline constexpr std::size_t step_bytes = sub_blocks * 64;  // weight bytes per kc step and plane

/// Table vectors per kc step: the high nibbles' tables only when codes use them.
constexpr std::size_t tables_per_step(int a_bits) noexcept { return a_bits > 4 ? 4 : 2; }

// The tables of 4 groups (16 codes, < 16 each): lane L holds group L's 16 sums. Shuffle control
// t puts code 4L + t in every byte of lane L; mask t keeps the entries e with bit t set.
inline __m512i four_tables(__m128i codes) {
  const __m512i b = _mm512_maskz_broadcast_i32x4(0xFFFF, codes);  // maskz: see int8_avx512.hpp
  const __mmask64 keep[4] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull, 0xFF00FF00FF00FF00ull};
  __m512i sum = _mm512_setzero_si512();
  ANYBIT_UNROLL
  for (int t = 0; t < 4; ++t) {
    const long long c = 0x0101010101010101LL;
    const __m512i control = _mm512_set_epi64(c * (12 + t), c * (12 + t), c * (8 + t), c * (8 + t), c * (4 + t),
                                             c * (4 + t), c * t, c * t);
    sum = _mm512_add_epi8(sum, _mm512_maskz_shuffle_epi8(keep[t], b, control));
  }
  return sum;
}

/// The tables of one row of activation codes (32 * steps bytes, zero past K) into
/// tables[steps * tables_per_step(a_bits) * 64].
inline void build_tables(const std::uint8_t* codes, std::size_t steps, int a_bits, std::uint8_t* tables) {
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const std::size_t per_step = tables_per_step(a_bits);
  for (std::size_t s = 0; s < steps; ++s) {
    __m512i* out = reinterpret_cast<__m512i*>(tables + s * per_step * 64);
    ANYBIT_UNROLL
    for (int half = 0; half < 2; ++half) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + s * k_step + 16 * half));
      _mm512_storeu_si512(out + half, four_tables(_mm_and_si128(x, low_nibbles)));
      if (per_step == 4) _mm512_storeu_si512(out + 2 + half, four_tables(_mm_and_si128(_mm_srli_epi16(x, 4), low_nibbles)));
    }
  }
}

// 16-bit lane 8L + q (lane L: the sums of lane L's groups) to 32 bits, lanes L and L + 2 added.
inline __m512i widen_lanes(__m512i x) {
  return _mm512_add_epi32(_mm512_maskz_cvtepu16_epi32(0xFFFF, _mm512_maskz_extracti64x4_epi64(0xF, x, 0)),
                          _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm512_maskz_extracti64x4_epi64(0xF, x, 1)));
}

/// sums[c] = sum_k a[k] * bit of plane at (column c, k) for the 64 columns of one group, from one
/// row's tables and that group's `steps` kc steps of one weight plane (steps even: the layouts are
/// padded to pairs of steps with zero weights and zero tables).
template <bool HighNibbles>
inline void group_sums(const std::uint8_t* tables, const std::uint8_t* weights, std::size_t steps, std::uint32_t* sums) {
  constexpr std::size_t per_step = HighNibbles ? 4 : 2;
  constexpr std::size_t flush_steps = 32;  // 16 widenings of <= 240 + 16 * 240 each fit 16 bits
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const __m512i even_lo = _mm512_set1_epi16(0x0001), odd_lo = _mm512_set1_epi16(0x0100);
  const __m512i even_hi = _mm512_set1_epi16(0x0010), odd_hi = _mm512_set1_epi16(0x1000);
  // 32-bit sums in memory (touched once per 32 steps), 16-bit sums and byte counters in registers.
  alignas(64) std::uint32_t even32[sub_blocks][16] = {}, odd32[sub_blocks][16] = {};
  for (std::size_t s0 = 0; s0 < steps; s0 += flush_steps) {
    const std::size_t s_end = s0 + flush_steps < steps ? s0 + flush_steps : steps;
    __m512i even16[sub_blocks], odd16[sub_blocks];
    ANYBIT_UNROLL
    for (std::size_t b = 0; b < sub_blocks; ++b) even16[b] = odd16[b] = _mm512_setzero_si512();
    for (std::size_t s = s0; s < s_end; s += 2) {
      // The tables of both steps: lo nibbles of groups 0..3 and 4..7, then hi, per step.
      __m512i t[2 * per_step];
      const auto* tp = reinterpret_cast<const __m512i*>(tables + s * per_step * 64);
      ANYBIT_UNROLL
      for (std::size_t i = 0; i < 2 * per_step; ++i) t[i] = _mm512_load_si512(tp + i);
      ANYBIT_UNROLL
      for (std::size_t b = 0; b < sub_blocks; ++b) {
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
        ANYBIT_UNROLL
        for (std::size_t u = 0; u < 2; ++u) {
          const __m512i idx = _mm512_load_si512(weights + (s + u) * step_bytes + b * 64);
          const __m512i i0 = _mm512_and_si512(idx, nibble);
          const __m512i i1 = _mm512_and_si512(_mm512_maskz_srli_epi16(~__mmask32{0}, idx, 4), nibble);
          const __m512i* tu = t + u * per_step;
          lo = _mm512_add_epi8(lo, _mm512_add_epi8(_mm512_shuffle_epi8(tu[0], i0), _mm512_shuffle_epi8(tu[1], i1)));
          if constexpr (HighNibbles) {
            hi = _mm512_add_epi8(hi, _mm512_add_epi8(_mm512_shuffle_epi8(tu[2], i0), _mm512_shuffle_epi8(tu[3], i1)));
          }
        }
        // Bytes 2q and 2q + 1 of a 16-bit lane are columns 2q and 2q + 1 (of one lane's groups).
        even16[b] = _mm512_add_epi16(even16[b], _mm512_maddubs_epi16(lo, even_lo));
        odd16[b] = _mm512_add_epi16(odd16[b], _mm512_maddubs_epi16(lo, odd_lo));
        if constexpr (HighNibbles) {
          even16[b] = _mm512_add_epi16(even16[b], _mm512_maddubs_epi16(hi, even_hi));
          odd16[b] = _mm512_add_epi16(odd16[b], _mm512_maddubs_epi16(hi, odd_hi));
        }
      }
    }
    ANYBIT_UNROLL
    for (std::size_t b = 0; b < sub_blocks; ++b) {
      _mm512_store_si512(even32[b], _mm512_add_epi32(_mm512_load_si512(even32[b]), widen_lanes(even16[b])));
      _mm512_store_si512(odd32[b], _mm512_add_epi32(_mm512_load_si512(odd32[b]), widen_lanes(odd16[b])));
    }
  }
  // 32-bit lane 8h + q: column 2q (even) or 2q + 1 (odd) of the sub-block, lanes L = h and h + 2.
  ANYBIT_UNROLL
  for (std::size_t b = 0; b < sub_blocks; ++b) {
    ANYBIT_UNROLL
    for (std::size_t q = 0; q < 8; ++q) {
      sums[16 * b + 2 * q] = even32[b][q] + even32[b][8 + q];
      sums[16 * b + 2 * q + 1] = odd32[b][q] + odd32[b][8 + q];
    }
  }
}

}  // namespace anybit::kernels::avx512_lut

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
