// anybit/kernels/neon.hpp — NEON bit-serial micro-kernel (aarch64, where NEON is baseline):
// vcnt counts bytes into byte counters; pairwise widening adds fold them into two 64-bit lanes
// every 31 steps.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_ARCH_AARCH64
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

namespace anybit::kernels::neon {

struct ops {
  using acc = uint8x16_t;  // byte counts: at most 8 per step, so 31 steps fit
  using a_word = uint64x2_t;
  using w_vec = uint64x2_t;
  static constexpr int lanes = 2;
  static constexpr std::size_t flush_every = 31;
  static acc zero() { return vdupq_n_u8(0); }
  static a_word prepare_a(std::uint64_t x) { return vdupq_n_u64(x); }
  static w_vec prepare_w(const std::uint64_t* p) { return vld1q_u64(p); }
  static acc and_popcount_add(acc sum, a_word a, w_vec w) {
    return vaddq_u8(sum, vcntq_u8(vreinterpretq_u8_u64(vandq_u64(a, w))));
  }
  static void flush(std::int64_t* c, acc sum, int shift, bool add) {
    const uint64x2_t lanes64 = vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(sum)));  // bytes -> one sum per 64-bit lane
    const int64x2_t shifted = vreinterpretq_s64_u64(vshlq_u64(lanes64, vdupq_n_s64(shift)));
    vst1q_s64(c, add ? vaddq_s64(vld1q_s64(c), shifted) : shifted);
  }
};

inline constexpr int mr = 4;
inline constexpr int np = 1;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::neon

#endif  // ANYBIT_ARCH_AARCH64
