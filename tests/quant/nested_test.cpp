// Nested any-precision quantization: the b-bit view is the top b bits of the 8-bit code with a
// centred zero point, the encoding grid reproduces c8 >> (8 - b) except at exact rounding ties,
// gradients against the closed forms and finite differences, initialisation and errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/nested.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

double stored_zp(code_range r) { return r == code_range::unsigned_codes ? 0.0 : r == code_range::signed_codes ? 128.0 : 127.5; }

/// zp_b = (zp_8 - (2^m - 1) / 2) / 2^m, m = 8 - b.
double view_zp(code_range r, int b) {
  const double block = std::pow(2.0, 8 - b);
  return (stored_zp(r) - (block - 1.0) / 2.0) / block;
}

std::uint8_t stored_code(float x, float step8, code_range r) {
  return quantize_code(x, 1.0f / step8, static_cast<float>(stored_zp(r)), 255.0f);
}

/// Steps of one channel: step_b = 2^(8-b) step_8 scaled by `drift` (views learn their own steps).
std::vector<float> steps(float step8, float drift) {
  std::vector<float> s(8);
  for (int b = 1; b <= 8; ++b) s[static_cast<std::size_t>(b - 1)] = step8 * std::ldexp(1.0f, 8 - b) * (b == 8 ? 1.0f : drift);
  return s;
}

}  // namespace

TEST_CASE("nested zero points: (zp_8 - (2^m - 1)/2) / 2^m, (2^b - 1)/2 for symmetric") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      nested_quantizer q = make_nested(dynamic_bits(b), r);
      CHECK(static_cast<double>(q.zero_point()) == view_zp(r, b));
      if (r == code_range::symmetric) CHECK(static_cast<double>(q.zero_point()) == (std::pow(2.0, b) - 1.0) / 2.0);
    }
  }
}

TEST_CASE("nested forward reads the top b bits of the 8-bit code and decodes with step_b") {
  for (code_range r : all_ranges) {
    const std::vector<float> s0 = steps(0.011f, 1.07f), s1 = steps(0.3f, 0.93f);
    std::vector<float> step = s0;
    step.insert(step.end(), s1.begin(), s1.end());
    std::vector<float> x = uniform_data(400, -45.0f, 45.0f, 1);
    for (std::size_t i = 200; i < 400; ++i) x[i] *= 30.0f;  // channel 1 has the larger step
    for (int b = 1; b <= 8; ++b) {
      nested_quantizer q = make_nested(dynamic_bits(b), r, 2);
      std::vector<float> y(x.size());
      q.forward(x.data(), x.size(), step.data(), y.data());
      const float zp = static_cast<float>(view_zp(r, b));
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = i / 200;
        const int view = stored_code(x[i], step[c * 8 + 7], r) >> (8 - b);
        CHECK(y[i] == step[c * 8 + static_cast<std::size_t>(b - 1)] * (static_cast<float>(view) - zp));
      }
      const affine_grid g = q.grid(step.data(), 1);
      CHECK(g.scale == step[8 + static_cast<std::size_t>(b - 1)]);
      CHECK(g.zero_point == zp);
      CHECK(g.bits == b);
    }
  }
}

TEST_CASE("nested views start centred: the level of c_b is the mean of the 8-bit levels it merges") {
  for (code_range r : all_ranges) {
    nested_quantizer q = make_nested(bits_c<8>{}, r);
    const std::vector<float> x = uniform_data(64, -1.0f, 1.0f, 2);
    std::vector<float> step(8);
    q.initialize(x.data(), x.size(), step.data());
    for (int b = 1; b < 8; ++b) {
      q.bits = b;
      const affine_grid view = q.grid(step.data(), 0);
      const int block = 1 << (8 - b);
      for (int c = 0; c <= view.max_code(); ++c) {
        double mean = 0.0;
        for (int c8 = c * block; c8 < (c + 1) * block; ++c8) mean += step[7] * (c8 - stored_zp(r)) / block;
        CHECK(static_cast<double>(view.decode(static_cast<std::uint8_t>(c))) == doctest::Approx(mean).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("nested encoding grid: encode equals c8 >> (8 - b) over many x, except at exact ties") {
  // Both roundings are of the same real u = x / step_8 + zp_8 (up to an exact power-of-two
  // scale), so they can differ only where a float lands exactly on a half-integer tie and
  // round-half-even breaks the tie differently at 8 and at b bits.
  const std::vector<float> x = uniform_data(200000, -4.0f, 4.0f, 3);
  for (code_range r : all_ranges) {
    const std::vector<float> step = steps(0.0137f, 1.0f);
    for (int b = 1; b < 8; ++b) {
      nested_quantizer q = make_nested(dynamic_bits(b), r);
      const affine_grid enc = q.encoding_grid(step.data(), 0);
      CHECK(enc.scale == step[7] * std::ldexp(1.0f, 8 - b));
      const float inv8 = 1.0f / step[7], inv_b = 1.0f / enc.scale;
      int mismatches = 0;
      for (float v : x) {
        const int shifted = stored_code(v, step[7], r) >> (8 - b);
        if (enc.encode(v) == shifted) continue;
        ++mismatches;
        const float u8 = std::fma(v, inv8, static_cast<float>(stored_zp(r)));
        const float ub = std::fma(v, inv_b, enc.zero_point);
        const bool tie = u8 - std::floor(u8) == 0.5f || ub - std::floor(ub) == 0.5f;
        CHECK_MESSAGE(tie, "x = ", v, " u8 = ", u8, " ub = ", ub);
      }
      CHECK(mismatches <= 20);  // ties are rare: about one float in 2^16 near each threshold
    }
  }
  // One exact tie: step_8 = 1, unsigned, b = 7: x = 1.5 is 8-bit code 2 (half to even), view 1;
  // the encoding grid sees 1.5 / 2 - 0.25 = 0.5 and rounds to 0. Training uses the 8-bit code.
  nested_quantizer q = make_nested(bits_c<7>{}, code_range::unsigned_codes);
  const std::vector<float> unit = steps(1.0f, 1.0f);
  const float tie = 1.5f;
  CHECK(q.encoding_grid(unit.data(), 0).encode(tie) == 0);
  float y = 0.0f;
  q.forward(&tie, 1, unit.data(), &y);
  CHECK(y == q.grid(unit.data(), 0).decode(1));
}

TEST_CASE("nested backward: LSQ gradient for step_8 at 8 bits, g_b sum dy (c_b - zp_b) below") {
  for (code_range r : all_ranges) {
    const std::vector<float> step = steps(0.02f, 1.1f);
    const std::vector<float> x = uniform_data(500, -4.0f, 4.0f, 4), dy = uniform_data(500, -1.0f, 1.0f, 5);
    const std::size_t count = 50;
    const double lo = step[7] * (0.0 - stored_zp(r)), hi = step[7] * (255.0 - stored_zp(r));
    for (int b = 1; b <= 8; ++b) {
      nested_quantizer q = make_nested(dynamic_bits(b), r, 1, count);
      std::vector<float> dx(x.size(), 4.0f), dstep(8, 0.5f);
      q.backward(x.data(), dy.data(), x.size(), step.data(), dx.data(), dstep.data());
      const double zp = view_zp(r, b);
      const double g = 1.0 / std::sqrt(static_cast<double>(count) * (std::pow(2.0, b) - 1.0 - zp));
      double sum = 0.0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const bool inside = x[i] >= lo && x[i] <= hi;
        CHECK(dx[i] == (inside ? dy[i] : 0.0f));
        const double v = static_cast<double>(x[i]) / step[7];
        if (b == 8) {  // Esser et al.: round(v) - v inside, -Q_N / Q_P clamped (levels c - zp_8)
          const double level = r == code_range::symmetric ? std::floor(v) + 0.5 : std::nearbyint(v);
          sum += dy[i] * (v <= -zp ? -zp : v >= 255.0 - zp ? 255.0 - zp : level - v);
        } else {
          sum += dy[i] * ((stored_code(x[i], step[7], r) >> (8 - b)) - zp);
        }
      }
      for (int k = 1; k <= 8; ++k) {
        const float got = dstep[static_cast<std::size_t>(k - 1)];
        if (k == b) {
          check_close(got, 0.5 + g * sum, 1e-6 * (1.0 + std::fabs(0.5 + g * sum)));
        } else {
          CHECK(got == 0.5f);  // only the active width's step learns
        }
      }
    }
  }
}

TEST_CASE("nested step_b gradient equals finite differences (codes do not depend on step_b)") {
  const std::vector<float> x = uniform_data(300, -3.0f, 3.0f, 6), dy = uniform_data(300, -1.0f, 1.0f, 7);
  for (code_range r : all_ranges) {
    for (int b = 1; b < 8; ++b) {
      std::vector<float> step = steps(0.02f, 0.9f);
      nested_quantizer q = make_nested(dynamic_bits(b), r, 1, 300);
      std::vector<float> dx(x.size()), dstep(8, 0.0f), up(x.size()), down(x.size());
      q.backward(x.data(), dy.data(), x.size(), step.data(), dx.data(), dstep.data());
      const std::size_t k = static_cast<std::size_t>(b - 1);
      const float s = step[k];
      step[k] = s * 1.01f;
      q.forward(x.data(), x.size(), step.data(), up.data());
      const float s_up = step[k];
      step[k] = s * 0.99f;
      q.forward(x.data(), x.size(), step.data(), down.data());
      const double delta = static_cast<double>(s_up) - step[k];
      double fd = 0.0, tolerance = 1e-9;
      for (std::size_t i = 0; i < x.size(); ++i) {
        fd += dy[i] * (static_cast<double>(up[i]) - down[i]) / delta;
        tolerance += 2.0 * std::fabs(dy[i]) * (std::fabs(up[i]) + std::fabs(down[i])) * 0x1p-24 / delta;
      }
      check_close(dstep[k] / q.gradient_scale(), fd, tolerance + 1e-6 * std::fabs(fd));
    }
  }
}

TEST_CASE("nested init: step_8 = 2 mean|x| / sqrt(Q_P(8)), step_b = 2^(8-b) step_8") {
  const std::vector<float> x = uniform_data(200, -0.5f, 1.5f, 8);
  for (code_range r : all_ranges) {
    nested_quantizer q = make_nested(bits_c<3>{}, r, 2);
    std::vector<float> step(16);
    q.initialize(x.data(), x.size(), step.data());
    for (std::size_t c = 0; c < 2; ++c) {
      double mean_abs = 0.0;
      for (std::size_t i = c * 100; i < c * 100 + 100; ++i) mean_abs += std::fabs(x[i]) / 100.0;
      const double s8 = 2.0 * mean_abs / std::sqrt(255.0 - stored_zp(r));
      CHECK(static_cast<double>(step[c * 8 + 7]) == doctest::Approx(s8).epsilon(1e-6));
      for (int b = 1; b < 8; ++b) {
        CHECK(step[c * 8 + static_cast<std::size_t>(b - 1)] == step[c * 8 + 7] * std::ldexp(1.0f, 8 - b));
      }
    }
  }
}

TEST_CASE("nested binary view: symmetric 1-bit view is +-step_1/2, the sign of the 8-bit code") {
  nested_quantizer q = make_nested(bits_c<1>{}, code_range::symmetric);
  const std::vector<float> step = steps(0.01f, 1.0f);  // step_1 = 1.28
  const std::vector<float> x{-0.9f, -0.001f, 0.001f, 0.7f};
  std::vector<float> y(4);
  q.forward(x.data(), x.size(), step.data(), y.data());
  CHECK(q.zero_point() == 0.5f);
  CHECK(y == std::vector<float>{-0.64f, -0.64f, 0.64f, 0.64f});
}

TEST_CASE("nested errors name the value and what was expected") {
  nested_quantizer q = make_nested(bits_c<4>{}, code_range::signed_codes, 2);
  std::vector<float> x(4, 0.1f), y(4), step(16, 0.1f);
  step[8 + 3] = 0.0f;  // channel 1, 4 bits
  std::string m = test::thrown_message<error>([&] { q.forward(x.data(), 4, step.data(), y.data()); });
  CHECK(m.find("step[11] = 0") != std::string::npos);
  step[11] = 0.1f;
  CHECK_THROWS_AS(q.forward(x.data(), 3, step.data(), y.data()), shape_error);
  q.bits = 0;
  CHECK_THROWS_AS(q.forward(x.data(), 4, step.data(), y.data()), bit_width_error);
  q.bits = 4;
  q.count = 0;
  CHECK_THROWS_AS(q.backward(x.data(), x.data(), 4, step.data(), y.data(), step.data()), error);
  CHECK_THROWS_AS(make_nested(dynamic_bits(9)), bit_width_error);
  CHECK(q.parameter_count() == 16);
  CHECK(q.parameter_arrays()[0].size == 16);
}

TEST_CASE("nested is deterministic: same input, same output bit for bit") {
  const std::vector<float> x = uniform_data(900, -2.0f, 2.0f, 9), dy = uniform_data(900, -1.0f, 1.0f, 10);
  const std::vector<float> step = steps(0.01f, 1.05f);
  for (int b : {2, 8}) {
    nested_quantizer q = make_nested(dynamic_bits(b), code_range::signed_codes, 1, 900);
    std::vector<float> y1(900), y2(900), dx1(900), dx2(900), ds1(8), ds2(8);
    q.forward(x.data(), x.size(), step.data(), y1.data());
    q.forward(x.data(), x.size(), step.data(), y2.data());
    q.backward(x.data(), dy.data(), x.size(), step.data(), dx1.data(), ds1.data());
    q.backward(x.data(), dy.data(), x.size(), step.data(), dx2.data(), ds2.data());
    CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)) == 0);
    CHECK(ds1 == ds2);
  }
}
