// anybit/kernels/int8_neon_dot.hpp — NEON int8 micro-kernel with the ARMv8.2 dot product
// (aarch64 with HWCAP_ASIMDDP, chosen at run time): vdotq_laneq_u32 adds 4 byte products of
// one group into each u32 lane, so one instruction does 16 MACs where vmull_u8 + vpadalq_u16
// (int8_neon.hpp) take two for 8. Codes are unsigned on both sides, as there.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_NEON_DOT_KERNEL
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anybit/kernels/int8_args.hpp"
#include "anybit/kernels/int8_neon.hpp"

// GCC's arm_neon.h declares the dot-product intrinsics for armv8.2-a+dotprod (a Clang build
// has them only with dotprod on for the whole build: platform.hpp).
#if !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

namespace anybit::kernels::neon_dot {

inline constexpr int mr = 4;
inline constexpr int np = 1;
inline constexpr bool unsigned_weights = true;  // the byte panels hold codes, not code - 128

// Weights: group g of columns 0-3 is the 16 bytes at w + g * 32, of columns 4-7 the next 16
// (int8_args.hpp). Activations: 4 groups in one 16-byte load, each picked by its lane.
template <int R>
inline void tile(const int8_tile_args& t, const std::uint8_t* a, std::int64_t* c, const std::int64_t* add) {
  const auto* w = reinterpret_cast<const std::uint8_t*>(t.w);
  for (std::size_t g0 = 0; g0 < t.k_groups || g0 == 0; g0 += t.chunk_groups) {
    const std::size_t g_end = g0 + t.chunk_groups < t.k_groups ? g0 + t.chunk_groups : t.k_groups;
    uint32x4_t acc[R][2];  // [row][columns 0-3, 4-7]
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = vdupq_n_u32(0);
    std::size_t g = g0;
    for (; g + 4 <= g_end; g += 4) {  // never reads past the chunk: the row holds 4 * k_groups bytes
      uint8x16_t wv[4][2];
      ANYBIT_UNROLL
      for (int q = 0; q < 4; ++q) {
        wv[q][0] = vld1q_u8(w + (g + q) * 32);
        wv[q][1] = vld1q_u8(w + (g + q) * 32 + 16);
      }
      ANYBIT_UNROLL
      for (int r = 0; r < R; ++r) {
        const uint8x16_t av = vld1q_u8(a + r * t.a_row_stride + g * 4);
        ANYBIT_UNROLL
        for (int h = 0; h < 2; ++h) {  // the lane is an immediate
          acc[r][h] = vdotq_laneq_u32(acc[r][h], wv[0][h], av, 0);
          acc[r][h] = vdotq_laneq_u32(acc[r][h], wv[1][h], av, 1);
          acc[r][h] = vdotq_laneq_u32(acc[r][h], wv[2][h], av, 2);
          acc[r][h] = vdotq_laneq_u32(acc[r][h], wv[3][h], av, 3);
        }
      }
    }
    for (; g < g_end; ++g) {  // the chunk's last 1 .. 3 groups
      const uint8x16_t w0 = vld1q_u8(w + g * 32), w4 = vld1q_u8(w + g * 32 + 16);
      ANYBIT_UNROLL
      for (int r = 0; r < R; ++r) {
        std::uint32_t four;
        std::memcpy(&four, a + r * t.a_row_stride + g * 4, 4);
        const uint8x16_t av = vreinterpretq_u8_u32(vdupq_n_u32(four));
        acc[r][0] = vdotq_u32(acc[r][0], w0, av);
        acc[r][1] = vdotq_u32(acc[r][1], w4, av);
      }
    }
    ANYBIT_UNROLL
    for (int r = 0; r < R; ++r) {
      neon_int8::store_row_sums(c + r * t.c_row_stride, acc[r][0], acc[r][1], g0 == 0, add != nullptr ? add[r] : 0);
    }
    if (g_end >= t.k_groups) break;
  }
}

/// Computes t.rows rows x 1 panel; see int8_args.hpp (split is not needed: no int16 stage).
inline void run(const int8_tile_args& t) {
  neon_int8::run_rows<mr>(t, [](auto rows, const int8_tile_args& args, const std::uint8_t* a, std::int64_t* c,
                                const std::int64_t* add) { tile<decltype(rows)::value>(args, a, c, add); });
}

}  // namespace anybit::kernels::neon_dot

#if !defined(__clang__)
#pragma GCC pop_options
#endif

#endif  // ANYBIT_NEON_DOT_KERNEL
