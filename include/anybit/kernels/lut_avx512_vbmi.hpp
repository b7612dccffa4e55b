// anybit/kernels/lut_avx512_vbmi.hpp — table-lookup GEMV kernel (AVX-512 VBMI + VNNI): the
// tables of kernels/lut_avx512.hpp, looked up by vpermb and summed by vpdpbusd.
//
// vpermb indexes a whole 64-byte vector with the low 6 bits of each index byte, so index
// 16 t + e picks entry e of the table in 128-bit lane t: one lookup reads four groups' tables
// at once, and the four bytes of a dword can be one column at four groups. vpdpbusd then adds
// those four bytes (x 1 for low-nibble tables, x 16 for high) straight into the column's 32-bit
// sum: no byte counters, no 16-bit stage, no even/odd split. Per 16-column vector and 32-k step
// this is 3 ops of index preparation (one vpternlogd puts the lane number t beside the low
// nibble; a shift and another vpternlogd do the high nibble), then per table pair 2 vpermb and
// 2 vpdpbusd: 7 ops for codes of up to 4 bits, 11 for 8 (kernels/lut_avx512.hpp: about 9 and 15).
// Sums wrap at 2^32 (read as unsigned): exact for K * 255 < 2^32.
//
// Layouts (kc: a step of 32 k = 8 groups of 4 k):
//   tables:  kernels/lut_avx512.hpp's build_tables (lane t of the lo-nibble vectors = group
//            8kc + t and 8kc + 4 + t, then the hi-nibble vectors when A > 4).
//   weights: per 64-column group, per plane, per kc, 4 vectors of 16 columns: byte 4c + t =
//            bits of column c at group 8kc + t (low nibble) and 8kc + 4 + t (high nibble).
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/lut_avx512.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw,avx512vbmi,avx512vnni"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512_vbmi_lut {

inline constexpr std::size_t k_step = avx512_lut::k_step;
inline constexpr std::size_t group_columns = avx512_lut::group_columns;
inline constexpr std::size_t sub_blocks = avx512_lut::sub_blocks;
inline constexpr std::size_t step_bytes = avx512_lut::step_bytes;

// vpermb: byte i = table[index[i] & 63]. The maskz form (full mask) avoids a GCC 12
// -Wmaybe-uninitialized false positive of the plain one (see int8_avx512.hpp).
inline __m512i lookup(__m512i index, __m512i table) { return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, index, table); }

// How far ahead of the weights being read they are prefetched: a GEMV streams them from L3 at
// about the rate the kernel consumes them, and the hardware prefetcher alone kept too few lines
// in flight (measured 10-15 % faster at 8 MiB of weights with 2 KiB). The layout puts the next
// call's weights right after this one's, so the prefetch runs on past the end (a prefetch of an
// address past the buffer is harmless; it is formed as an integer, never as a pointer).
inline constexpr std::size_t prefetch_distance = 2048;

/// sums[c] = sum_k a[k] * bit of plane at (column c, k) for the 64 columns of one group, from one
/// row's tables and that group's `steps` kc steps of one weight plane.
template <bool HighNibbles>
inline void group_sums(const std::uint8_t* tables, const std::uint8_t* weights, std::size_t steps, std::uint32_t* sums) {
  constexpr std::size_t per_step = HighNibbles ? 4 : 2;
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const __m512i lane = _mm512_set1_epi32(0x30201000);  // byte t of a dword reads table lane t
  const __m512i ones = _mm512_set1_epi8(1), sixteens = _mm512_set1_epi8(16);
  // Two chains per sub-block (lo and hi tables, or the two nibbles) hide vpdpbusd's latency.
  __m512i acc[sub_blocks][2];
  ANYBIT_UNROLL
  for (std::size_t b = 0; b < sub_blocks; ++b) acc[b][0] = acc[b][1] = _mm512_setzero_si512();
  for (std::size_t s = 0; s < steps; ++s) {
    const auto* t = reinterpret_cast<const __m512i*>(tables + s * per_step * 64);
    const __m512i lo0 = _mm512_load_si512(t), lo1 = _mm512_load_si512(t + 1);
    ANYBIT_UNROLL
    for (std::size_t b = 0; b < sub_blocks; ++b) {
      const std::uintptr_t ahead = reinterpret_cast<std::uintptr_t>(weights + s * step_bytes + b * 64) + prefetch_distance;
      _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
      const __m512i idx = _mm512_load_si512(weights + s * step_bytes + b * 64);
      // (x & 0x0F) | lane: 0xEA = (A & B) | C.
      const __m512i i0 = _mm512_ternarylogic_epi32(idx, nibble, lane, 0xEA);
      const __m512i i1 = _mm512_ternarylogic_epi32(_mm512_maskz_srli_epi32(0xFFFF, idx, 4), nibble, lane, 0xEA);
      if constexpr (HighNibbles) {
        const __m512i hi0 = _mm512_load_si512(t + 2), hi1 = _mm512_load_si512(t + 3);
        acc[b][0] = _mm512_dpbusd_epi32(acc[b][0], lookup(i0, lo0), ones);
        acc[b][1] = _mm512_dpbusd_epi32(acc[b][1], lookup(i0, hi0), sixteens);
        acc[b][0] = _mm512_dpbusd_epi32(acc[b][0], lookup(i1, lo1), ones);
        acc[b][1] = _mm512_dpbusd_epi32(acc[b][1], lookup(i1, hi1), sixteens);
      } else {
        acc[b][0] = _mm512_dpbusd_epi32(acc[b][0], lookup(i0, lo0), ones);
        acc[b][1] = _mm512_dpbusd_epi32(acc[b][1], lookup(i1, lo1), ones);
      }
    }
  }
  ANYBIT_UNROLL
  for (std::size_t b = 0; b < sub_blocks; ++b) {
    _mm512_storeu_si512(sums + 16 * b, _mm512_add_epi32(acc[b][0], acc[b][1]));
  }
}

}  // namespace anybit::kernels::avx512_vbmi_lut

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
