// Every bit-serial path against the reference, bit-exactly, for every (W, A) width pair and for
// shapes that are not multiples of any tile.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "anybit/gemm/bitserial_gemm.hpp"
#include "anybit/kernels/reference.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct problem {
  bitplane_tensor<> a, w;
  std::vector<std::int64_t> expected;
};

problem make_problem(std::size_t m, std::size_t n, std::size_t k, int ba, int bw, std::uint64_t seed) {
  const auto ac = test::random_codes(m * k, ba, seed);
  const auto wc = test::random_codes(n * k, bw, seed ^ 0xABCDEFull);
  problem p{bitplane_tensor<>::from_codes(ac.data(), m, k, ba), bitplane_tensor<>::from_codes(wc.data(), n, k, bw),
            std::vector<std::int64_t>(m * n)};
  reference::gemm(p.a, p.w, p.expected.data(), n);
  return p;
}

// Runs gemm on path p; returns false (and reports) on the first output that differs.
bool matches_reference(path p, std::size_t m, std::size_t n, std::size_t k, int ba, int bw, int threads = 1) {
  const problem pr = make_problem(m, n, k, ba, bw, m * 1000003 + n * 1009 + k * 17 + ba * 3 + bw);
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  ctx.threads = threads;
  std::vector<std::int64_t> c(m * n, -1);
  bitserial_gemm(pr.a, packed_weights(pr.w), c.data(), n, ctx);
  REQUIRE(ctx.last_path == p);
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i] != pr.expected[i]) {
      FAIL_CHECK(std::string(path_name(p)), " W", bw, "A", ba, " ", m, "x", n, "x", k, ": c[", i / n, "][", i % n, "] = ", c[i],
                 ", reference ", pr.expected[i]);
      return false;
    }
  }
  return true;
}

bool runnable(path p) {
  if (supported_paths() & mask_of(p)) return true;
  std::printf("ANYBIT_SKIP: gemm path %s is not supported by this CPU or build\n", path_name(p));
  return false;
}

// All (W, A) in 1..8 x 1..8; M, N up to one past the largest tile (mr <= 4, np * 8 <= 32);
// K across word edges, including primes.
void check_path(path p) {
  if (!runnable(p)) return;
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      for (std::size_t m : {1u, 2u, 3u, 4u, 5u}) {
        for (std::size_t n : {1u, 7u, 9u, 16u, 17u, 33u}) {
          for (std::size_t k : {1u, 2u, 61u, 64u, 67u, 128u, 129u}) {
            if (!matches_reference(p, m, n, k, ba, bw)) return;
          }
        }
      }
    }
  }
  for (std::size_t k = 1; k <= 129; ++k) {  // every K up to 2 words + 1, at one width pair
    if (!matches_reference(p, 5, 17, k, 3, 2)) return;
  }
  CHECK(matches_reference(p, 37, 75, 1031, 2, 2));  // several tiles in both directions
  // Byte counters are flushed every 31 words (1984 bits): K on both sides of one and two flushes,
  // with all-ones codes as the worst case for counter overflow.
  for (std::size_t k : {1983u, 1984u, 1985u, 3968u, 4033u}) {
    if (!matches_reference(p, 5, 9, k, 1, 1) || !matches_reference(p, 3, 17, k, 2, 3)) return;
  }
  const std::size_t m = 5, n = 9, k = 4033;
  const std::vector<std::uint8_t> ones(std::max(m, n) * k, 1);
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  std::vector<std::int64_t> c(m * n);
  bitserial_gemm(bitplane_tensor<1>::from_codes(ones.data(), m, k), packed_weights(bitplane_tensor<1>::from_codes(ones.data(), n, k)),
                 c.data(), n, ctx);
  CHECK(c == std::vector<std::int64_t>(m * n, static_cast<std::int64_t>(k)));
}

}  // namespace

TEST_CASE("gemm path reference equals the bit-plane reference") { check_path(path::reference); }
TEST_CASE("gemm path scalar equals reference") { check_path(path::scalar); }
TEST_CASE("gemm path avx2 equals reference") { check_path(path::avx2); }
TEST_CASE("gemm path avx512 equals reference") { check_path(path::avx512); }
TEST_CASE("gemm path avx512bw equals reference") { check_path(path::avx512bw); }
TEST_CASE("gemm path neon equals reference") { check_path(path::neon); }

TEST_CASE("1 and 2 threads give identical results on every path") {
  for (path p : bitserial_path_values) {
    if (!(supported_paths() & mask_of(p))) continue;
    const std::string name = path_name(p);
    CAPTURE(name);
    CHECK(matches_reference(p, 9, 200, 300, 2, 1, 2));
    CHECK(matches_reference(p, 3, 40, 65, 1, 1, 3));
  }
}

TEST_CASE("weights packed at 8 bits multiply at any width from their top planes") {
  const std::size_t m = 3, n = 19, k = 150;
  const auto ac = test::random_codes(m * k, 8, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<8>::from_codes(ac.data(), m, k);
  const packed_weights w(bitplane_tensor<8>::from_codes(wc.data(), n, k));
  gemm_context ctx;
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      std::vector<std::int64_t> c(m * n);
      bitserial_gemm(a.top(ba), w.top(bw), c.data(), n, ctx);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          std::int64_t expected = 0;
          for (std::size_t x = 0; x < k; ++x) expected += std::int64_t{ac[i * k + x] >> (8 - ba)} * (wc[j * k + x] >> (8 - bw));
          CHECK(c[i * n + j] == expected);
        }
      }
    }
  }
}

TEST_CASE("packed weight column sums equal the sums of the codes, for every nested width") {
  const std::size_t n = 11, k = 70;
  const auto wc = test::random_codes(n * k, 5, 3);
  const packed_weights w = packed_weights::from_codes(wc.data(), n, k, 5);
  for (int b = 1; b <= 5; ++b) {
    const packed_weights_view v = w.top(b);
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t expected = 0;
      for (std::size_t x = 0; x < k; ++x) expected += wc[j * k + x] >> (5 - b);
      CHECK(v.column_sum(j) == expected);
    }
  }
  CHECK_THROWS_AS((void)w.top(6), bit_width_error);
}

TEST_CASE("gemm rejects mismatched shapes with a message naming both") {
  bitplane_tensor<2> a(2, 10), w(3, 12);
  const packed_weights pw(w);
  std::vector<std::int64_t> c(6);
  gemm_context ctx;
  const std::string msg = test::thrown_message<shape_error>([&] { bitserial_gemm(a, pw, c.data(), 3, ctx); });
  CHECK(msg.find("K = 10") != std::string::npos);
  CHECK(msg.find("K = 12") != std::string::npos);
  bitplane_tensor<2> a12(2, 12);
  CHECK_THROWS_AS(bitserial_gemm(a12, pw, c.data(), 2, ctx), shape_error);  // ldc < N
  CHECK_THROWS_AS(bitserial_gemm(a12, pw, nullptr, 3, ctx), shape_error);
  ctx.threads = 0;
  CHECK_THROWS_AS(bitserial_gemm(a12, pw, c.data(), 3, ctx), error);
}
