// Views: per-row code sums and the nested top-plane view.
#include <cstdint>
#include <vector>

#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("top(b') equals re-encoding q >> (b - b'), without copying") {
  const std::size_t rows = 3;
  for (int b = 1; b <= 8; ++b) {
    for (std::size_t k : {1u, 2u, 63u, 64u, 65u, 127u, 128u, 129u, 131u, 600u}) {
      const auto codes = test::random_codes(rows * k, b, 31 * b + k);
      const auto t = bitplane_tensor<>::from_codes(codes.data(), rows, k, b);
      for (int nb = 1; nb <= b; ++nb) {
        CAPTURE(b);
        CAPTURE(k);
        CAPTURE(nb);
        std::vector<std::uint8_t> shifted(codes.size());
        for (std::size_t i = 0; i < codes.size(); ++i) shifted[i] = static_cast<std::uint8_t>(codes[i] >> (b - nb));
        const auto expected = bitplane_tensor<>::from_codes(shifted.data(), rows, k, nb);
        const bitplane_view v = t.top(nb);
        REQUIRE(v.bits() == nb);
        CHECK(v.to_codes() == shifted);
        CHECK(v.row_sums() == expected.row_sums());
        for (int p = 0; p < nb; ++p) {
          for (std::size_t r = 0; r < rows; ++r) {
            CHECK(v.plane_row(p, r) == t.plane_row(b - nb + p, r));  // a view into the same storage
            for (std::size_t w = 0; w < v.words_per_row(); ++w) CHECK(v.plane_row(p, r)[w] == expected.plane_row(p, r)[w]);
          }
        }
      }
    }
  }
}

TEST_CASE("a view of a view nests: top(c) of top(b') is top(c)") {
  const auto codes = test::random_codes(2 * 100, 8, 5);
  const auto t = bitplane_tensor<8>::from_codes(codes.data(), 2, 100);
  CHECK(t.top(6).top(3).to_codes() == t.top(3).to_codes());
  CHECK(t.top(8).to_codes() == codes);
}

TEST_CASE("top outside 1..b throws bit_width_error naming both widths") {
  bitplane_tensor<4> t(1, 5);
  const std::string msg = test::thrown_message<bit_width_error>([&] { (void)t.top(5); });
  CHECK(msg.find("top(5)") != std::string::npos);
  CHECK(msg.find("4-bit") != std::string::npos);
  CHECK_THROWS_AS((void)t.top(0), bit_width_error);
  CHECK_THROWS_AS((void)t.view().top(-1), bit_width_error);
}

TEST_CASE("row sums equal a plain loop over the codes") {
  for (int b = 1; b <= 8; ++b) {
    for (std::size_t k : {1u, 5u, 64u, 100u, 513u, 1031u}) {
      const std::size_t rows = 4;
      const auto codes = test::random_codes(rows * k, b, 77 * b + k);
      const auto t = bitplane_tensor<>::from_codes(codes.data(), rows, k, b);
      std::vector<std::int64_t> expected(rows, 0);
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t i = 0; i < k; ++i) expected[r] += codes[r * k + i];
      }
      CAPTURE(b);
      CAPTURE(k);
      CHECK(t.row_sums() == expected);
    }
  }
}

TEST_CASE("code(r, k) reads single codes") {
  const auto codes = test::random_codes(3 * 70, 6, 11);
  const auto t = bitplane_tensor<6>::from_codes(codes.data(), 3, 70);
  for (std::size_t r = 0; r < 3; ++r) {
    for (std::size_t k = 0; k < 70; ++k) CHECK(t.code(r, k) == codes[r * 70 + k]);
  }
}
