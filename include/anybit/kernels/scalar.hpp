// anybit/kernels/scalar.hpp — portable bit-serial micro-kernel: one 64-bit lane per "vector".
// Always compiled; the fallback on any CPU and the first thing to compare a SIMD kernel with.
#pragma once

#include <cstddef>
#include <cstdint>

#include "anybit/core/bitops.hpp"
#include "anybit/core/platform.hpp"  // ANYBIT_UNROLL
#include "anybit/kernels/tile_args.hpp"

namespace anybit::kernels::scalar {

struct ops {
  using acc = std::uint64_t;
  using a_word = std::uint64_t;
  using w_vec = std::uint64_t;
  static constexpr int lanes = 1;
  static constexpr std::size_t flush_every = std::size_t{1} << 24;  // a 64-bit count cannot overflow
  static acc zero() { return 0; }
  static a_word prepare_a(std::uint64_t x) { return x; }
  static w_vec prepare_w(const std::uint64_t* p) { return *p; }
  static acc and_popcount_add(acc sum, a_word a, w_vec w) { return sum + static_cast<acc>(popcount64(a & w)); }
  static void flush(std::int64_t* c, acc sum, int shift, bool add) {
    const auto shifted = static_cast<std::int64_t>(sum << shift);
    *c = add ? *c + shifted : shifted;
  }
};

inline constexpr int mr = 2;
inline constexpr int np = 1;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::scalar
