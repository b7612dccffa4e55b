// anybit/kernels/avx512bw.hpp — bit-serial micro-kernel for AVX-512 parts without VPOPCNTDQ
// (Skylake-X, Cascade Lake): the AVX2 kernel's nibble lookup on 512-bit vectors (vpshufb zmm
// needs AVX-512BW), byte counters folded into 64-bit lanes with vpsadbw every 31 steps.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw,avx512vl"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512bw {

struct ops {
  struct a_word {
    __m512i low, high;  // nibbles 0..3 and 4..7 of every byte, each in the low half of its byte
  };
  struct w_vec {
    __m512i w, w_shifted;  // w and w >> 4 (16-bit lanes; the stray bits meet a's zero high nibbles)
  };
  using acc = __m512i;  // byte counts: at most 8 per step, so 31 steps fit
  static constexpr int lanes = 8;
  static constexpr std::size_t flush_every = 31;
  static acc zero() { return _mm512_setzero_si512(); }
  static a_word prepare_a(std::uint64_t x) {
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
    const __m512i a = _mm512_set1_epi64(static_cast<long long>(x));
    return {_mm512_and_si512(a, low_nibbles), _mm512_and_si512(_mm512_srli_epi16(a, 4), low_nibbles)};
  }
  static w_vec prepare_w(const std::uint64_t* p) {
    const __m512i w = _mm512_loadu_si512(p);
    return {w, _mm512_srli_epi16(w, 4)};
  }
  static acc and_popcount_add(acc sum, a_word a, w_vec w) {
    // Popcounts of 0..15 in every 128-bit lane (as two qwords: _mm512_broadcast_i32x4 trips a
    // GCC 12 -Wmaybe-uninitialized false positive).
    const __m512i lookup = _mm512_set4_epi64(0x0403030203020201, 0x0302020102010100, 0x0403030203020201, 0x0302020102010100);
    const __m512i low = _mm512_shuffle_epi8(lookup, _mm512_and_si512(a.low, w.w));
    const __m512i high = _mm512_shuffle_epi8(lookup, _mm512_and_si512(a.high, w.w_shifted));
    return _mm512_add_epi8(_mm512_add_epi8(sum, low), high);
  }
  static void flush(std::int64_t* c, acc sum, int shift, bool add) {
    const __m512i lanes64 = _mm512_sad_epu8(sum, _mm512_setzero_si512());  // bytes -> one sum per 64-bit lane
    // maskz form with a full mask: _mm512_sll_epi64 trips a GCC 12 -Wmaybe-uninitialized false positive.
    const __m512i shifted = _mm512_maskz_sll_epi64(0xFF, lanes64, _mm_cvtsi32_si128(shift));
    _mm512_storeu_si512(c, add ? _mm512_add_epi64(_mm512_loadu_si512(c), shifted) : shifted);
  }
};

inline constexpr int mr = 4;
inline constexpr int np = 2;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::avx512bw

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
