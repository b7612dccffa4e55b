// The affine grid every policy reduces to: zero points of the three code ranges, encode/decode
// round trips for every range and width, encode as nearest level (brute force), binary +-1.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "anybit/core/random.hpp"
#include "anybit/quant/grid.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

bool usable(code_range r, int b) { return !(r == code_range::signed_codes && b == 1); }

/// The zero points written out from their definitions.
double expected_zero_point(code_range r, int b) {
  switch (r) {
    case code_range::unsigned_codes: return 0.0;
    case code_range::signed_codes: return std::pow(2.0, b - 1);
    case code_range::symmetric: return (std::pow(2.0, b) - 1.0) / 2.0;
  }
  return -1.0;
}

}  // namespace

TEST_CASE("range_zero_point: 0, 2^(b-1) and (2^b-1)/2, signed needs 2 bits") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (!usable(r, b)) continue;
      CHECK(static_cast<double>(range_zero_point(r, b)) == expected_zero_point(r, b));
    }
  }
  const std::string m = test::thrown_message<bit_width_error>([] { range_zero_point(code_range::signed_codes, 1); });
  CHECK(m.find("1 bit") != std::string::npos);
  CHECK(m.find("symmetric") != std::string::npos);
  CHECK_THROWS_AS(range_zero_point(code_range::unsigned_codes, 0), bit_width_error);
  CHECK_THROWS_AS(range_zero_point(code_range::symmetric, 9), bit_width_error);
}

TEST_CASE("grid levels and round trip for every code range and width 1..8") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (!usable(r, b)) continue;
      for (float scale : {0.37f, 2.0f, 1e-3f}) {
        const affine_grid g{scale, range_zero_point(r, b), b};
        REQUIRE(static_cast<int>(g.max_code()) == (1 << b) - 1);
        for (int c = 0; c <= g.max_code(); ++c) {
          const auto code = static_cast<std::uint8_t>(c);
          const double level = static_cast<double>(scale) * (c - expected_zero_point(r, b));
          CHECK(static_cast<double>(g.decode(code)) == doctest::Approx(level).epsilon(1e-6));
          CHECK(g.encode(g.decode(code)) == code);
          if (r == code_range::symmetric) {  // levels mirror around 0
            CHECK(g.decode(code) == -g.decode(static_cast<std::uint8_t>(g.max_code() - c)));
          }
        }
        CHECK(g.lowest() == g.decode(0));
        CHECK(g.highest() == g.decode(g.max_code()));
        CHECK(g.encode(g.lowest() - 10.0f * scale) == 0);
        CHECK(g.encode(g.highest() + 10.0f * scale) == g.max_code());
      }
    }
  }
}

TEST_CASE("binary +-1 is the symmetric 1-bit grid with scale 2") {
  const affine_grid g{2.0f, range_zero_point(code_range::symmetric, 1), 1};
  CHECK(g.zero_point == 0.5f);
  CHECK(g.decode(0) == -1.0f);
  CHECK(g.decode(1) == 1.0f);
  CHECK(g.encode(0.3f) == 1);
  CHECK(g.encode(-0.3f) == 0);
  CHECK(g.encode(7.0f) == 1);
  CHECK(g.encode(-7.0f) == 0);
}

TEST_CASE("encode picks the nearest level, clamps outside and maps NaN to 0 (brute force)") {
  xoshiro256ss rng(11);
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (!usable(r, b)) continue;
      const affine_grid g{0.173f, range_zero_point(r, b), b};
      const double lo = g.lowest(), hi = g.highest();
      for (int trial = 0; trial < 400; ++trial) {
        const float xf = static_cast<float>(lo - 2.0 * g.scale + (hi - lo + 4.0 * g.scale) * rng.uniform01());
        const double x = xf;
        int best = 0;
        double best_distance = std::numeric_limits<double>::infinity();
        for (int c = 0; c <= g.max_code(); ++c) {
          const double distance = std::fabs(x - static_cast<double>(g.scale) * (c - expected_zero_point(r, b)));
          if (distance < best_distance) {
            best = c;
            best_distance = distance;
          }
        }
        CHECK(static_cast<int>(g.encode(xf)) == best);
      }
      CHECK(g.encode(std::numeric_limits<float>::quiet_NaN()) == 0);
    }
  }
}

TEST_CASE("affine_grid::check names the bad field") {
  CHECK_NOTHROW(affine_grid{0.5f, 1.5f, 3}.check());
  CHECK_THROWS_AS(affine_grid({0.5f, 0.0f, 0}).check(), bit_width_error);
  const std::string m = test::thrown_message<error>([] { affine_grid{-0.5f, 0.0f, 4}.check(); });
  CHECK(m.find("scale = -0.5") != std::string::npos);
  CHECK_THROWS_AS(affine_grid({std::numeric_limits<float>::infinity(), 0.0f, 4}).check(), error);
  CHECK_THROWS_AS(affine_grid({1.0f, std::numeric_limits<float>::quiet_NaN(), 4}).check(), error);
}
