// Kaiming initialisation: sample mean and variance against 2 / fan_in within a few standard
// errors, the uniform bound, the normal shape (one-sigma mass), and seeded reproducibility.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "anybit/nn/init.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct moments {
  double mean = 0, variance = 0;
};

moments moments_of(const dense_tensor& t) {
  double sum = 0;
  for (const float v : t) sum += v;
  moments m;
  m.mean = sum / static_cast<double>(t.size());
  for (const float v : t) m.variance += (v - m.mean) * (v - m.mean);
  m.variance /= static_cast<double>(t.size());
  return m;
}

}  // namespace

TEST_CASE("Kaiming normal: mean 0 and variance 2 / fan_in, 68.3 % of the mass within one sigma") {
  dense_tensor w(dense_shape{200, 50, 3, 3});  // fan_in 450, 90000 samples
  xoshiro256ss rng(42);
  nn::kaiming_init(w, rng, nn::kaiming_distribution::normal);
  const double n = static_cast<double>(w.size()), variance = 2.0 / 450.0, sigma = std::sqrt(variance);
  const moments m = moments_of(w);
  // Standard errors: sigma / sqrt(n) for the mean, variance * sqrt(2 / n) for the variance.
  CHECK(std::abs(m.mean) < 5.0 * sigma / std::sqrt(n));
  CHECK(std::abs(m.variance - variance) < 5.0 * variance * std::sqrt(2.0 / n));
  const auto inside = static_cast<double>(std::count_if(w.begin(), w.end(), [&](float v) { return std::abs(v) < sigma; }));
  const double p = 0.682689492137;  // P(|Z| < 1)
  CHECK(std::abs(inside / n - p) < 5.0 * std::sqrt(p * (1 - p) / n));
}

TEST_CASE("Kaiming uniform: inside +-sqrt(6 / fan_in), variance 2 / fan_in, fills the range") {
  dense_tensor w(dense_shape{300, 256});  // fan_in 256
  xoshiro256ss rng(7);
  nn::kaiming_init(w, rng, nn::kaiming_distribution::uniform);
  const double bound = std::sqrt(6.0 / 256.0), variance = 2.0 / 256.0, n = static_cast<double>(w.size());
  const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
  CHECK(*lo >= -bound);
  CHECK(*hi <= bound);
  CHECK(*lo < -0.99 * bound);
  CHECK(*hi > 0.99 * bound);
  const moments m = moments_of(w);
  CHECK(std::abs(m.mean) < 5.0 * std::sqrt(variance / n));
  // A uniform variable's sample variance has standard error variance * sqrt(0.8 / n).
  CHECK(std::abs(m.variance - variance) < 5.0 * variance * std::sqrt(0.8 / n));
}

TEST_CASE("Kaiming init replays from a seed and differs between seeds") {
  dense_tensor a(dense_shape{16, 9}), b(dense_shape{16, 9}), c(dense_shape{16, 9});
  xoshiro256ss r1(5), r2(5), r3(6);
  nn::kaiming_init(a, r1);
  nn::kaiming_init(b, r2);
  nn::kaiming_init(c, r3);
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) != 0);
}

TEST_CASE("fan-in is every extent but the first, and bad shapes or gains throw") {
  CHECK(nn::fan_in_of(dense_shape{64, 32, 3, 3}) == 288);
  CHECK(nn::fan_in_of(dense_shape{10, 784}) == 784);
  CHECK_THROWS_AS(nn::fan_in_of(dense_shape{10}), shape_error);
  dense_tensor w(dense_shape{2, 2});
  xoshiro256ss rng(1);
  CHECK_THROWS_AS(nn::kaiming_init(w, 0, rng), shape_error);
  CHECK(test::thrown_message<error>([&] { nn::kaiming_init(w, 4, rng, nn::kaiming_distribution::normal, -1.0); })
            .find("gain -1") != std::string::npos);
}
