// float_gemm against the double-accumulating oracle: every kernel this CPU runs, all four
// transpose combinations, alpha/beta, padded strides, edge tiles, every block edge, threads.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/gemm/float_gemm.hpp"
#include "anybit/kernels/reference_float_gemm.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

constexpr transpose no = transpose::no, yes = transpose::yes;
constexpr transpose both[] = {no, yes};

/// Uniform in [-1, 1), multiples of 2^-23: exact floats whose products are exact in double.
std::vector<float> random_floats(std::size_t count, std::uint64_t seed) {
  test::rng r(seed);
  std::vector<float> v(count);
  for (auto& x : v) x = static_cast<float>(static_cast<double>(r.next() >> 40) * 0x1p-23 - 1.0);
  return v;
}

struct tile_shape {
  std::size_t mr, nr, kc, mc, nc;
};

tile_shape shape_of(float_kernel k) {
#if ANYBIT_X86_KERNELS
  if (k == float_kernel::avx2_fma) {
    using kern = kernels::float_avx2::micro_kernel;
    return {kern::mr, kern::nr, kern::kc, kern::mc, kern::nc};
  }
#endif
  (void)k;
  using kern = kernels::float_portable::micro_kernel;
  return {kern::mr, kern::nr, kern::kc, kern::mc, kern::nc};
}

bool runnable(float_kernel k) {
  if (float_kernel_supported(k)) return true;
  std::printf("ANYBIT_SKIP: float kernel %s is not supported by this CPU or build\n", float_kernel_name(k));
  return false;
}

struct gemm_case {
  transpose ta = no, tb = no;
  std::size_t m = 1, n = 1, k = 1;
  float alpha = 1.0f, beta = 0.0f;
  std::size_t pad = 0;  // extra floats at the end of every stored row of A, B and C
  bool nan_c = false;   // start C as NaN (only meaningful with beta == 0)
};

struct gemm_inputs {
  std::size_t lda, ldb, ldc;
  std::vector<float> a, b, c0;
};

gemm_inputs make_inputs(const gemm_case& g) {
  const std::size_t a_rows = g.ta == no ? g.m : g.k, a_cols = g.ta == no ? g.k : g.m;
  const std::size_t b_rows = g.tb == no ? g.k : g.n, b_cols = g.tb == no ? g.n : g.k;
  const std::uint64_t seed = g.m * 1000003 + g.n * 10007 + g.k * 101 + g.pad * 7 + (g.ta == yes) * 2 + (g.tb == yes);
  gemm_inputs in{a_cols + g.pad, b_cols + g.pad, g.n + g.pad, random_floats(a_rows * (a_cols + g.pad), seed),
                 random_floats(b_rows * (b_cols + g.pad), seed + 1), random_floats(g.m * (g.n + g.pad), seed + 2)};
  if (g.nan_c) {
    for (std::size_t i = 0; i < g.m; ++i) {
      for (std::size_t j = 0; j < g.n; ++j) in.c0[i * in.ldc + j] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  return in;
}

// Runs float_gemm with `plan` on `threads` threads; checks every output against the oracle and
// that the padding of C is untouched. Returns C, or an empty vector after reporting a failure.
std::vector<float> checked_gemm(const float_gemm_plan& plan, const gemm_case& g, int threads = 1) {
  const gemm_inputs in = make_inputs(g);
  std::vector<float> expected = in.c0, c = in.c0;
  reference::float_gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, in.a.data(), in.lda, in.b.data(), in.ldb, g.beta,
                        expected.data(), in.ldc);
  gemm_context ctx;
  ctx.threads = threads;
  float_gemm(plan, g.ta, g.tb, g.m, g.n, g.k, g.alpha, in.a.data(), in.lda, in.b.data(), in.ldb, g.beta, c.data(),
             in.ldc, ctx);
  const auto a_at = [&](std::size_t i, std::size_t p) { return g.ta == no ? in.a[i * in.lda + p] : in.a[p * in.lda + i]; };
  const auto b_at = [&](std::size_t p, std::size_t j) { return g.tb == no ? in.b[p * in.ldb + j] : in.b[j * in.ldb + p]; };
  const auto report = [&](std::size_t i, std::size_t j, double tolerance) {
    FAIL_CHECK(std::string(float_kernel_name(plan.kernel)), " ", g.ta == yes ? "T" : "N", g.tb == yes ? "T" : "N", " ",
               g.m, "x", g.n, "x", g.k, " alpha ", g.alpha, " beta ", g.beta, " pad ", g.pad, " blocks ", plan.mc, "/",
               plan.kc, "/", plan.nc, " threads ", threads, ": c[", i, "][", j, "] = ", c[i * in.ldc + j],
               ", oracle ", expected[i * in.ldc + j], ", tolerance ", tolerance);
    return std::vector<float>{};
  };
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < in.ldc; ++j) {
      const std::size_t at = i * in.ldc + j;
      if (j >= g.n) {  // padding: bit-for-bit what it was
        if (std::memcmp(&c[at], &in.c0[at], sizeof(float)) != 0) return report(i, j, 0);
        continue;
      }
      // Any order of summing K float products errs by at most gamma_K * sum|a||b| (Higham,
      // Accuracy and Stability, 3.1; gamma_K ~ K u, u = 2^-24); kc blocking adds at most two
      // roundings (scale, add) per block, <= 2K; alpha and beta add a few, and the oracle
      // rounds its double sum once. So (3K + 8) u of |alpha| sum|a||b| + |beta c0| bounds it.
      double magnitude = 0;
      for (std::size_t p = 0; p < g.k; ++p) magnitude += std::fabs(double{a_at(i, p)} * b_at(p, j));
      const double c_before = g.beta == 0.0f ? 0.0 : std::fabs(double{g.beta} * in.c0[at]);
      const double tolerance =
          (3.0 * static_cast<double>(g.k) + 8.0) * 0x1p-24 * (std::fabs(double{g.alpha}) * magnitude + c_before) +
          std::numeric_limits<float>::min();
      const double got = c[at], want = expected[at];
      if (!std::isfinite(got) || !(std::fabs(got - want) <= tolerance)) return report(i, j, tolerance);
    }
  }
  return c;
}

bool matches_oracle(const float_gemm_plan& plan, const gemm_case& g, int threads = 1) {
  return !checked_gemm(plan, g, threads).empty() || g.m == 0;
}

float_gemm_plan plan_for(float_kernel k, std::size_t mc = 0, std::size_t kc = 0, std::size_t nc = 0) {
  float_gemm_plan plan;
  plan.kernel = k;
  plan.mc = mc;
  plan.kc = kc;
  plan.nc = nc;
  return plan;
}

// Every M in 1..2mr+1 and N in 1..2nr+1 (full, partial and several tiles), small K including
// 0, 1 and primes, all four transposes; then K past kc at the tile edges.
void check_edge_shapes(float_kernel kernel) {
  if (!runnable(kernel)) return;
  const tile_shape t = shape_of(kernel);
  const float_gemm_plan plan = plan_for(kernel);
  for (transpose ta : both) {
    for (transpose tb : both) {
      for (std::size_t k : {0u, 1u, 2u, 3u, 7u, 16u, 31u}) {
        for (std::size_t m = 1; m <= 2 * t.mr + 1; ++m) {
          for (std::size_t n = 1; n <= 2 * t.nr + 1; ++n) {
            gemm_case g;
            g.ta = ta, g.tb = tb, g.m = m, g.n = n, g.k = k;
            if (!matches_oracle(plan, g)) return;
          }
        }
      }
      for (std::size_t k : {t.kc - 1, t.kc, t.kc + 1, 2 * t.kc + 7}) {
        for (std::size_t m : {std::size_t{1}, t.mr - 1, t.mr, t.mr + 1, 2 * t.mr + 1}) {
          for (std::size_t n : {std::size_t{1}, t.nr - 1, t.nr, t.nr + 1, 2 * t.nr + 1}) {
            gemm_case g;
            g.ta = ta, g.tb = tb, g.m = m, g.n = n, g.k = k, g.beta = 0.5f;
            if (!matches_oracle(plan, g)) return;
          }
        }
      }
    }
  }
}

// alpha and beta in {0, 1, other}, with rows of A, B and C longer than the matrix widths.
void check_scaling_and_strides(float_kernel kernel) {
  if (!runnable(kernel)) return;
  const tile_shape t = shape_of(kernel);
  for (transpose ta : both) {
    for (transpose tb : both) {
      for (float alpha : {0.0f, 1.0f, -0.75f}) {
        for (float beta : {0.0f, 1.0f, 0.5f, -2.0f}) {
          for (std::size_t pad : {0u, 3u, 16u}) {
            gemm_case g;
            g.ta = ta, g.tb = tb, g.m = 2 * t.mr + 1, g.n = 2 * t.nr + 3, g.k = 20, g.alpha = alpha, g.beta = beta;
            g.pad = pad;
            if (!matches_oracle(plan_for(kernel), g)) return;
            g.k = 0;
            if (!matches_oracle(plan_for(kernel), g)) return;
          }
        }
      }
    }
  }
}

// Small forced blocks cross every mc, kc and nc edge, including partial blocks, on small
// matrices; the tuned blocks are crossed by shapes just past them.
void check_block_edges(float_kernel kernel) {
  if (!runnable(kernel)) return;
  const tile_shape t = shape_of(kernel);
  for (transpose ta : both) {
    for (transpose tb : both) {
      gemm_case g;
      g.ta = ta, g.tb = tb, g.m = 5 * t.mr + 1, g.n = 5 * t.nr + 3, g.k = 23, g.alpha = 1.5f, g.beta = 0.25f, g.pad = 1;
      if (!matches_oracle(plan_for(kernel, 2 * t.mr, 5, 2 * t.nr), g)) return;
      if (!matches_oracle(plan_for(kernel, 1, 1, 1), g)) return;  // rounded up to one tile each
      g.m = t.mc + t.mr + 1, g.n = 3 * t.nr + 5, g.k = t.kc + 13;   // past mc and kc
      if (!matches_oracle(plan_for(kernel), g)) return;
      g.m = t.mr + 1, g.n = t.nc + t.nr + 1, g.k = t.kc + 3;  // past nc
      if (!matches_oracle(plan_for(kernel), g)) return;
    }
  }
  gemm_case large;  // several of every block with the tuned sizes
  large.m = 2 * t.mc + 7, large.n = 2 * t.nr * 8 + 9, large.k = 2 * t.kc + 101, large.beta = 1.0f;
  CHECK(matches_oracle(plan_for(kernel), large));
}

// beta == 0 must overwrite C without reading it: NaNs already there must not reach the result.
void check_nan_not_read(float_kernel kernel) {
  if (!runnable(kernel)) return;
  const tile_shape t = shape_of(kernel);
  for (transpose ta : both) {
    for (transpose tb : both) {
      for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{9}, t.kc + 1}) {
        gemm_case g;
        g.ta = ta, g.tb = tb, g.m = 2 * t.mr + 1, g.n = 2 * t.nr + 1, g.k = k, g.alpha = 0.5f, g.pad = 2;
        g.nan_c = true;
        if (!matches_oracle(plan_for(kernel), g)) return;
      }
    }
  }
}

}  // namespace

TEST_CASE("float_gemm reference plan is the oracle") {
  gemm_case g;
  g.m = 5, g.n = 7, g.k = 9, g.alpha = 2.0f, g.beta = 0.5f, g.pad = 1;
  CHECK(matches_oracle(plan_for(float_kernel::reference), g));
}

TEST_CASE("float_gemm portable kernel matches the oracle on every edge shape") {
  check_edge_shapes(float_kernel::portable);
}
TEST_CASE("float_gemm avx2_fma kernel matches the oracle on every edge shape") {
  check_edge_shapes(float_kernel::avx2_fma);
}

TEST_CASE("float_gemm portable kernel applies alpha and beta and honours strides") {
  check_scaling_and_strides(float_kernel::portable);
}
TEST_CASE("float_gemm avx2_fma kernel applies alpha and beta and honours strides") {
  check_scaling_and_strides(float_kernel::avx2_fma);
}

TEST_CASE("float_gemm portable kernel crosses every cache block edge") { check_block_edges(float_kernel::portable); }
TEST_CASE("float_gemm avx2_fma kernel crosses every cache block edge") { check_block_edges(float_kernel::avx2_fma); }

TEST_CASE("float_gemm portable kernel with beta 0 does not read C") { check_nan_not_read(float_kernel::portable); }
TEST_CASE("float_gemm avx2_fma kernel with beta 0 does not read C") { check_nan_not_read(float_kernel::avx2_fma); }

TEST_CASE("float_gemm gives the same bits for 1, 2 and 3 threads and run to run") {
  for (float_kernel kernel : {float_kernel::portable, float_kernel::avx2_fma}) {
    if (!float_kernel_supported(kernel)) continue;
    const std::string name = float_kernel_name(kernel);
    CAPTURE(name);
    const tile_shape t = shape_of(kernel);
    for (transpose ta : both) {
      for (transpose tb : both) {
        // Wide (threads split columns) and tall (threads split rows); both have enough work
        // for three threads, and k crosses kc.
        for (const auto& [m, n] : {std::pair<std::size_t, std::size_t>{25, 700}, std::pair<std::size_t, std::size_t>{700, 40}}) {
          gemm_case g;
          g.ta = ta, g.tb = tb, g.m = m, g.n = n, g.k = t.kc + 45, g.beta = 0.5f, g.pad = 1;
          REQUIRE(g.m * g.n * g.k >= 3 * detail::float_min_work_per_thread);
          const auto one = checked_gemm(plan_for(kernel), g, 1);
          const auto two = checked_gemm(plan_for(kernel), g, 2);
          const auto two_again = checked_gemm(plan_for(kernel), g, 2);
          const auto three = checked_gemm(plan_for(kernel), g, 3);
          REQUIRE(!one.empty());
          REQUIRE(one.size() == two.size());
          CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
          CHECK(std::memcmp(two.data(), two_again.data(), two.size() * sizeof(float)) == 0);
          CHECK(std::memcmp(one.data(), three.data(), one.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

TEST_CASE("float_gemm with M or N of 0 touches nothing") {
  gemm_context ctx;
  const std::vector<float> a = random_floats(20, 3), b = random_floats(20, 4), before = random_floats(12, 5);
  std::vector<float> c = before;
  float_gemm(no, no, 3, 0, 4, 1.0f, a.data(), 4, b.data(), 0, 0.0f, c.data(), 4, ctx);  // ldc 4 > N = 0
  float_gemm(yes, yes, 0, 3, 4, 1.0f, a.data(), 0, b.data(), 4, 0.0f, c.data(), 3, ctx);
  CHECK(std::memcmp(c.data(), before.data(), c.size() * sizeof(float)) == 0);
}

TEST_CASE("float_gemm picks the fastest allowed kernel and reports its path") {
  gemm_context ctx;
  const float_kernel best =
      float_kernel_supported(float_kernel::avx2_fma) ? float_kernel::avx2_fma : float_kernel::portable;
  CHECK(choose_float_kernel(ctx) == best);
  ctx.allowed = mask_of(path::scalar);
  CHECK(choose_float_kernel(ctx) == float_kernel::portable);
  ctx.allowed = mask_of(path::reference);
  CHECK(choose_float_kernel(ctx) == float_kernel::reference);
  ctx.allowed = 0;
  CHECK_THROWS_AS(choose_float_kernel(ctx), error);

  // The default entry point runs the chosen kernel and records it.
  const std::vector<float> a = random_floats(3 * 4, 1), b = random_floats(4 * 5, 2);
  std::vector<float> c(3 * 5), expected(3 * 5);
  reference::float_gemm(no, no, 3, 5, 4, 1.0f, a.data(), 4, b.data(), 5, 0.0f, expected.data(), 5);
  ctx = gemm_context{};
  float_gemm(no, no, 3, 5, 4, 1.0f, a.data(), 4, b.data(), 5, 0.0f, c.data(), 5, ctx);
  CHECK(ctx.last_path == (best == float_kernel::avx2_fma ? path::avx2 : (ANYBIT_ARCH_AARCH64 ? path::neon : path::scalar)));
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(std::fabs(c[i] - expected[i]) <= 1e-5f);
  ctx.allowed = mask_of(path::reference);
  float_gemm(no, no, 3, 5, 4, 1.0f, a.data(), 4, b.data(), 5, 0.0f, c.data(), 5, ctx);
  CHECK(ctx.last_path == path::reference);
  CHECK(c == expected);
}

TEST_CASE("float_gemm rejects strides shorter than the rows and other bad arguments") {
  gemm_context ctx;
  std::vector<float> a(64), b(64), c(64);
  const auto call = [&](transpose ta, transpose tb, std::size_t lda, std::size_t ldb, std::size_t ldc) {
    float_gemm(ta, tb, 3, 4, 5, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), ldc, ctx);
  };
  // op(A) is 3 x 5, op(B) is 5 x 4: stored A rows are 5 wide (3 when transposed), B rows 4 (5).
  std::string message = test::thrown_message<shape_error>([&] { call(no, no, 4, 4, 4); });
  CHECK(message.find("lda = 4") != std::string::npos);
  CHECK(message.find("expected at least 5, 4, 4") != std::string::npos);
  message = test::thrown_message<shape_error>([&] { call(yes, no, 2, 4, 4); });
  CHECK(message.find("lda = 2") != std::string::npos);
  message = test::thrown_message<shape_error>([&] { call(no, yes, 5, 4, 4); });
  CHECK(message.find("ldb = 4") != std::string::npos);
  CHECK(message.find("expected at least 5, 5, 4") != std::string::npos);
  message = test::thrown_message<shape_error>([&] { call(no, no, 5, 3, 4); });
  CHECK(message.find("ldb = 3") != std::string::npos);
  message = test::thrown_message<shape_error>([&] { call(no, no, 5, 4, 3); });
  CHECK(message.find("ldc = 3") != std::string::npos);
  CHECK_NOTHROW(call(yes, yes, 3, 5, 4));  // the tightest legal strides

  message = test::thrown_message<shape_error>(
      [&] { float_gemm(no, no, 3, 4, 5, 1.0f, nullptr, 5, b.data(), 4, 0.0f, c.data(), 4, ctx); });
  CHECK(message.find("null") != std::string::npos);
  CHECK_NOTHROW(float_gemm(no, no, 0, 4, 5, 1.0f, nullptr, 5, b.data(), 4, 0.0f, c.data(), 4, ctx));

  ctx.threads = 0;
  message = test::thrown_message<error>([&] { call(no, no, 5, 4, 4); });
  CHECK(message.find("threads = 0") != std::string::npos);
  ctx.threads = 1;

  if (!float_kernel_supported(float_kernel::avx2_fma)) {
    message = test::thrown_message<error>([&] {
      float_gemm(plan_for(float_kernel::avx2_fma), no, no, 3, 4, 5, 1.0f, a.data(), 5, b.data(), 4, 0.0f, c.data(), 4,
                 ctx);
    });
    CHECK(message.find("avx2_fma") != std::string::npos);
  }
}
