// anybit/kernels/neon.hpp — NEON bit-serial micro-kernel (aarch64, where NEON is baseline):
// vcnt counts bytes, pairwise widening adds carry the counts into two 64-bit lanes.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_ARCH_AARCH64
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "anybit/kernels/tile_args.hpp"

namespace anybit::kernels::neon {

struct ops {
  using vec = uint64x2_t;
  static constexpr int lanes = 2;
  static vec zero() { return vdupq_n_u64(0); }
  static vec load(const std::uint64_t* p) { return vld1q_u64(p); }
  static vec broadcast(std::uint64_t x) { return vdupq_n_u64(x); }
  static vec and_popcount_add(vec acc, vec a, vec w) {
    const uint8x16_t bytes = vcntq_u8(vreinterpretq_u8_u64(vandq_u64(a, w)));
    return vpadalq_u32(acc, vpaddlq_u16(vpaddlq_u8(bytes)));
  }
  static void store_shifted_add(std::int64_t* c, vec acc, int shift) {
    const int64x2_t shifted = vreinterpretq_s64_u64(vshlq_u64(acc, vdupq_n_s64(shift)));
    vst1q_s64(c, vaddq_s64(vld1q_s64(c), shifted));
  }
};

inline constexpr int mr = 4;
inline constexpr int np = 1;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::neon

#endif  // ANYBIT_ARCH_AARCH64
