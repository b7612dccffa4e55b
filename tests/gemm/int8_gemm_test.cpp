// The int8 path: exact sums against the reference for every width pair and ragged shape, the
// int32 overflow guard, nested widths through the cached byte panels, and the plane unpacker.
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

// This build's int8 path (avx2_int8 on x86-64, neon_int8 on aarch64).
path int8_path() { return detail::compiled_int8_kernel()->which; }

bool int8_runnable() {
  if (detail::compiled_int8_kernel() != nullptr && (supported_paths() & mask_of(int8_path())) != 0) return true;
  std::printf("ANYBIT_SKIP: no int8 path is supported by this CPU or build\n");
  return false;
}

std::vector<std::int64_t> int8_sums(const bitplane_view& a, const packed_weights_view& w, int threads = 1) {
  gemm_context ctx;
  ctx.threads = threads;
  std::vector<std::int64_t> c(a.rows() * w.cols(), -1);
  detail::int64_sink sink{c.data(), w.cols()};
  detail::int8_sums(a, w, sink, ctx);
  CHECK(ctx.last_path == int8_path());
  return c;
}

std::vector<std::int64_t> reference_sums(const bitplane_view& a, const bitplane_view& w) {
  std::vector<std::int64_t> c(a.rows() * w.rows());
  reference::gemm(a, w, c.data(), w.rows());
  return c;
}

}  // namespace

TEST_CASE("int8 path equals reference for every width pair and ragged shapes") {
  if (!int8_runnable()) return;
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      for (std::size_t m : {1, 2, 3, 4, 5}) {
        for (std::size_t n : {1, 7, 9, 16, 17, 33}) {
          for (std::size_t k : {1, 2, 3, 4, 5, 61, 64, 67, 129}) {
            const auto ac = test::random_codes(m * k, ba, m * 31 + n * 7 + k);
            const auto wc = test::random_codes(n * k, bw, m * 17 + n * 5 + k * 3);
            const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, ba);
            const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, bw);
            const bool same = int8_sums(a, packed_weights(wt)) == reference_sums(a, wt);
            CHECK_MESSAGE(same, "W", bw, "A", ba, " ", m, "x", n, "x", k);
          }
        }
      }
    }
  }
}

TEST_CASE("int8 path splits K so int32 sums cannot overflow (W8A8, K = 70000)") {
  if (!int8_runnable()) return;
  const std::size_t m = 2, n = 9, k = 70000;  // 70000 * 255 * 255 > 2^32
  std::vector<std::uint8_t> ac(m * k, 255), wc(n * k, 255);
  const auto random_w = test::random_codes(k, 8, 3);
  std::copy(random_w.begin(), random_w.end(), wc.begin());  // column 0 random, the rest all-max
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 8);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), n, k, 8);
  const auto c = int8_sums(a, packed_weights(wt));
  CHECK(c[1] == std::int64_t{70000} * 255 * 255);
  CHECK(c == reference_sums(a, wt));
}

TEST_CASE("int8 path: 1 and 2 threads identical, nested widths from cached byte panels") {
  if (!int8_runnable()) return;
  const std::size_t m = 7, n = 50, k = 300;
  const auto ac = test::random_codes(m * k, 6, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 6);
  const packed_weights w8(bitplane_tensor<>::from_codes(wc.data(), n, k, 8));
  CHECK(int8_sums(a, w8, 1) == int8_sums(a, w8, 2));
  for (int b = 1; b <= 8; ++b) {
    std::vector<std::uint8_t> top(wc.size());
    for (std::size_t x = 0; x < wc.size(); ++x) top[x] = static_cast<std::uint8_t>(wc[x] >> (8 - b));
    const auto wt = bitplane_tensor<>::from_codes(top.data(), n, k, b);
    CHECK_MESSAGE(int8_sums(a, w8.top(b)) == reference_sums(a, wt), "top ", b);
    CHECK(int8_sums(a, w8.top(b)) == reference_sums(a, wt));  // second call: from the cache
  }
}

TEST_CASE("plane unpackers give the codes back, zero-padded") {
  for (int bits = 1; bits <= 8; ++bits) {
    for (std::size_t cols : {1, 31, 32, 33, 64, 100, 257}) {
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
#endif
    }
  }
}

TEST_CASE("the front end picks int8 for wide pairs and bit-serial for narrow ones, within the mask") {
  gemm_context ctx;
  if (!int8_runnable()) {
    CHECK(!is_int8_path(choose_path(8, 8, 64, ctx)));
    return;
  }
  CHECK(!is_int8_path(choose_path(1, 1, 64, ctx)));
  CHECK(choose_path(8, 8, 64, ctx) == int8_path());
  CHECK(!is_int8_path(choose_path(3, 1, 1, ctx)));  // a GEMV keeps bit-serial longer
  // Against a bit-serial path of the same vector width, a W8A8 GEMV is still int8 (AVX-512's
  // popcount may beat the 256-bit int8 kernel there: a calibration, not an invariant).
  ctx.allowed = all_paths & ~(mask_of(path::avx512) | mask_of(path::avx512bw));
  CHECK(choose_path(8, 8, 1, ctx) == int8_path());
  ctx.allowed = mask_of(int8_path());
  CHECK(choose_path(1, 1, 64, ctx) == int8_path());
  ctx.allowed = mask_of(path::scalar);
  CHECK(choose_path(8, 8, 64, ctx) == path::scalar);
}
