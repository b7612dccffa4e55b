// Uniform affine quantization: min/max calibration against its closed form, MSE calibration
// against an independent search over the documented candidates, fake-quant forward, clip STE.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/uniform.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

/// Three channels of 50: mixed signs, positive only, negative only.
std::vector<float> three_channels() {
  std::vector<float> x = uniform_data(50, -1.3f, 2.1f, 1);
  const std::vector<float> pos = uniform_data(50, 0.2f, 5.0f, 2), neg = uniform_data(50, -0.7f, -0.05f, 3);
  x.insert(x.end(), pos.begin(), pos.end());
  x.insert(x.end(), neg.begin(), neg.end());
  return x;
}

struct oracle_grid {
  double scale, zero_point;
};

/// The documented construction, written out: [lo, hi] widened to 0, integer zero point.
oracle_grid grid_of(double lo, double hi, int bits) {
  lo = std::fmin(lo, 0.0);
  hi = std::fmax(hi, 0.0);
  const double levels = std::pow(2.0, bits) - 1.0;
  const double scale = static_cast<float>((hi - lo) / levels);
  const double zp = std::fmin(std::fmax(std::nearbyint(-lo / scale), 0.0), levels);
  return {scale, zp};
}

double fake_quant(double x, oracle_grid g, int bits) {
  const float s = static_cast<float>(g.scale), zp = static_cast<float>(g.zero_point);
  const std::uint8_t c = quantize_code(static_cast<float>(x), 1.0f / s, zp, static_cast<float>((1 << bits) - 1));
  return static_cast<double>(s * (static_cast<float>(c) - zp));
}

double squared_error(const float* x, std::size_t n, oracle_grid g, int bits) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::pow(x[i] - fake_quant(x[i], g, bits), 2.0);
  return sum;
}

}  // namespace

TEST_CASE("uniform min/max calibration: closed form, integer zero point, zero exact, error <= scale/2") {
  const std::vector<float> x = three_channels();
  for (int b = 1; b <= 8; ++b) {
    uniform_quantizer q = make_uniform(dynamic_bits(b), 3);
    std::vector<float> scale(3), zp(3);
    q.calibrate_min_max(x.data(), x.size(), scale.data(), zp.data());
    for (std::size_t c = 0; c < 3; ++c) {
      const auto first = x.begin() + static_cast<std::ptrdiff_t>(c * 50);
      const auto [lo, hi] = std::minmax_element(first, first + 50);
      const oracle_grid o = grid_of(*lo, *hi, b);
      CHECK(static_cast<double>(scale[c]) == o.scale);
      CHECK(static_cast<double>(zp[c]) == o.zero_point);
      const affine_grid g = q.grid(scale.data(), zp.data(), c);
      CHECK(g.decode(g.encode(0.0f)) == 0.0f);
      for (std::size_t i = c * 50; i < c * 50 + 50; ++i) {
        CHECK(std::fabs(x[i] - g.decode(g.encode(x[i]))) <= 0.5 * g.scale * (1.0 + 1e-5));
      }
    }
    CHECK(zp[1] == 0.0f);                                           // positive data: zero point 0
    CHECK(static_cast<int>(zp[2]) == static_cast<int>(max_code(b)));  // negative data: top code is 0
  }
}

TEST_CASE("uniform MSE calibration picks the best documented candidate and clips heavy tails") {
  // Laplace data (heavy tails): the MSE-optimal clip is well inside the min/max range.
  xoshiro256ss rng(7);
  std::vector<float> x(2000);
  for (auto& v : x) {
    const float magnitude = -std::log(1.0f - rng.uniform01());
    v = rng.uniform01() < 0.5f ? -magnitude : magnitude;
  }
  // (min/max_element rather than an fmin/fmax loop: GCC 12 for aarch64 crashes vectorising that)
  const double lo = std::fmin(0.0, *std::min_element(x.begin(), x.end()));
  const double hi = std::fmax(0.0, *std::max_element(x.begin(), x.end()));
  for (int b : {2, 4, 8}) {
    uniform_quantizer q = make_uniform(dynamic_bits(b), 1, uniform_calibration::mse);
    q.mse_candidates = 100;
    float scale = 0, zp = 0;
    q.initialize(x.data(), x.size(), &scale, &zp);
    // Independent search: shrink factors k / 100 of [min, max], least squared error, wider wins ties.
    const oracle_grid full = grid_of(lo, hi, b);
    oracle_grid best = full;
    double best_error = squared_error(x.data(), x.size(), full, b);
    for (int k = 99; k >= 1; --k) {
      const double f = k / 100.0;
      const oracle_grid candidate = grid_of(f * lo, f * hi, b);
      const double e = squared_error(x.data(), x.size(), candidate, b);
      if (e < best_error) {
        best = candidate;
        best_error = e;
      }
    }
    CHECK(static_cast<double>(scale) == best.scale);
    CHECK(static_cast<double>(zp) == best.zero_point);
    const double mse_error = squared_error(x.data(), x.size(), {scale, zp}, b);
    const double min_max_error = squared_error(x.data(), x.size(), full, b);
    CHECK(mse_error <= min_max_error);
    if (b <= 4) {  // at few bits clipping the tails clearly pays
      CHECK(mse_error < 0.8 * min_max_error);
      CHECK(static_cast<double>(scale) < 0.8 * full.scale);
    }
  }
}

TEST_CASE("uniform forward is decode(encode(x)) per channel, computed independently, bit for bit") {
  const std::vector<float> x = three_channels();
  const std::vector<float> scale{0.05f, 0.3f, 0.01f}, zp{7.0f, 0.0f, 15.0f};
  uniform_quantizer q = make_uniform(bits_c<4>{}, 3);
  std::vector<float> y(x.size());
  q.forward(x.data(), x.size(), scale.data(), zp.data(), y.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i / 50;
    const std::uint8_t code = quantize_code(x[i], 1.0f / scale[c], zp[c], 15.0f);
    CHECK(y[i] == scale[c] * (static_cast<float>(code) - zp[c]));
  }
  std::vector<float> again(x.size());
  q.forward(x.data(), x.size(), scale.data(), zp.data(), again.data());
  CHECK(std::memcmp(y.data(), again.data(), y.size() * sizeof(float)) == 0);
  std::vector<float> in_place = x;
  q.forward(in_place.data(), in_place.size(), scale.data(), zp.data(), in_place.data());
  CHECK(std::memcmp(y.data(), in_place.data(), y.size() * sizeof(float)) == 0);
}

TEST_CASE("uniform backward: dx = dy from lowest to highest, else 0") {
  const std::vector<float> x = uniform_data(300, -3.0f, 3.0f, 5), dy = uniform_data(300, -1.0f, 1.0f, 6);
  const std::vector<float> scale{0.1f, 0.2f, 0.05f}, zp{3.0f, 0.0f, 2.0f};
  uniform_quantizer q = make_uniform(bits_c<3>{}, 3);
  std::vector<float> dx(300, 123.0f);
  q.backward(x.data(), dy.data(), x.size(), scale.data(), zp.data(), dx.data());
  int inside = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i / 100;
    const double lo = scale[c] * (0.0 - zp[c]), hi = scale[c] * (7.0 - zp[c]);
    const bool in = x[i] >= lo && x[i] <= hi;
    inside += in ? 1 : 0;
    CHECK(dx[i] == (in ? dy[i] : 0.0f));
  }
  CHECK(inside > 10);  // both cases occur
  CHECK(inside < 290);
}

TEST_CASE("uniform argument errors name the value") {
  uniform_quantizer q = make_uniform(bits_c<4>{}, 3);
  std::vector<float> x(10, 1.0f), y(10), scale{1, 1, 1}, zp{0, 0, 0};
  std::string m = test::thrown_message<shape_error>([&] { q.forward(x.data(), 10, scale.data(), zp.data(), y.data()); });
  CHECK(m.find("n = 10") != std::string::npos);
  CHECK(m.find("channels = 3") != std::string::npos);
  scale[2] = -1.0f;
  m = test::thrown_message<error>([&] { q.forward(x.data(), 9, scale.data(), zp.data(), y.data()); });
  CHECK(m.find("scale[2] = -1") != std::string::npos);
  scale[2] = 1.0f;
  zp[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(q.forward(x.data(), 9, scale.data(), zp.data(), y.data()), error);
  q.bits = 9;
  CHECK_THROWS_AS(q.calibrate_min_max(x.data(), 9, scale.data(), zp.data()), bit_width_error);
  CHECK_THROWS_AS(make_uniform(dynamic_bits(0)), bit_width_error);
  q.bits = 4;
  x[4] = std::numeric_limits<float>::infinity();
  m = test::thrown_message<error>([&] { q.calibrate_mse(x.data(), 9, scale.data(), zp.data()); });
  CHECK(m.find("x[4] = inf") != std::string::npos);
  x[4] = 1.0f;
  q.mse_candidates = 0;
  CHECK_THROWS_AS(q.calibrate_mse(x.data(), 9, scale.data(), zp.data()), error);
  CHECK_THROWS_AS(q.calibrate_min_max(x.data(), 0, scale.data(), zp.data()), shape_error);
  CHECK_THROWS_AS(q.grid(scale.data(), zp.data(), 3), shape_error);
}

TEST_CASE("uniform calibration of all-zero data gives a usable grid that keeps zero") {
  std::vector<float> x(8, 0.0f), y(8, 5.0f);
  float scale = 0, zp = -1;
  uniform_quantizer q = make_uniform(bits_c<2>{});
  q.calibrate_min_max(x.data(), x.size(), &scale, &zp);
  CHECK(scale > 0.0f);
  q.forward(x.data(), x.size(), &scale, &zp, y.data());
  for (float v : y) CHECK(v == 0.0f);
  CHECK(q.parameter_count() == 2);
  CHECK(std::string(q.parameter_arrays()[1].name) == "zero_point");
  CHECK_FALSE(q.parameter_arrays()[0].learned);
}
