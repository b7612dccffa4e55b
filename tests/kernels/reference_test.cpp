// The bit-serial oracle against plain integer arithmetic.
#include <cstdint>

#include "anybit/kernels/reference.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("bitserial_dot equals the integer dot product for every (A, W) width pair") {
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      for (std::size_t k : {1u, 3u, 64u, 65u, 131u, 1000u}) {
        const std::size_t rows = 2;
        const auto ac = test::random_codes(rows * k, ba, 100 * ba + 10 * bw + k);
        const auto wc = test::random_codes(rows * k, bw, 7 * ba + 13 * bw + k);
        const auto a = bitplane_tensor<>::from_codes(ac.data(), rows, k, ba);
        const auto w = bitplane_tensor<>::from_codes(wc.data(), rows, k, bw);
        for (std::size_t i = 0; i < rows; ++i) {
          for (std::size_t j = 0; j < rows; ++j) {
            std::int64_t expected = 0;
            for (std::size_t x = 0; x < k; ++x) expected += std::int64_t{ac[i * k + x]} * wc[j * k + x];
            CAPTURE(ba);
            CAPTURE(bw);
            CAPTURE(k);
            CHECK(reference::bitserial_dot(a, i, w, j) == expected);
          }
        }
      }
    }
  }
}

TEST_CASE("bitserial_dot on nested views multiplies the shifted codes") {
  const std::size_t k = 300;
  const auto ac = test::random_codes(k, 8, 1);
  const auto wc = test::random_codes(k, 8, 2);
  const auto a = bitplane_tensor<8>::from_codes(ac.data(), 1, k);
  const auto w = bitplane_tensor<8>::from_codes(wc.data(), 1, k);
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      std::int64_t expected = 0;
      for (std::size_t x = 0; x < k; ++x) expected += std::int64_t{ac[x] >> (8 - ba)} * (wc[x] >> (8 - bw));
      CHECK(reference::bitserial_dot(a.top(ba), 0, w.top(bw), 0) == expected);
    }
  }
}

TEST_CASE("bitserial_dot rejects mismatched lengths and rows out of range") {
  bitplane_tensor<2> a(1, 10), w(1, 11);
  const std::string msg = test::thrown_message<shape_error>([&] { (void)reference::bitserial_dot(a, 0, w, 0); });
  CHECK(msg.find("10 and 11") != std::string::npos);
  CHECK_THROWS_AS((void)reference::bitserial_dot(a, 1, a, 0), shape_error);
}
