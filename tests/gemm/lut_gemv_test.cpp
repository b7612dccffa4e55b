// The lookup path (avx512_lut), forced: exact sums against the reference for every width pair,
// ragged M, N and K around its 16-column vectors, 64-column groups, 32-k steps and 16-bit
// flushes (1024 k), all-max codes (the byte and 16-bit counter bounds), nested widths through
// the cached layout, 1 vs 2 threads, the K limit, and its place in the path choice.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "anybit/gemm/gemm.hpp"
#include "anybit/kernels/reference.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

bool runnable() {
  if (supported_paths() & mask_of(path::avx512_lut)) return true;
  std::printf("ANYBIT_SKIP: the avx512_lut path is not supported by this CPU or build\n");
  return false;
}

std::vector<std::int64_t> lut_sums(const bitplane_view& a, const packed_weights_view& w, int threads = 1) {
  gemm_context ctx;
  ctx.allowed = mask_of(path::avx512_lut);
  ctx.threads = threads;
  std::vector<std::int64_t> c(a.rows() * w.cols(), -1);  // -1: never written
  gemm_sums(a, w, c.data(), w.cols(), ctx);
  CHECK(ctx.last_path == path::avx512_lut);
  return c;
}

std::vector<std::int64_t> reference_sums(const bitplane_view& a, const bitplane_view& w) {
  std::vector<std::int64_t> c(a.rows() * w.rows());
  reference::gemm(a, w, c.data(), w.rows());
  return c;
}

bool matches_reference(const std::vector<std::uint8_t>& ac, const std::vector<std::uint8_t>& wc, std::size_t m,
                       std::size_t n, std::size_t k, int ba, int bw) {
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, bw);
  const auto got = lut_sums(a, packed_weights(wt));
  const auto expected = reference_sums(a, wt);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i]) {
      FAIL_CHECK("avx512_lut W", bw, "A", ba, " ", m, "x", n, "x", k, ": c[", i / n, "][", i % n, "] = ", got[i],
                 ", reference ", expected[i]);
      return false;
    }
  }
  return true;
}

bool random_matches(std::size_t m, std::size_t n, std::size_t k, int ba, int bw) {
  const std::uint64_t seed = m * 1000003 + n * 1009 + k * 17 + static_cast<std::uint64_t>(ba * 3 + bw);
  return matches_reference(test::random_codes(m * k, ba, seed), test::random_codes(n * k, bw, seed ^ 0x5EEDull), m, n, k,
                           ba, bw);
}

}  // namespace

TEST_CASE("avx512_lut equals the reference for every width pair and ragged shapes") {
  if (!runnable()) return;
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      for (std::size_t m : {1u, 2u, 3u}) {
        for (std::size_t n : {1u, 15u, 17u, 64u, 65u}) {
          for (std::size_t k : {1u, 3u, 4u, 31u, 32u, 33u, 64u, 65u, 97u}) {
            if (!random_matches(m, n, k, ba, bw)) return;
          }
        }
      }
    }
  }
  for (std::size_t n = 1; n <= 130; ++n) {
    if (!random_matches(1, n, 45, 5, 3)) return;
  }
  for (std::size_t k : {1023u, 1024u, 1025u, 1056u, 2049u, 4099u}) {  // across the 16-bit flush
    if (!random_matches(2, 70, k, 8, 2)) return;
  }
}

TEST_CASE("avx512_lut sums all-max codes exactly across the counter bounds") {
  if (!runnable()) return;
  // Every lookup at its largest (60 per nibble table), so byte counters reach 240 and 16-bit
  // sums 65280 before each flush; column 1 is all-max, column 0 code 0, the rest random.
  for (int ba : {4, 8}) {
    for (int bw : {1, 8}) {
      for (std::size_t k : {1024u, 3000u, 4096u}) {
        const std::size_t m = 2, n = 67;
        std::vector<std::uint8_t> ac(m * k, static_cast<std::uint8_t>((1 << ba) - 1));
        std::vector<std::uint8_t> wc = test::random_codes(n * k, bw, k);
        std::fill_n(wc.begin(), k, std::uint8_t{0});
        std::fill_n(wc.begin() + static_cast<std::ptrdiff_t>(k), k, static_cast<std::uint8_t>((1 << bw) - 1));
        if (!matches_reference(ac, wc, m, n, k, ba, bw)) return;
        const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
        const auto c = lut_sums(a, packed_weights(bitplane_tensor<>::from_codes(wc.data(), n, k, bw)));
        CHECK(c[1] == static_cast<std::int64_t>(k) * ((1 << ba) - 1) * ((1 << bw) - 1));  // closed form
      }
    }
  }
}

TEST_CASE("avx512_lut reads nested widths through the cached layout, the same on 1 and 2 threads") {
  if (!runnable()) return;
  const std::size_t m = 3, n = 200, k = 300;
  const auto ac = test::random_codes(m * k, 7, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 7);
  const packed_weights w8(bitplane_tensor<>::from_codes(wc.data(), n, k, 8));
  CHECK(lut_sums(a, w8, 1) == lut_sums(a, w8, 2));
  for (int b = 1; b <= 8; ++b) {
    std::vector<std::uint8_t> top(wc.size());
    for (std::size_t x = 0; x < wc.size(); ++x) top[x] = static_cast<std::uint8_t>(wc[x] >> (8 - b));
    const auto wt = bitplane_tensor<>::from_codes(top.data(), n, k, b);
    CHECK_MESSAGE(lut_sums(a, w8.top(b)) == reference_sums(a, wt), "top ", b);
    CHECK(lut_sums(a, w8.top(b)) == reference_sums(a, wt));  // second call: from the cache
  }
}

TEST_CASE("avx512_lut refuses K past its 32-bit sums, and the path choice leaves it out there") {
  if (!runnable()) return;
  const std::size_t k = lut_max_k + 1;
  const std::vector<std::uint8_t> ones(k, 1);
  const auto a = bitplane_tensor<>::from_codes(ones.data(), 1, k, 1);
  const packed_weights w(bitplane_tensor<>::from_codes(ones.data(), 1, k, 1));
  gemm_context ctx;
  std::int64_t c = 0;
#if ANYBIT_X86_KERNELS  // the driver exists in x86 builds only (runnable() is false elsewhere)
  ctx.allowed = mask_of(path::avx512_lut);
  byte_activations bytes;
  detail::unpack_planes(a.view(), bytes, ctx);
  detail::int64_sink sink{&c, 1};
  CHECK_THROWS_WITH_AS(detail::lut_byte_sums(bytes, w, sink, ctx), doctest::Contains("K = 16777217"), error);
#endif
  ctx.allowed = all_paths;
  CHECK(choose_path(1, 8, 1, ctx, lut_max_k) == path::avx512_lut);
  CHECK(choose_path(1, 8, 1, ctx, k) != path::avx512_lut);
  gemm_sums(a, w, &c, 1, ctx);  // the front end takes another path
  CHECK(c == static_cast<std::int64_t>(k));
  CHECK(ctx.last_path != path::avx512_lut);
}
