#include <type_traits>

#include "anybit/core/bits.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("valid widths are exactly 1..8") {
  for (int b = -3; b <= 12; ++b) CHECK(is_valid_bits(b) == (b >= 1 && b <= 8));
  static_assert(bits_c<1>::value == 1 && bits_c<8>::value == 8);
}

TEST_CASE("an invalid run-time width throws bit_width_error naming the value") {
  for (int b : {0, 9, -1, 255}) {
    const std::string msg = test::thrown_message<bit_width_error>([&] { (void)dynamic_bits(b); });
    CHECK(msg.find("= " + std::to_string(b)) != std::string::npos);
    CHECK(msg.find("1..8") != std::string::npos);
  }
  CHECK_THROWS_AS(check_bits(0), error);  // part of the anybit::error hierarchy
  CHECK_THROWS_AS(check_bits(9), std::exception);
}

TEST_CASE("dynamic_bits keeps its value and converts from bits_c") {
  for (int b = 1; b <= 8; ++b) CHECK(dynamic_bits(b).value() == b);
  constexpr dynamic_bits three = bits_c<3>{};
  static_assert(three.value() == 3);
}

TEST_CASE("max_code is 2^b - 1") {
  for (int b = 1; b <= 8; ++b) {
    std::uint32_t all_ones = 0;
    for (int p = 0; p < b; ++p) all_ones |= 1u << p;
    CHECK(max_code(b) == all_ones);
  }
}

TEST_CASE("with_static_bits passes the matching compile-time width") {
  for (int b = 1; b <= 8; ++b) {
    const int seen = with_static_bits(b, [](auto bits) {
      static_assert(std::is_base_of_v<std::integral_constant<int, decltype(bits)::value>, decltype(bits)>);
      return decltype(bits)::value;
    });
    CHECK(seen == b);
  }
  CHECK_THROWS_AS(with_static_bits(9, [](auto) { return 0; }), bit_width_error);
  CHECK_THROWS_AS(with_static_bits(0, [](auto) { return 0; }), bit_width_error);
}
