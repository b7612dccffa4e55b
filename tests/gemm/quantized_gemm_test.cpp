// The gemm front end (zero points, scales, bias, clamp, float or codes out) against a direct
// double loop over the real values scale * (q - zero_point), on every runnable path.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/gemm/gemm.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct quantized_problem {
  std::size_t m, n, k;
  int ba, bw;
  std::vector<std::uint8_t> ac, wc;
  activation_quant aq;
  weight_quant wq;
  output_stage out;
};

// Dyadic zero points (multiples of 1/8) keep every correction term exact in double, so the
// front end must equal the direct loop bit for bit; per-channel scales and zero points.
quantized_problem make(std::size_t m, std::size_t n, std::size_t k, int ba, int bw, std::uint64_t seed) {
  test::rng r(seed);
  quantized_problem p{m, n, k, ba, bw, test::random_codes(m * k, ba, seed + 1), test::random_codes(n * k, bw, seed + 2),
                      {}, {}, {}};
  p.aq = {0.25f + static_cast<float>(r.below(100)) / 64.0f, static_cast<float>(r.below(8 << ba)) / 8.0f};
  p.wq.scale.resize(n);
  p.wq.zero_point.resize(n);
  p.out.bias.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    p.wq.scale[j] = 0.01f + static_cast<float>(r.below(1000)) / 997.0f;
    p.wq.zero_point[j] = static_cast<float>(r.below(8 << bw)) / 8.0f;
    p.out.bias[j] = static_cast<float>(r.below(2001)) / 100.0f - 10.0f;
  }
  return p;
}

// The oracle: the real-valued dot product, in double, straight from the codes.
double expected_output(const quantized_problem& p, std::size_t i, std::size_t j) {
  double dot = 0;
  const double za = p.aq.zero_point, zw = p.wq.zero_point[p.wq.zero_point.size() > 1 ? j : 0];
  for (std::size_t x = 0; x < p.k; ++x) dot += (p.ac[i * p.k + x] - za) * (p.wc[j * p.k + x] - zw);
  double y = static_cast<double>(p.aq.scale) * p.wq.scale[p.wq.scale.size() > 1 ? j : 0] * dot;
  if (!p.out.bias.empty()) y += p.out.bias[j];
  return std::fmin(std::fmax(y, p.out.min), p.out.max);
}

std::vector<float> run_float(const quantized_problem& p, path_mask allowed, int threads = 1) {
  const auto a = bitplane_tensor<>::from_codes(p.ac.data(), p.m, p.k, p.ba);
  const packed_weights w(bitplane_tensor<>::from_codes(p.wc.data(), p.n, p.k, p.bw));
  gemm_context ctx;
  ctx.allowed = allowed;
  ctx.threads = threads;
  std::vector<float> y(p.m * p.n, -1.0f);
  gemm(a, p.aq, w, p.wq, p.out, y.data(), p.n, ctx);
  return y;
}

std::size_t count_mismatches(const quantized_problem& p, const std::vector<float>& y) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < p.m; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) bad += y[i * p.n + j] != static_cast<float>(expected_output(p, i, j));
  }
  return bad;
}

std::vector<path> runnable_paths() {
  std::vector<path> paths;
  for (path p : all_path_values) {
    if (supported_paths() & mask_of(p)) paths.push_back(p);
  }
  return paths;
}

}  // namespace

TEST_CASE("gemm float output equals the real-valued loop for every width pair and path") {
  for (path pa : runnable_paths()) {
    for (int ba = 1; ba <= 8; ++ba) {
      for (int bw = 1; bw <= 8; ++bw) {
        for (auto [m, n, k] : {std::array<std::size_t, 3>{3, 9, 67}, {5, 17, 129}, {1, 33, 1}}) {
          const auto p = make(m, n, k, ba, bw, m * 7919 + n * 104729 + k * 13 + static_cast<std::size_t>(ba * 10 + bw));
          const std::size_t bad = count_mismatches(p, run_float(p, mask_of(pa)));
          CHECK_MESSAGE(bad == 0, path_name(pa), " W", bw, "A", ba, " ", m, "x", n, "x", k, ": ", bad, " outputs differ");
        }
      }
    }
  }
}

TEST_CASE("gemm per-tensor parameters, clamp, and non-dyadic zero points") {
  auto p = make(4, 12, 100, 3, 5, 42);
  p.wq.scale = {0.37f};
  p.wq.zero_point = {0.3f};  // not dyadic: the correction is rounded, so compare with a tolerance
  p.aq.zero_point = 1.7f;
  p.out.min = -2.0f;
  p.out.max = 3.0f;
  const auto y = run_float(p, all_paths);
  std::size_t clamped = 0;
  for (std::size_t i = 0; i < p.m; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) {
      const double e = expected_output(p, i, j);
      CHECK(y[i * p.n + j] == doctest::Approx(e).epsilon(1e-6));
      clamped += e == -2.0 || e == 3.0;
    }
  }
  CHECK(clamped > 0);  // the clamp was exercised
}

TEST_CASE("gemm on signed values via zero point 2^(b-1) equals the integer dot product") {
  for (int ba = 1; ba <= 8; ++ba) {
    for (int bw = 1; bw <= 8; ++bw) {
      const std::size_t m = 3, n = 10, k = 131;
      test::rng r(static_cast<std::uint64_t>(ba * 16 + bw));
      std::vector<int> va(m * k), vw(n * k);  // signed values in [-2^(b-1), 2^(b-1) - 1]
      quantized_problem p{m, n, k, ba, bw, std::vector<std::uint8_t>(m * k), std::vector<std::uint8_t>(n * k), {}, {}, {}};
      for (std::size_t x = 0; x < va.size(); ++x) {
        va[x] = static_cast<int>(r.below(1u << ba)) - (1 << (ba - 1));
        p.ac[x] = static_cast<std::uint8_t>(va[x] + (1 << (ba - 1)));
      }
      for (std::size_t x = 0; x < vw.size(); ++x) {
        vw[x] = static_cast<int>(r.below(1u << bw)) - (1 << (bw - 1));
        p.wc[x] = static_cast<std::uint8_t>(vw[x] + (1 << (bw - 1)));
      }
      p.aq = {1.0f, static_cast<float>(1 << (ba - 1))};
      p.wq = {{1.0f}, {static_cast<float>(1 << (bw - 1))}};
      const auto y = run_float(p, all_paths);
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          long dot = 0;
          for (std::size_t x = 0; x < k; ++x) dot += long{va[i * k + x]} * vw[j * k + x];
          CHECK(y[i * n + j] == static_cast<float>(dot));
        }
      }
    }
  }
}

TEST_CASE("gemm on binary +-1 operands (scale 2, zero point 0.5) equals the +-1 dot product") {
  const std::size_t m = 4, n = 9, k = 200;
  quantized_problem p{m, n, k, 1, 1, test::random_codes(m * k, 1, 5), test::random_codes(n * k, 1, 6), {2.0f, 0.5f},
                      {{2.0f}, {0.5f}}, {}};
  p.aq = {1.0f, 0.5f};  // activations +-0.5, weights +-1: y = 0.5 * sum(+-1)
  const auto y = run_float(p, all_paths);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      int dot = 0;
      for (std::size_t x = 0; x < k; ++x) dot += (p.ac[i * k + x] ? 1 : -1) * (p.wc[j * k + x] ? 1 : -1);
      CHECK(y[i * n + j] == 0.5f * static_cast<float>(dot));
    }
  }
}

TEST_CASE("gemm codes output rounds half to even and clamps to the code range") {
  auto p = make(6, 11, 40, 4, 4, 7);
  const code_output q{0.5f, 3.0f, 3};
  const auto a = bitplane_tensor<>::from_codes(p.ac.data(), p.m, p.k, p.ba);
  const packed_weights w(bitplane_tensor<>::from_codes(p.wc.data(), p.n, p.k, p.bw));
  gemm_context ctx;
  std::vector<std::uint8_t> y(p.m * p.n, 99);
  gemm(a, p.aq, w, p.wq, p.out, q, y.data(), p.n, ctx);
  int low = 0, high = 0;
  for (std::size_t i = 0; i < p.m; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) {
      const double code = std::nearbyint(expected_output(p, i, j) / 0.5 + 3.0);
      const int expected = static_cast<int>(std::fmin(std::fmax(code, 0.0), 7.0));
      CHECK(int{y[i * p.n + j]} == expected);
      low += expected == 0;
      high += expected == 7;
    }
  }
  CHECK(low > 0);
  CHECK(high > 0);
  CHECK(detail::quantize_to_code(1.25, {0.5f, 0.0f, 3}) == 2);  // 2.5 -> 2 (half to even)
  CHECK(detail::quantize_to_code(1.75, {0.5f, 0.0f, 3}) == 4);  // 3.5 -> 4
}

TEST_CASE("gemm outputs are identical for 1 and 2 threads") {
  const auto p = make(9, 70, 300, 2, 3, 11);
  CHECK(run_float(p, all_paths, 1) == run_float(p, all_paths, 2));
}

TEST_CASE("gemm on the top b planes of 8-bit weights equals natively packed b-bit weights") {
  const std::size_t m = 3, n = 13, k = 90;
  const auto ac = test::random_codes(m * k, 4, 1), wc = test::random_codes(n * k, 8, 2);
  const auto a = bitplane_tensor<>::from_codes(ac.data(), m, k, 4);
  const packed_weights w8(bitplane_tensor<>::from_codes(wc.data(), n, k, 8));
  const weight_quant wq{{0.5f}, {1.5f}};
  gemm_context ctx;
  for (int b = 1; b <= 8; ++b) {
    std::vector<std::uint8_t> top(wc.size());
    for (std::size_t x = 0; x < wc.size(); ++x) top[x] = static_cast<std::uint8_t>(wc[x] >> (8 - b));
    const packed_weights wb(bitplane_tensor<>::from_codes(top.data(), n, k, b));
    std::vector<float> nested(m * n), native(m * n);
    gemm(a, {1.0f, 2.0f}, w8.top(b), wq, {}, nested.data(), n, ctx);
    gemm(a, {1.0f, 2.0f}, wb, wq, {}, native.data(), n, ctx);
    CHECK(nested == native);
  }
}

TEST_CASE("gemm rejects bad quantization parameters with messages naming the value") {
  const bitplane_tensor<2> a(2, 10), wt(3, 10);
  const packed_weights w(wt);
  gemm_context ctx;
  std::vector<float> y(6);
  std::vector<std::uint8_t> codes(6);
  const auto msg = [&](activation_quant aq, weight_quant wq, output_stage out) {
    return test::thrown_message<error>([&] { gemm(a, aq, w, wq, out, y.data(), 3, ctx); });
  };
  CHECK(msg({}, {{1.0f, 1.0f}, {0.0f}}, {}).find("scales have 2 values, expected 1 (per tensor) or N = 3") != std::string::npos);
  CHECK(msg({0.0f, 0.0f}, {}, {}).find("activation scale = 0") != std::string::npos);
  CHECK(msg({}, {{-1.0f}, {0.0f}}, {}).find("weight scale = -1") != std::string::npos);
  CHECK(msg({}, {}, {{1.0f}, -1.0f, 1.0f}).find("bias has 1 values, expected 0 or N = 3") != std::string::npos);
  CHECK(msg({}, {}, {{}, 2.0f, 1.0f}).find("expected min <= max") != std::string::npos);
  CHECK_THROWS_AS(gemm(a, {}, w, {}, {}, {1.0f, 0.0f, 9}, codes.data(), 3, ctx), bit_width_error);
  CHECK_THROWS_AS(gemm(a, {}, w, {}, {}, y.data(), 2, ctx), shape_error);
}
