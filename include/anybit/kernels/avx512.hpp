// anybit/kernels/avx512.hpp — AVX-512 bit-serial micro-kernel with VPOPCNTDQ (x86-64, chosen
// at run time): vpandq + vpopcntq + vpaddq per 512 bit-MACs, one weight panel per zmm.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw,avx512vl,avx512vpopcntdq"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512 {

struct ops {
  using acc = __m512i;
  using a_word = __m512i;
  using w_vec = __m512i;
  static constexpr int lanes = 8;
  static constexpr std::size_t flush_every = std::size_t{1} << 24;  // 64-bit lane counts
  static acc zero() { return _mm512_setzero_si512(); }
  static a_word prepare_a(std::uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
  static w_vec prepare_w(const std::uint64_t* p) { return _mm512_loadu_si512(p); }
  static acc and_popcount_add(acc sum, a_word a, w_vec w) {
    return _mm512_add_epi64(sum, _mm512_popcnt_epi64(_mm512_and_si512(a, w)));
  }
  static void flush(std::int64_t* c, acc sum, int shift, bool add) {
    // maskz form with a full mask: _mm512_sll_epi64 trips a GCC 12 -Wmaybe-uninitialized false positive.
    const __m512i shifted = _mm512_maskz_sll_epi64(0xFF, sum, _mm_cvtsi32_si128(shift));
    _mm512_storeu_si512(c, add ? _mm512_add_epi64(_mm512_loadu_si512(c), shifted) : shifted);
  }
};

inline constexpr int mr = 4;
inline constexpr int np = 4;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::avx512

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
