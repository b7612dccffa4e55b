// lane_sum: every term counted once, across lane and block edges, in a fixed order.
#include <cmath>
#include <cstdint>
#include <vector>

#include "anybit/tensor/dense_reduce.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("lane_sum adds every term exactly once across lane and block edges") {
  for (const std::size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 511u, 512u, 513u, 520u, 1031u, 5000u}) {
    CAPTURE(n);
    // Small integers: every partial sum is exact in float, so the result must be exact.
    std::vector<float> x(n);
    std::int64_t want = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t v = static_cast<std::int64_t>((i * 7919) % 13) - 6;
      x[i] = static_cast<float>(v);
      want += v;
    }
    CHECK(lane_sum(x.data(), n) == static_cast<double>(want));
    // A term function: sum of i for i < n is n(n-1)/2, exact for these n.
    CHECK(lane_sum(n, [](std::size_t i) { return static_cast<float>(i % 64); }) ==
          static_cast<double>([&] { std::int64_t s = 0; for (std::size_t i = 0; i < n; ++i) s += static_cast<std::int64_t>(i % 64); return s; }()));
  }
}

TEST_CASE("lane_sum of many small fractions stays close to the double sum") {
  test::rng r(7);
  std::vector<float> x(100000);
  double want = 0;
  for (float& v : x) {
    v = static_cast<float>(r.next() >> 40) * (1.0f / 16777216.0f);
    want += v;
  }
  CHECK(std::fabs(lane_sum(x.data(), x.size()) - want) < 1e-6 * want);
}
