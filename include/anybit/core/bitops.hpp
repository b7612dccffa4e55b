// anybit/core/bitops.hpp — scalar bit helpers shared by the codec and the reference kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "anybit/core/cpu_features.hpp"
#include "anybit/core/platform.hpp"

namespace anybit {

inline constexpr std::size_t bits_per_word = 64;

constexpr std::size_t ceil_div(std::size_t a, std::size_t b) noexcept { return (a + b - 1) / b; }
constexpr std::size_t round_up(std::size_t a, std::size_t b) noexcept { return ceil_div(a, b) * b; }

/// Number of set bits in a 64-bit word (scalar; SIMD kernels have their own). The builtin only
/// where it is one instruction: on x86 without -mpopcnt GCC calls libgcc's __popcountdi2, which
/// made activation row sums a third of a small integer model's time; the inlined bit-slicing
/// sum below is several times faster than that call and vectorizes.
inline int popcount64(std::uint64_t x) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__POPCNT__) || defined(__aarch64__))
  return __builtin_popcountll(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<int>((x * 0x0101010101010101ull) >> 56);
#endif
}

namespace detail {
#if ANYBIT_X86_KERNELS && !defined(__POPCNT__)
__attribute__((target("popcnt"))) inline std::int64_t popcount_words_popcnt(const std::uint64_t* words, std::size_t n) {
  std::int64_t ones = 0;
  for (std::size_t i = 0; i < n; ++i) ones += __builtin_popcountll(words[i]);
  return ones;
}
#endif
}  // namespace detail

/// Set bits in n words: with the POPCNT instruction where the CPU has it, whatever the build's
/// target flags.
inline std::int64_t popcount_words(const std::uint64_t* words, std::size_t n) {
#if ANYBIT_X86_KERNELS && !defined(__POPCNT__)
  if (cpu().popcnt) return detail::popcount_words_popcnt(words, n);
#endif
  std::int64_t ones = 0;
  for (std::size_t i = 0; i < n; ++i) ones += popcount64(words[i]);
  return ones;
}

}  // namespace anybit
