// The lookup paths (avx512_lut, avx512_vbmi_lut), each forced: exact sums against the reference
// for every width pair, ragged M, N and K around their 16-column vectors, 64-column groups, 32-k
// steps and avx512_lut's 16-bit flushes (1024 k), all-max codes (the byte, 16-bit and 32-bit
// counter bounds), nested widths through each cached layout, 1 vs 2 threads, the K limit, and
// their place in the path choice.
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/gemm/gemm.hpp"
#include "anybit/kernels/reference.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

// The lookup paths this CPU and build run; a missing one is reported as a skip.
std::vector<path> runnable_lut_paths() {
  std::vector<path> paths;
  for (path p : {path::avx512_lut, path::avx512_vbmi_lut}) {
    if (supported_paths() & mask_of(p)) {
      paths.push_back(p);
    } else {
      MESSAGE("ANYBIT_SKIP: the ", std::string(path_name(p)), " path is not supported by this CPU or build");
    }
  }
  return paths;
}

std::vector<std::int64_t> lut_sums(path p, const bitplane_view& a, const packed_weights_view& w, int threads = 1) {
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  ctx.threads = threads;
  std::vector<std::int64_t> c(a.rows() * w.cols(), -1);  // -1: never written
  gemm_sums(a, w, c.data(), w.cols(), ctx);
  CHECK(ctx.last_path == p);
  return c;
}

std::vector<std::int64_t> reference_sums(const bitplane_view& a, const bitplane_view& w) {
  std::vector<std::int64_t> c(a.rows() * w.rows());
  reference::gemm(a, w, c.data(), w.rows());
  return c;
}

bool matches_reference(path p, const std::vector<std::uint8_t>& ac, const std::vector<std::uint8_t>& wc, std::size_t m,
                       std::size_t n, std::size_t k, int ba, int bw) {
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, bw);
  const auto got = lut_sums(p, a, packed_weights(wt));
  const auto expected = reference_sums(a, wt);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i]) {
      FAIL_CHECK(std::string(path_name(p)), " W", bw, "A", ba, " ", m, "x", n, "x", k, ": c[", i / n, "][", i % n, "] = ", got[i],
                 ", reference ", expected[i]);
      return false;
    }
  }
  return true;
}

bool random_matches(path p, std::size_t m, std::size_t n, std::size_t k, int ba, int bw) {
  const std::uint64_t seed = m * 1000003 + n * 1009 + k * 17 + static_cast<std::uint64_t>(ba * 3 + bw);
  return matches_reference(p, test::random_codes(m * k, ba, seed), test::random_codes(n * k, bw, seed ^ 0x5EEDull), m, n,
                           k, ba, bw);
}

}  // namespace

TEST_CASE("the lookup paths equal the reference for every width pair and ragged shapes") {
  for (path p : runnable_lut_paths()) {
    for (int ba = 1; ba <= 8; ++ba) {
      for (int bw = 1; bw <= 8; ++bw) {
        for (std::size_t m : {1u, 2u, 3u}) {
          for (std::size_t n : {1u, 15u, 17u, 64u, 65u}) {
            for (std::size_t k : {1u, 3u, 4u, 31u, 32u, 33u, 64u, 65u, 97u}) {
              if (!random_matches(p, m, n, k, ba, bw)) return;
            }
          }
        }
      }
    }
    for (std::size_t n = 1; n <= 130; ++n) {
      if (!random_matches(p, 1, n, 45, 5, 3)) return;
    }
    for (std::size_t k : {1023u, 1024u, 1025u, 1056u, 2049u, 4099u}) {  // across avx512_lut's 16-bit flush
      if (!random_matches(p, 2, 70, k, 8, 2)) return;
    }
  }
}

TEST_CASE("the lookup paths sum all-max codes exactly across the counter bounds") {
  // Every lookup at its largest (60 per nibble table), so avx512_lut's byte counters reach 240
  // and its 16-bit sums 65280 before each flush, and avx512_vbmi_lut's 32-bit sums take 255 per
  // k; column 1 is all-max, column 0 code 0, the rest random.
  for (path p : runnable_lut_paths()) {
    for (int ba : {4, 8}) {
      for (int bw : {1, 8}) {
        for (std::size_t k : {1024u, 3000u, 4096u}) {
          const std::size_t m = 2, n = 67;
          std::vector<std::uint8_t> ac(m * k, static_cast<std::uint8_t>((1 << ba) - 1));
          std::vector<std::uint8_t> wc = test::random_codes(n * k, bw, k);
          std::fill_n(wc.begin(), k, std::uint8_t{0});
          std::fill_n(wc.begin() + static_cast<std::ptrdiff_t>(k), k, static_cast<std::uint8_t>((1 << bw) - 1));
          if (!matches_reference(p, ac, wc, m, n, k, ba, bw)) return;
          const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
          const auto c = lut_sums(p, a, packed_weights(bitplane_tensor<>::from_codes(wc.data(), n, k, bw)));
          CHECK(c[1] == static_cast<std::int64_t>(k) * ((1 << ba) - 1) * ((1 << bw) - 1));  // closed form
        }
      }
    }
  }
}

TEST_CASE("the lookup paths read nested widths through their cached layouts, the same on 1 and 2 threads") {
  const std::size_t m = 3, n = 200, k = 300;
  const auto ac = test::random_codes(m * k, 7, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 7);
  // One packed_weights for both paths: each caches its own layout beside the other's.
  const packed_weights w8(bitplane_tensor<>::from_codes(wc.data(), n, k, 8));
  for (path p : runnable_lut_paths()) {
    CHECK(lut_sums(p, a, w8, 1) == lut_sums(p, a, w8, 2));
    for (int b = 1; b <= 8; ++b) {
      std::vector<std::uint8_t> top(wc.size());
      for (std::size_t x = 0; x < wc.size(); ++x) top[x] = static_cast<std::uint8_t>(wc[x] >> (8 - b));
      const auto wt = bitplane_tensor<>::from_codes(top.data(), n, k, b);
      CHECK_MESSAGE(lut_sums(p, a, w8.top(b)) == reference_sums(a, wt), std::string(path_name(p)), " top ", b);
      CHECK_MESSAGE(lut_sums(p, a, w8.top(b)) == reference_sums(a, wt), std::string(path_name(p)), " top ", b, ", from the cache");
    }
  }
}

TEST_CASE("the lookup paths refuse K past their 32-bit sums, and the path choice leaves them out there") {
  const std::vector<path> paths = runnable_lut_paths();
  if (paths.empty()) return;
  const std::size_t k = lut_max_k + 1;
  const std::vector<std::uint8_t> ones(k, 1);
  const auto a = bitplane_tensor<>::from_codes(ones.data(), 1, k, 1);
  const packed_weights w(bitplane_tensor<>::from_codes(ones.data(), 1, k, 1));
  for (path p : paths) {
    gemm_context ctx;
    std::int64_t c = 0;
#if ANYBIT_X86_KERNELS  // the driver exists in x86 builds only (no lookup path runs elsewhere)
    ctx.allowed = mask_of(p);
    byte_activations bytes;
    detail::unpack_planes(a.view(), bytes, ctx);
    detail::int64_sink sink{&c, 1};
    const std::string expected = std::string(path_name(p)) + " path takes K up to 16777216, got K = 16777217";
    CHECK_THROWS_WITH_AS(detail::lut_byte_sums(p, bytes, w, sink, ctx), doctest::Contains(expected.c_str()), error);
#endif
    // With every other path allowed, the lookup path p wins this GEMV up to the limit only.
    ctx.allowed = all_paths & ~(lut_paths & ~mask_of(p));
    CHECK(choose_path(1, 8, 1, ctx, lut_max_k) == p);
    CHECK(choose_path(1, 8, 1, ctx, k) != p);
    gemm_sums(a, w, &c, 1, ctx);  // the front end takes another path
    CHECK(c == static_cast<std::int64_t>(k));
    CHECK((mask_of(ctx.last_path) & lut_paths) == 0);
  }
  gemm_context ctx;  // with both allowed, neither lookup path past the limit
  CHECK((mask_of(choose_path(1, 8, 1, ctx, k)) & lut_paths) == 0);
}
