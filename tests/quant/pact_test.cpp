// PACT: forward against the paper's clip-and-round formula, backward against its straight-through
// form, the clip gradient against finite differences at x >= alpha, initialisation and errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/pact.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

}  // namespace

TEST_CASE("PACT forward: round(clip(x, 0, alpha) (2^b-1)/alpha) alpha/(2^b-1)") {
  const std::vector<float> x = uniform_data(500, -2.0f, 8.0f, 1);
  const float alpha = 5.3f;
  for (int b = 1; b <= 8; ++b) {
    pact_quantizer q = make_pact(dynamic_bits(b));
    std::vector<float> y(x.size());
    q.forward(x.data(), x.size(), &alpha, y.data());
    const double levels = std::pow(2.0, b) - 1.0;
    const float scale = alpha / static_cast<float>(levels);
    CHECK(q.grid(&alpha).scale == scale);
    CHECK(q.grid(&alpha).zero_point == 0.0f);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double clipped = std::fmin(std::fmax(static_cast<double>(x[i]), 0.0), alpha);
      CHECK(static_cast<double>(y[i]) == doctest::Approx(std::nearbyint(clipped * levels / alpha) * alpha / levels).epsilon(1e-6));
      const std::uint8_t c = quantize_code(x[i], 1.0f / scale, 0.0f, static_cast<float>(levels));
      CHECK(y[i] == scale * static_cast<float>(c));  // bit for bit decode(encode(x))
    }
  }
}

TEST_CASE("PACT backward: dx = dy for 0 <= x < alpha, dalpha accumulates sum dy over x >= alpha") {
  const std::vector<float> x = uniform_data(400, -1.0f, 4.0f, 2), dy = uniform_data(400, -1.0f, 1.0f, 3);
  const float alpha = 2.5f;
  pact_quantizer q = make_pact(bits_c<3>{});
  std::vector<float> dx(x.size(), -7.0f);
  float dalpha = 0.75f;
  q.backward(x.data(), dy.data(), x.size(), &alpha, dx.data(), &dalpha);
  double expected = 0.75;
  int clipped = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(dx[i] == (x[i] >= 0.0f && x[i] < alpha ? dy[i] : 0.0f));
    if (x[i] >= alpha) {
      expected += dy[i];
      ++clipped;
    }
  }
  CHECK(clipped > 50);
  CHECK(static_cast<double>(dalpha) == doctest::Approx(expected).epsilon(1e-6));
}

TEST_CASE("PACT clip gradient equals finite differences at x >= alpha (= 1 per element)") {
  const std::vector<float> x = uniform_data(100, 3.0f, 9.0f, 4), dy = uniform_data(100, -1.0f, 1.0f, 5);
  for (int b : {1, 2, 4, 8}) {
    const float alpha = 2.0f;
    pact_quantizer q = make_pact(dynamic_bits(b));
    std::vector<float> dx(x.size()), up(x.size()), down(x.size());
    float dalpha = 0.0f;
    q.backward(x.data(), dy.data(), x.size(), &alpha, dx.data(), &dalpha);
    const float a_up = alpha + 1e-2f, a_down = alpha - 1e-2f;
    q.forward(x.data(), x.size(), &a_up, up.data());
    q.forward(x.data(), x.size(), &a_down, down.data());
    const double fd = (weighted_sum(up, dy) - weighted_sum(down, dy)) / (static_cast<double>(a_up) - a_down);
    double sum_dy = 0.0;
    for (float d : dy) sum_dy += d;
    CHECK(fd == doctest::Approx(sum_dy).epsilon(1e-3));
    CHECK(static_cast<double>(dalpha) == doctest::Approx(fd).epsilon(1e-3));
  }
}

TEST_CASE("PACT init: config value, or the nearest-rank percentile of the data") {
  pact_quantizer q = make_pact(bits_c<4>{}, 6.0f);
  float alpha = 0.0f;
  q.initialize(nullptr, 0, &alpha);
  CHECK(alpha == 6.0f);
  std::vector<float> x(1000);
  for (std::size_t i = 0; i < x.size(); ++i) x[(i * 367) % 1000] = static_cast<float>(i + 1);  // 1..1000, shuffled
  q.init_percentile = 99.0f;
  q.initialize(x.data(), x.size(), &alpha);
  CHECK(alpha == 990.0f);
  q.init_percentile = 100.0f;
  q.initialize(x.data(), x.size(), &alpha);
  CHECK(alpha == 1000.0f);
  q.init_percentile = 0.05f;
  q.initialize(x.data(), x.size(), &alpha);
  CHECK(alpha == 1.0f);
  std::vector<float> negative(10, -1.0f);
  q.init_percentile = 50.0f;
  q.initialize(negative.data(), negative.size(), &alpha);
  CHECK(alpha == 6.0f);  // falls back to init_alpha
}

TEST_CASE("PACT errors name the value and what was expected") {
  pact_quantizer q = make_pact(bits_c<2>{});
  std::vector<float> x(4, 1.0f), y(4);
  float alpha = -1.0f;
  std::string m = test::thrown_message<error>([&] { q.forward(x.data(), 4, &alpha, y.data()); });
  CHECK(m.find("alpha[0] = -1") != std::string::npos);
  alpha = 1.0f;
  q.init_percentile = 101.0f;
  m = test::thrown_message<error>([&] { q.initialize(x.data(), 4, &alpha); });
  CHECK(m.find("101") != std::string::npos);
  q.init_percentile = 0.0f;
  q.init_alpha = 0.0f;
  CHECK_THROWS_AS(q.initialize(x.data(), 4, &alpha), error);
  q.bits = 9;
  CHECK_THROWS_AS(q.forward(x.data(), 4, &alpha, y.data()), bit_width_error);
  CHECK_THROWS_AS(q.grid(&alpha, 1), error);
  CHECK(q.parameter_count() == 1);
}

TEST_CASE("PACT is deterministic: same input, same output bit for bit") {
  const std::vector<float> x = uniform_data(777, -1.0f, 5.0f, 8), dy = uniform_data(777, -1.0f, 1.0f, 9);
  const float alpha = 3.0f;
  pact_quantizer q = make_pact(bits_c<2>{});
  std::vector<float> y1(777), y2(777), dx1(777), dx2(777);
  float da1 = 0, da2 = 0;
  q.forward(x.data(), x.size(), &alpha, y1.data());
  q.forward(x.data(), x.size(), &alpha, y2.data());
  q.backward(x.data(), dy.data(), x.size(), &alpha, dx1.data(), &da1);
  q.backward(x.data(), dy.data(), x.size(), &alpha, dx2.data(), &da2);
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)) == 0);
  CHECK(da1 == da2);
}
