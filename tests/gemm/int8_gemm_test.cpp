// The int8 paths (avx512_int8, avx2_int8, neon_dot, neon_int8), each forced in turn: exact sums against
// the reference for every width pair and ragged shapes, K across the driver's int32 chunks, the
// overflow guard, nested widths through the cached byte panels (one form per group order), the
// plane unpacker, and the path choice between int8 and bit-serial.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "anybit/gemm/gemm.hpp"
#include "anybit/kernels/reference.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

bool runnable(path p) {
  if (supported_paths() & mask_of(p)) return true;
  std::printf("ANYBIT_SKIP: int8 path %s is not supported by this CPU or build\n", path_name(p));
  return false;
}

// Sums on int8 path p alone; -1 marks outputs never written.
std::vector<std::int64_t> int8_sums(path p, const bitplane_view& a, const packed_weights_view& w, int threads = 1) {
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  ctx.threads = threads;
  std::vector<std::int64_t> c(a.rows() * w.cols(), -1);
  detail::int64_sink sink{c.data(), w.cols()};
  detail::int8_sums(a, w, sink, ctx);
  CHECK(ctx.last_path == p);
  return c;
}

std::vector<std::int64_t> reference_sums(const bitplane_view& a, const bitplane_view& w) {
  std::vector<std::int64_t> c(a.rows() * w.rows());
  reference::gemm(a, w, c.data(), w.rows());
  return c;
}

// Codes in, sums of path p against the reference; reports the first differing output.
bool matches_reference(path p, const std::vector<std::uint8_t>& ac, const std::vector<std::uint8_t>& wc, std::size_t m,
                       std::size_t n, std::size_t k, int ba, int bw) {
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, bw);
  const auto got = int8_sums(p, a, packed_weights(wt));
  const auto expected = reference_sums(a, wt);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i]) {
      FAIL_CHECK(std::string(path_name(p)), " W", bw, "A", ba, " ", m, "x", n, "x", k, ": c[", i / n, "][", i % n, "] = ",
                 got[i], ", reference ", expected[i]);
      return false;
    }
  }
  return true;
}

bool random_matches(path p, std::size_t m, std::size_t n, std::size_t k, int ba, int bw) {
  const std::uint64_t seed = m * 1000003 + n * 1009 + k * 17 + static_cast<std::uint64_t>(ba * 3 + bw);
  return matches_reference(p, test::random_codes(m * k, ba, seed), test::random_codes(n * k, bw, seed ^ 0xABCDEFull), m, n,
                           k, ba, bw);
}

// The driver's int32 chunk in groups of 4 k (int8_gemm.hpp: no group may add more than
// 4 * max(A) * max|W| to a sum, and chunks are whole group pairs); only wide pairs give chunks
// a test can cross.
std::size_t chunk_groups(int ba, int bw) {
  const long long per_group = 4LL * ((1 << ba) - 1) * kernels::signed_weight_max(bw);
  return static_cast<std::size_t>(INT_MAX / per_group) / 2 * 2;
}

// All (W, A) in 1..8 x 1..8 with M, N past the largest tiles (avx512_int8: 6 rows, 30 per call,
// 4 panels of 8 columns; the driver: 64 columns) and K across group and pair edges, with primes
// (11 and 59: 3 and 15 groups, past neon_dot's steps of 4);
// every M and N up to one past a kernel call at one pair; K on both sides of two int32 chunks
// with the largest products; the K = 70000 overflow guard.
void check_path(path p) {
  if (!runnable(p)) return;
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      for (std::size_t m : {1u, 2u, 3u, 5u, 6u, 7u, 31u}) {
        for (std::size_t n : {1u, 7u, 9u, 31u, 33u, 65u}) {
          for (std::size_t k : {1u, 2u, 3u, 5u, 7u, 8u, 11u, 59u, 61u, 64u, 67u, 131u}) {
            if (!random_matches(p, m, n, k, ba, bw)) return;
          }
        }
      }
    }
  }
  for (std::size_t m = 1; m <= 31; ++m) {
    for (std::size_t n = 1; n <= 65; n += (n < 9 || n > 56 ? 1 : 8)) {
      if (!random_matches(p, m, n, 13, 5, 3)) return;
    }
  }
  if (!random_matches(p, 61, 130, 300, 8, 8)) return;  // several calls and tiles both ways
  // Two chunks and one group more (and the edges around it), all-max activations against the
  // largest weights of either sign: 8-bit code 0 is stored as -128, 255 as 127. K = 8 chunk + 4
  // and + 11 end on an odd group (avx512_int8 steps two groups at a time, over zero padding).
  const std::pair<int, int> wide[] = {{8, 8}, {7, 8}, {8, 7}};  // (W, A)
  for (const auto& [bw, ba] : wide) {
    const std::size_t chunk = chunk_groups(ba, bw);
    for (std::size_t k : {8 * chunk - 1, 8 * chunk + 4, 8 * chunk + 5, 8 * chunk + 11}) {
      const std::size_t m = 3, n = 9;
      std::vector<std::uint8_t> ac(m * k, static_cast<std::uint8_t>((1 << ba) - 1));
      std::vector<std::uint8_t> wc = test::random_codes(n * k, bw, k);
      std::fill_n(wc.begin(), k, std::uint8_t{0});                                        // column 0: code 0
      std::fill_n(wc.begin() + static_cast<std::ptrdiff_t>(k), k, static_cast<std::uint8_t>((1 << bw) - 1));  // column 1: max
      ac[k + 5] = 0;  // row 1 not quite all-max
      if (!matches_reference(p, ac, wc, m, n, k, ba, bw)) return;
    }
  }
  const std::size_t m = 2, n = 9, k = 70000;  // 70000 * 255 * 255 > 2^32
  std::vector<std::uint8_t> ac(m * k, 255), wc(n * k, 255);
  const auto random_w = test::random_codes(k, 8, 3);
  std::copy(random_w.begin(), random_w.end(), wc.begin());  // column 0 random, the rest all-max
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 8);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, 8);
  const auto c = int8_sums(p, a, packed_weights(wt));
  CHECK(c[1] == std::int64_t{70000} * 255 * 255);  // closed form
  CHECK(c == reference_sums(a, wt));
}

// 1 and 2 threads; weights packed at 8 bits used at every width through their top planes.
void check_nested(path p) {
  if (!runnable(p)) return;
  const std::size_t m = 7, n = 50, k = 300;
  const auto ac = test::random_codes(m * k, 6, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 6);
  const packed_weights w8(bitplane_tensor<>::from_codes(wc.data(), n, k, 8));
  CHECK(int8_sums(p, a, w8, 1) == int8_sums(p, a, w8, 2));
  for (int b = 1; b <= 8; ++b) {
    std::vector<std::uint8_t> top(wc.size());
    for (std::size_t x = 0; x < wc.size(); ++x) top[x] = static_cast<std::uint8_t>(wc[x] >> (8 - b));
    const auto wt = bitplane_tensor<>::from_codes(top.data(), n, k, b);
    CHECK_MESSAGE(int8_sums(p, a, w8.top(b)) == reference_sums(a, wt), "top ", b);
    CHECK(int8_sums(p, a, w8.top(b)) == reference_sums(a, wt));  // second call: from the cache
  }
}

}  // namespace

TEST_CASE("int8 path avx512_int8 equals reference for every width pair, ragged shape and chunk edge") {
  check_path(path::avx512_int8);
}
TEST_CASE("int8 path avx2_int8 equals reference for every width pair, ragged shape and chunk edge") {
  check_path(path::avx2_int8);
}
TEST_CASE("int8 path neon_int8 equals reference for every width pair, ragged shape and chunk edge") {
  check_path(path::neon_int8);
}
TEST_CASE("int8 path neon_dot equals reference for every width pair, ragged shape and chunk edge") {
  check_path(path::neon_dot);
}

TEST_CASE("int8 path avx512_int8: 1 and 2 threads identical, nested widths from cached byte panels") {
  check_nested(path::avx512_int8);
}
TEST_CASE("int8 path avx2_int8: 1 and 2 threads identical, nested widths from cached byte panels") {
  check_nested(path::avx2_int8);
}
TEST_CASE("int8 path neon_int8: 1 and 2 threads identical, nested widths from cached byte panels") {
  check_nested(path::neon_int8);
}
TEST_CASE("int8 path neon_dot: 1 and 2 threads identical, nested widths from cached byte panels") {
  check_nested(path::neon_dot);
}

TEST_CASE("the int8 paths of a build each read their own cached byte-panel form, in any order") {
  std::vector<path> paths;
  for (const auto& k : detail::compiled_int8_kernels()) {
    if (supported_paths() & mask_of(k.which)) paths.push_back(k.which);
  }
  if (paths.size() < 2) {
    std::printf("ANYBIT_SKIP: fewer than two int8 paths run here\n");
    return;
  }
  const std::size_t m = 5, n = 23, k = 101;
  const auto ac = test::random_codes(m * k, 8, 4), wc = test::random_codes(n * k, 8, 5);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 8);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, 8);
  const packed_weights w(wt);
  const auto expected = reference_sums(a, wt);
  for (path p : paths) CHECK_MESSAGE(int8_sums(p, a, w) == expected, path_name(p));  // the first builds the form
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) CHECK_MESSAGE(int8_sums(*it, a, w) == expected, path_name(*it));
}

TEST_CASE("plane unpackers give the codes back, zero-padded") {
  for (int bits = 1; bits <= 8; ++bits) {
    for (std::size_t cols : {1, 31, 32, 33, 63, 64, 65, 100, 128, 257}) {
      const auto codes = test::random_codes(cols, bits, cols + static_cast<std::size_t>(bits));
      const auto t = bitplane_tensor<>::from_codes(codes.data(), 1, cols, bits);
      const std::size_t len = cols + 40;
      std::vector<std::uint8_t> expected(codes);
      expected.resize(len, 0);
      std::vector<std::uint8_t> out(len, 0xEE);
      kernels::scalar::unpack_row(t.plane_row(0, 0), t.view().plane_stride(), bits, cols, out.data(), len);
      CHECK(out == expected);
#if ANYBIT_X86_KERNELS
      if (supported_paths() & mask_of(path::avx2)) {
        std::fill(out.begin(), out.end(), 0xEE);
        kernels::avx2::unpack_row(t.plane_row(0, 0), t.view().plane_stride(), bits, cols, out.data(), len);
        CHECK(out == expected);
      }
      if (supported_paths() & mask_of(path::avx512_int8)) {
        std::fill(out.begin(), out.end(), 0xEE);
        kernels::avx512bw::unpack_row(t.plane_row(0, 0), t.view().plane_stride(), bits, cols, out.data(), len);
        CHECK(out == expected);
      }
#endif
    }
  }
}

TEST_CASE("int8 sums with no int8 path allowed throw, naming the masks") {
  const auto codes = test::random_codes(8, 2, 1);
  const auto a = bitplane_tensor<>::from_codes(codes.data(), 2, 4, 2);
  const packed_weights w(bitplane_tensor<>::from_codes(codes.data(), 2, 4, 2));
  gemm_context ctx;
  ctx.allowed = mask_of(path::scalar);
  std::vector<std::int64_t> c(4);
  detail::int64_sink sink{c.data(), 2};
  const std::string msg = test::thrown_message<error>([&] { detail::int8_sums(a, w, sink, ctx); });
  CHECK(msg.find("no int8 gemm path") != std::string::npos);
  CHECK(msg.find("mask 0x2)") != std::string::npos);
}

TEST_CASE("the front end picks int8 for wide pairs and bit-serial for narrow ones, within the mask") {
  gemm_context ctx;
  CHECK(!is_int8_path(path::avx512));
  CHECK(is_int8_path(path::avx512_int8));
  CHECK(is_int8_path(path::avx2_int8));
  CHECK(is_int8_path(path::neon_int8));
  CHECK(is_int8_path(path::neon_dot));
  const detail::int8_kernel* best = detail::usable_int8_kernel(all_paths);
  if (best == nullptr) {
    std::printf("ANYBIT_SKIP: no int8 path is supported by this CPU or build\n");
    CHECK(!is_int8_path(choose_path(8, 8, 64, ctx)));
    return;
  }
  CHECK(!is_int8_path(choose_path(1, 1, 64, ctx)));
  CHECK(choose_path(8, 8, 64, ctx) == best->which);
  CHECK(!is_int8_path(choose_path(3, 1, 1, ctx)));  // a GEMV keeps bit-serial longer
  // Against a 256-bit bit-serial path, a W8A8 GEMV is still int8 (AVX-512's popcount may beat
  // the 256-bit int8 kernel there: a calibration, not an invariant).
  ctx.allowed = all_paths & ~(mask_of(path::avx512) | mask_of(path::avx512bw));
  CHECK(choose_path(8, 8, 1, ctx) == best->which);
  ctx.allowed = mask_of(best->which);
  CHECK(choose_path(1, 1, 64, ctx) == best->which);
  ctx.allowed = mask_of(path::scalar);
  CHECK(choose_path(8, 8, 64, ctx) == path::scalar);
}

TEST_CASE("the mask forces either x86 int8 path, and avx512_int8 wins when both may run") {
#if ANYBIT_X86_KERNELS
  if (!runnable(path::avx512_int8) || !runnable(path::avx2_int8)) return;
  gemm_context ctx;
  ctx.allowed = int8_paths;
  CHECK(choose_path(8, 8, 64, ctx) == path::avx512_int8);
  CHECK(choose_path(1, 1, 64, ctx) == path::avx512_int8);  // no bit-serial path allowed
  ctx.allowed = all_paths & ~mask_of(path::avx512_int8);
  CHECK(choose_path(8, 8, 64, ctx) == path::avx2_int8);
  ctx.allowed = mask_of(path::avx2_int8) | mask_of(path::scalar);
  CHECK(choose_path(8, 8, 64, ctx) == path::avx2_int8);
  // Through the front end: gemm_sums records the path it ran.
  const std::size_t m = 4, n = 10, k = 77;
  const auto ac = test::random_codes(m * k, 8, 6), wc = test::random_codes(n * k, 8, 7);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 8);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, 8);
  const packed_weights w(wt);
  for (path p : {path::avx512_int8, path::avx2_int8}) {
    ctx.allowed = all_paths & ~(byte_paths & ~mask_of(p));  // the lookup path would take this small M
    std::vector<std::int64_t> c(m * n);
    gemm_sums(a, w, c.data(), n, ctx);
    CHECK(ctx.last_path == p);
    CHECK(c == reference_sums(a, wt));
  }
#else
  std::printf("ANYBIT_SKIP: no x86 int8 paths in this build\n");
#endif
}
