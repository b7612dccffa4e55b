// The seeded generators and permutations against the published reference outputs of splitmix64
// and xoshiro256**, against a separate implementation (tests/support's rng, and Python for the
// pinned permutations), and for uniformity.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("splitmix64 gives the reference outputs and agrees with the test suite's generator") {
  splitmix64 zero(0);  // reference outputs for seed 0
  CHECK(zero.next() == 0xE220A8397B1DCDAFull);
  CHECK(zero.next() == 0x6E789E6AA1B965F4ull);
  CHECK(zero.next() == 0x06C45D188009454Full);
  for (std::uint64_t seed : {1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
    splitmix64 a(seed);
    test::rng b(seed);
    for (int i = 0; i < 100; ++i) CHECK(a.next() == b.next());
  }
}

TEST_CASE("xoshiro256** gives the reference outputs and seeds itself from splitmix64") {
  xoshiro256ss x(std::array<std::uint64_t, 4>{1, 2, 3, 4});
  // The first outputs from state {1, 2, 3, 4}; the first three follow by hand from the
  // definition (rotl(s1 * 5, 7) * 9 with s1 = 2, 0, 262149).
  CHECK(x.next() == 11520u);
  CHECK(x.next() == 0u);
  CHECK(x.next() == 1509978240u);
  CHECK(x.next() == 1215971899390074240ull);
  CHECK(x.next() == 1216172134540287360ull);

  splitmix64 expand(99);
  std::array<std::uint64_t, 4> state{};
  for (auto& w : state) w = expand.next();
  xoshiro256ss seeded(99), explicit_state(state);
  for (int i = 0; i < 50; ++i) CHECK(seeded.next() == explicit_state.next());

  CHECK(test::thrown_message<error>([] { (void)xoshiro256ss(std::array<std::uint64_t, 4>{0, 0, 0, 0}); }).find("all zero") !=
        std::string::npos);
}

TEST_CASE("below(n) stays below n and is uniform") {
  xoshiro256ss r(5);
  CHECK(test::thrown_message<error>([&] { r.below(0); }).find("below(0)") != std::string::npos);
  for (int i = 0; i < 100; ++i) CHECK(r.below(1) == 0u);
  const std::uint64_t huge = (1ull << 63) + 1;  // rejection region is almost half of the range
  for (int i = 0; i < 1000; ++i) CHECK(r.below(huge) < huge);
  std::array<int, 6> counts{};
  for (int i = 0; i < 60000; ++i) ++counts[static_cast<std::size_t>(r.below(6))];
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);  // sd is about 91
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const float u = r.uniform01();
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum += u;
  }
  CHECK(std::abs(sum / 100000 - 0.5) < 0.005);  // sd of the mean is about 0.0009
}

TEST_CASE("random_permutation is a permutation, fixed by its seed on every platform") {
  for (std::size_t n : {0u, 1u, 2u, 10u, 1000u}) {
    const auto p = random_permutation(n, 3);
    std::vector<int> seen(n, 0);
    for (std::size_t i : p) {
      REQUIRE(i < n);
      ++seen[i];
    }
    for (int s : seen) CHECK(s == 1);
    CHECK(random_permutation(n, 3) == p);
  }
  CHECK(random_permutation(1000, 3) != random_permutation(1000, 4));
  // From an independent Python implementation of splitmix64 + xoshiro256** + Fisher-Yates.
  CHECK(random_permutation(10, 42) == std::vector<std::size_t>{7, 3, 8, 9, 5, 6, 4, 1, 0, 2});
  CHECK(random_permutation(20, 7) ==
        std::vector<std::size_t>{10, 13, 5, 19, 18, 16, 9, 1, 7, 3, 2, 4, 12, 15, 11, 8, 0, 6, 17, 14});
}

TEST_CASE("random_permutation draws each ordering of three equally often") {
  std::array<int, 6> counts{};
  for (std::uint64_t seed = 0; seed < 60000; ++seed) {
    const auto p = random_permutation(3, seed);
    ++counts[p[0] * 2 + (p[1] > p[2] ? 1 : 0)];  // first element and the order of the other two
  }
  for (int c : counts) CHECK(std::abs(c - 10000) < 400);
}
