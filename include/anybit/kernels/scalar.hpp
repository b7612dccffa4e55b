// anybit/kernels/scalar.hpp — portable bit-serial micro-kernel: one 64-bit lane per "vector".
// Always compiled; the fallback on any CPU and the first thing to compare a SIMD kernel with.
#pragma once

#include <cstddef>
#include <cstdint>

#include "anybit/core/bitops.hpp"
#include "anybit/kernels/tile_args.hpp"

namespace anybit::kernels::scalar {

struct ops {
  using vec = std::uint64_t;
  static constexpr int lanes = 1;
  static vec zero() { return 0; }
  static vec load(const std::uint64_t* p) { return *p; }
  static vec broadcast(std::uint64_t x) { return x; }
  static vec and_popcount_add(vec acc, vec a, vec w) { return acc + static_cast<vec>(popcount64(a & w)); }
  static void store_shifted_add(std::int64_t* c, vec acc, int shift) { *c += static_cast<std::int64_t>(acc << shift); }
};

inline constexpr int mr = 2;
inline constexpr int np = 1;

#include "anybit/kernels/bitserial_tile-inl.hpp"

}  // namespace anybit::kernels::scalar
