// anybit/kernels/int8_neon.hpp — NEON int8 micro-kernel (aarch64): vmull_u8 multiplies 8 byte
// pairs (2 columns x 4 k) into u16, vpadalq_u16 adds them pairwise into u32 lanes; codes are
// unsigned on both sides (u8 x u8 <= 65025 fits u16), so no offset correction is needed.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_ARCH_AARCH64
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "anybit/kernels/int8_args.hpp"

namespace anybit::kernels::neon_int8 {

inline constexpr int mr = 4;
inline constexpr int np = 1;
inline constexpr bool unsigned_weights = true;  // the byte panels hold codes, not code - 128

// One row's sums of columns 0-3 and 4-7, widened to int64: stored plus `add` by the chunk of K
// that starts the sums (first), added to what the earlier chunks stored by the others.
inline void store_row_sums(std::int64_t* out, uint32x4_t cols0, uint32x4_t cols4, bool first, std::int64_t add) {
  const uint32x4_t sums[2] = {cols0, cols4};
  const int64x2_t row_add = vdupq_n_s64(first ? add : 0);
  ANYBIT_UNROLL
  for (int h = 0; h < 2; ++h, out += 4) {
    const int64x2_t lo = vreinterpretq_s64_u64(vmovl_u32(vget_low_u32(sums[h])));
    const int64x2_t hi = vreinterpretq_s64_u64(vmovl_u32(vget_high_u32(sums[h])));
    if (first) {
      vst1q_s64(out, vaddq_s64(lo, row_add));
      vst1q_s64(out + 2, vaddq_s64(hi, row_add));
    } else {
      vst1q_s64(out, vaddq_s64(vld1q_s64(out), lo));
      vst1q_s64(out + 2, vaddq_s64(vld1q_s64(out + 2), hi));
    }
  }
}

// Every row, Mr at a time, then the last 1 .. Mr - 1 rows: tile(std::integral_constant<int, R>,
// args, activation rows, output rows, row_add or null) computes R rows.
template <int Mr, class Tile>
inline void run_rows(const int8_tile_args& t, Tile tile) {
  static_assert(Mr >= 1 && Mr <= 4, "the switch below names up to 3 leftover rows");
  const auto add_of = [&](int r0) { return t.row_add != nullptr ? t.row_add + r0 : nullptr; };
  int r0 = 0;
  for (; r0 + Mr <= t.rows; r0 += Mr) {
    tile(std::integral_constant<int, Mr>{}, t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride, add_of(r0));
  }
  const std::uint8_t* a = t.a + r0 * t.a_row_stride;
  std::int64_t* c = t.c + r0 * t.c_row_stride;
  switch (t.rows - r0) {
    case 1: return tile(std::integral_constant<int, 1>{}, t, a, c, add_of(r0));
    case 2: return tile(std::integral_constant<int, 2>{}, t, a, c, add_of(r0));
    case 3: return tile(std::integral_constant<int, 3>{}, t, a, c, add_of(r0));
    default: return;
  }
}

template <int R>
inline void tile(const int8_tile_args& t, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
  const auto* w = reinterpret_cast<const std::uint8_t*>(t.w);
  for (std::size_t g0 = 0; g0 < t.k_groups || g0 == 0; g0 += t.chunk_groups) {
    const std::size_t g_end = g0 + t.chunk_groups < t.k_groups ? g0 + t.chunk_groups : t.k_groups;
    uint32x4_t acc[R][4];  // [row][column pair]: lanes (col 2q: k0+k1, k2+k3; col 2q+1: k0+k1, k2+k3)
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      ANYBIT_UNROLL
      for (int q = 0; q < 4; ++q) acc[r][q] = vdupq_n_u32(0);
    }
    for (std::size_t g = g0; g < g_end; ++g) {
      uint8x8_t wv[4];
      ANYBIT_UNROLL
      for (int q = 0; q < 4; ++q) wv[q] = vld1_u8(w + g * 32 + q * 8);
      ANYBIT_UNROLL
      for (int r = 0; r < R; ++r) {
        std::uint32_t four;
        std::memcpy(&four, a + r * t.a_row_stride + g * 4, 4);
        const uint8x8_t av = vreinterpret_u8_u32(vdup_n_u32(four));
        ANYBIT_UNROLL
        for (int q = 0; q < 4; ++q) acc[r][q] = vpadalq_u16(acc[r][q], vmull_u8(av, wv[q]));
      }
    }
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      store_row_sums(c + r * t.c_row_stride, vpaddq_u32(acc[r][0], acc[r][1]), vpaddq_u32(acc[r][2], acc[r][3]), g0 == 0,
                     add != nullptr ? add[r] : 0);
    }
    if (g_end >= t.k_groups) break;
  }
}

/// Computes t.rows rows x 1 panel; see int8_args.hpp (split is not needed: u16 products).
inline void run(const int8_tile_args& t) {
  run_rows<mr>(t, [](auto rows, const int8_tile_args& args, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
    tile<decltype(rows)::value>(args, a, c, add);
  });
}

}  // namespace anybit::kernels::neon_int8

#endif  // ANYBIT_ARCH_AARCH64
