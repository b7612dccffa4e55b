// anybit/core/random.hpp — seeded random numbers and permutations that are identical on every
// platform and standard library.
//
// std::shuffle and std::uniform_int_distribution are implementation-defined: one seed gives a
// different data order under libstdc++, libc++ and MSVC. These generators are specified bit for
// bit, so a seeded experiment replays exactly anywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"

namespace anybit {

/// splitmix64 (Steele, Lea and Flood, 2014): a counter through a mixing function. Used to
/// expand one 64-bit seed into a xoshiro state.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

/// xoshiro256** (Blackman and Vigna, 2018): 256 bits of state, fast, passes BigCrush.
class xoshiro256ss {
 public:
  /// The state is four splitmix64 outputs of `seed`, as the authors recommend.
  explicit xoshiro256ss(std::uint64_t seed) {
    splitmix64 expand(seed);
    for (auto& word : state_) word = expand.next();
  }
  /// An explicit state (not all zero: that state never leaves zero).
  explicit xoshiro256ss(const std::array<std::uint64_t, 4>& state) : state_(state) {
    if ((state[0] | state[1] | state[2] | state[3]) == 0) throw error("anybit: xoshiro256** state is all zero, expected any other");
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, n), n >= 1, without modulo bias: draws landing in the incomplete last
  /// stretch of 2^64 are redrawn (fewer than one draw in 2^32 for n < 2^32).
  std::uint64_t below(std::uint64_t n) {
    if (n == 0) throw error("anybit: xoshiro256ss::below(0): the range [0, 0) is empty, expected n >= 1");
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t x = next();
      if (x >= threshold) return x % n;
    }
  }

  /// Uniform in [0, 1) on a grid of 2^-24: every value is exact in float.
  float uniform01() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<std::uint64_t, 4> state_{};
};

/// A uniformly random permutation of 0..n-1 (Fisher-Yates on xoshiro256**): the same for a
/// given seed on every platform.
inline std::vector<std::size_t> random_permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  xoshiro256ss rng(seed);
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

}  // namespace anybit
