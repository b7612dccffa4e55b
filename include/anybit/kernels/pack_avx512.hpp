// anybit/kernels/pack_avx512.hpp — AVX-512BW plane unpacker for the int8 path (x86-64, chosen at
// run time): a plane's 64-bit word is itself a byte mask (kmovq), so each plane costs one masked
// byte add per 64 codes, against the AVX2 version's spread, test and merge per 32.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/pack_scalar.hpp"

#define ANYBIT_X86_TARGET "avx512f,avx512bw"
#include "anybit/kernels/x86_target_begin.hpp"

namespace anybit::kernels::avx512bw {

/// The inverse of pack_row (see kernels/pack_scalar.hpp): `cols` codes as bytes, then zeros up
/// to `len`.
inline void unpack_row(const std::uint64_t* planes, std::size_t plane_stride, int bits, std::size_t cols,
                       std::uint8_t* codes, std::size_t len) {
  std::size_t k = 0;
  for (; k + 64 <= cols && k + 64 <= len; k += 64) {
    __m512i code = _mm512_setzero_si512(), bit = _mm512_set1_epi8(1);
    for (int p = 0; p < bits; ++p) {
      const __mmask64 set = _cvtu64_mask64(planes[static_cast<std::size_t>(p) * plane_stride + k / 64]);
      code = _mm512_mask_add_epi8(code, set, code, bit);  // bit p of the selected codes
      bit = _mm512_add_epi8(bit, bit);
    }
    _mm512_storeu_si512(codes + k, code);
  }
  scalar::unpack_row(planes, plane_stride, bits, cols, codes, len, k);  // the ragged end and the zero padding
}

}  // namespace anybit::kernels::avx512bw

#include "anybit/kernels/x86_target_end.hpp"

#endif  // ANYBIT_X86_KERNELS
