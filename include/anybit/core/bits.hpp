// anybit/core/bits.hpp — bit-widths, at compile time and at run time.
//
// anybit stores every quantized value as an unsigned code of 1..8 bits. A width that is
// fixed when the program is written is a type, `bits_c<4>`, and an invalid one (0, 9, ...)
// stops compilation with a readable static_assert. A width that is learned or switched at
// run time is a `dynamic_bits`, and an invalid one throws `bit_width_error`.
// `with_static_bits(b, f)` turns the second kind into the first: it is the one place where a
// run-time width becomes a template argument.
#pragma once

#include <cstdint>
#include <type_traits>

#include "anybit/core/error.hpp"

namespace anybit {

inline constexpr int min_bits = 1;
inline constexpr int max_bits = 8;

/// Marks a bit-width that is chosen at run time, in templates such as `bitplane_tensor<dynamic>`.
inline constexpr int dynamic = -1;

/// True for a usable width.
constexpr bool is_valid_bits(int b) noexcept { return b >= min_bits && b <= max_bits; }

/// A compile-time bit-width.
template <int N>
struct bits_c : std::integral_constant<int, N> {
  static_assert(is_valid_bits(N), "anybit: bit-width must be in 1..8");
};

/// Throws `bit_width_error` unless 1 <= b <= 8; `what` names the argument in the message.
inline int check_bits(int b, const char* what = "bit-width") {
  if (!is_valid_bits(b)) {
    throw bit_width_error(
        detail::message("anybit: ", what, " = ", b, ", expected an integer in 1..8"));
  }
  return b;
}

/// A run-time bit-width, checked on construction.
class dynamic_bits {
 public:
  explicit dynamic_bits(int b) : value_(check_bits(b)) {}
  template <int N>
  constexpr dynamic_bits(bits_c<N>) noexcept : value_(N) {}  // NOLINT: widening is safe

  constexpr int value() const noexcept { return value_; }
  constexpr operator int() const noexcept { return value_; }  // NOLINT: a width is an int

 private:
  int value_;
};

/// Largest code of a b-bit width: 2^b - 1.
constexpr std::uint32_t max_code(int b) noexcept { return (1u << b) - 1u; }

/// Calls `f(bits_c<b>{})` for a run-time b in 1..8 and returns its result; throws otherwise.
template <class F>
decltype(auto) with_static_bits(int b, F&& f) {
  switch (check_bits(b)) {
    case 1: return f(bits_c<1>{});
    case 2: return f(bits_c<2>{});
    case 3: return f(bits_c<3>{});
    case 4: return f(bits_c<4>{});
    case 5: return f(bits_c<5>{});
    case 6: return f(bits_c<6>{});
    case 7: return f(bits_c<7>{});
    default: return f(bits_c<8>{});
  }
}

}  // namespace anybit
