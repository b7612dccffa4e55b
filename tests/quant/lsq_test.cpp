// LSQ: forward against an independent decode(encode(x)), backward against the paper's
// element-wise formulas (Esser et al. 2020, with Q_N / Q_P per code range), the step gradient
// against finite differences where it is genuinely differentiable, initialisation and errors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/lsq.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

/// d x_hat / d s of one element (Esser et al. eq. 3).
double paper_step_gradient(code_range r, int b, double v) {
  if (v <= -paper_q_n(r, b)) return -paper_q_n(r, b);
  if (v >= paper_q_p(r, b)) return paper_q_p(r, b);
  return nearest_level(r, v) - v;
}

/// `per_channel` values per channel c, uniform over [-(Q_N + 2), Q_P + 2] steps of channel c.
std::vector<float> spread_over_range(code_range r, int b, const std::vector<float>& step, std::size_t per_channel,
                                     std::uint64_t seed) {
  xoshiro256ss rng(seed);
  std::vector<float> x;
  for (float s : step) {
    const double lo = -paper_q_n(r, b) - 2.0, hi = paper_q_p(r, b) + 2.0;
    for (std::size_t i = 0; i < per_channel; ++i) x.push_back(static_cast<float>(s * (lo + (hi - lo) * rng.uniform01())));
  }
  return x;
}

}  // namespace

TEST_CASE("LSQ forward is decode(encode(x)) computed independently, every range and width") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (r == code_range::signed_codes && b == 1) continue;
      const std::vector<float> step{0.07f, 0.5f, 0.013f};
      const std::vector<float> x = spread_over_range(r, b, step, 64, 100 + static_cast<std::uint64_t>(b));
      lsq_quantizer q = make_lsq(dynamic_bits(b), r, 3);
      std::vector<float> y(x.size());
      q.forward(x.data(), x.size(), step.data(), y.data());
      const float zp = static_cast<float>(paper_q_n(r, b));
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float s = step[i / 64];
        const std::uint8_t c = quantize_code(x[i], 1.0f / s, zp, static_cast<float>((1 << b) - 1));
        CHECK(y[i] == s * (static_cast<float>(c) - zp));
        // and the paper's form s * round(clip(v, -Q_N, Q_P)), up to float rounding
        const double v = std::fmin(std::fmax(static_cast<double>(x[i]) / s, -paper_q_n(r, b)), paper_q_p(r, b));
        CHECK(static_cast<double>(y[i]) == doctest::Approx(s * nearest_level(r, v)).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("LSQ backward equals the paper's element-wise formulas with g = 1/sqrt(count Q_P)") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (r == code_range::signed_codes && b == 1) continue;
      const std::vector<float> step{0.07f, 0.5f, 0.013f};
      const std::size_t per = 80, count = 37;
      const std::vector<float> x = spread_over_range(r, b, step, per, 200 + static_cast<std::uint64_t>(b));
      const std::vector<float> dy = uniform_data(x.size(), -1.0f, 1.0f, 300 + static_cast<std::uint64_t>(b));
      lsq_quantizer q = make_lsq(dynamic_bits(b), r, 3, count);
      std::vector<float> dx(x.size(), 99.0f), dstep{0.25f, -0.5f, 1.0f};
      const std::vector<float> before = dstep;
      q.backward(x.data(), dy.data(), x.size(), step.data(), dx.data(), dstep.data());
      const double g = 1.0 / std::sqrt(static_cast<double>(count) * paper_q_p(r, b));
      CHECK(q.gradient_scale() == doctest::Approx(g).epsilon(1e-12));
      for (std::size_t c = 0; c < 3; ++c) {
        double sum = 0.0, magnitude = 0.0;
        for (std::size_t i = c * per; i < (c + 1) * per; ++i) {
          const double v = static_cast<double>(x[i]) / step[c];
          const bool inside = v >= -paper_q_n(r, b) && v <= paper_q_p(r, b);
          CHECK(dx[i] == (inside ? dy[i] : 0.0f));
          const double term = dy[i] * paper_step_gradient(r, b, v);
          sum += term;
          magnitude += std::fabs(term);
        }
        check_close(dstep[c], before[c] + g * sum, 1e-6 * (2.0 + g * magnitude));
      }
    }
  }
}

TEST_CASE("LSQ step gradient matches finite differences where the forward is differentiable") {
  // Elements near level centres: small changes of s keep every code, so the forward s (c - zp)
  // is linear in s and FD gives sum dy (c - zp). LSQ's ds / g is that minus the STE part
  // sum dy v over inside elements, and exactly -Q_N or Q_P on clamped elements.
  for (code_range r : all_ranges) {
    for (int b : {1, 2, 4, 8}) {
      if (r == code_range::signed_codes && b == 1) continue;
      const float s = 0.3f;
      const double zp = paper_q_n(r, b), top = std::pow(2.0, b) - 1.0;
      xoshiro256ss rng(500 + static_cast<std::uint64_t>(b));
      std::vector<float> centred, clamped;
      for (int i = 0; i < 60; ++i) {  // level centres +- 0.1 step (the end ones may fall just outside)
        const double code = std::floor(rng.uniform01() * (top + 1.0));
        centred.push_back(static_cast<float>(s * (code - zp + 0.2 * rng.uniform01() - 0.1)));
        const double out = 3.0 + 5.0 * rng.uniform01();
        clamped.push_back(static_cast<float>(i % 2 ? s * (top - zp + out) : s * (-zp - out)));
      }
      for (const std::vector<float>* x : {&centred, &clamped}) {
        const std::vector<float> dy = uniform_data(x->size(), -1.0f, 1.0f, 9);
        lsq_quantizer q = make_lsq(dynamic_bits(b), r, 1, 10);
        std::vector<float> dx(x->size()), y_up(x->size()), y_down(x->size());
        float dstep = 0.0f;
        q.backward(x->data(), dy.data(), x->size(), &s, dx.data(), &dstep);
        const float s_up = s * (1.0f + 1e-3f), s_down = s * (1.0f - 1e-3f);
        q.forward(x->data(), x->size(), &s_up, y_up.data());
        q.forward(x->data(), x->size(), &s_down, y_down.data());
        const double delta = static_cast<double>(s_up) - s_down;
        const double fd = (weighted_sum(y_up, dy) - weighted_sum(y_down, dy)) / delta;
        double ste = 0.0, clamped_part = 0.0, tolerance = 1e-9;
        int inside = 0;
        for (std::size_t i = 0; i < x->size(); ++i) {
          CHECK(q.grid(&s_up, 0).encode((*x)[i]) == q.grid(&s_down, 0).encode((*x)[i]));  // codes held
          const double v = static_cast<double>((*x)[i]) / s;
          if (v >= -zp && v <= top - zp) {
            ste += dy[i] * v;
            ++inside;
          } else {
            clamped_part += dy[i] * (v > 0.0 ? top - zp : -zp);
          }
          // each forward value carries one float rounding: |y| 2^-24
          tolerance += std::fabs(dy[i]) * (std::fabs(y_up[i]) + std::fabs(y_down[i])) * 0x1p-24 / delta;
        }
        if (x == &clamped) {
          CHECK(inside == 0);
        } else {
          CHECK(inside > 20);  // only end codes can fall outside (every code at 1 bit)
        }
        check_close(dstep / q.gradient_scale() + ste, fd, 2.0 * tolerance + 1e-6 * std::fabs(fd));
        if (x == &clamped) check_close(fd, clamped_part, 2.0 * tolerance);  // exactly -Q_N / Q_P each
      }
    }
  }
}

TEST_CASE("LSQ init: s = 2 mean|x| / sqrt(Q_P) per channel, all-zero data gets 1") {
  std::vector<float> x = uniform_data(120, -2.0f, 1.0f, 21);
  for (std::size_t i = 80; i < 120; ++i) x[i] = 0.0f;  // channel 2 is dead
  for (code_range r : all_ranges) {
    for (int b : {1, 3, 8}) {
      if (r == code_range::signed_codes && b == 1) continue;
      lsq_quantizer q = make_lsq(dynamic_bits(b), r, 3);
      std::vector<float> step(3, -1.0f);
      q.initialize(x.data(), x.size(), step.data());
      for (std::size_t c = 0; c < 2; ++c) {
        double mean_abs = 0.0;
        for (std::size_t i = c * 40; i < c * 40 + 40; ++i) mean_abs += std::fabs(x[i]) / 40.0;
        CHECK(static_cast<double>(step[c]) == doctest::Approx(2.0 * mean_abs / std::sqrt(paper_q_p(r, b))).epsilon(1e-6));
      }
      CHECK(step[2] == 1.0f);
    }
  }
}

TEST_CASE("LSQ binary weights: symmetric 1-bit grid gives +-s/2") {
  lsq_quantizer q = make_lsq(bits_c<1>{}, code_range::symmetric);
  const float s = 2.0f;
  const std::vector<float> x{-3.0f, -0.2f, 0.1f, 4.0f};
  std::vector<float> y(4);
  q.forward(x.data(), x.size(), &s, y.data());
  CHECK(y == std::vector<float>{-1.0f, -1.0f, 1.0f, 1.0f});
  CHECK(q.grid(&s, 0).zero_point == 0.5f);
}

TEST_CASE("LSQ errors name the value and what was expected") {
  std::vector<float> x(12, 0.5f), y(12), dx(12), step{0.1f, 0.2f, 0.3f}, dstep(3);
  lsq_quantizer q = make_lsq(bits_c<4>{}, code_range::signed_codes, 3);
  std::string m = test::thrown_message<shape_error>([&] { q.forward(x.data(), 11, step.data(), y.data()); });
  CHECK(m.find("n = 11") != std::string::npos);
  step[1] = 0.0f;
  m = test::thrown_message<error>([&] { q.backward(x.data(), x.data(), 12, step.data(), dx.data(), dstep.data()); });
  CHECK(m.find("step[1] = 0") != std::string::npos);
  CHECK(m.find("expected a finite value > 0") != std::string::npos);
  step[1] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(q.forward(x.data(), 12, step.data(), y.data()), error);
  step[1] = 0.2f;
  q.count = 0;
  m = test::thrown_message<error>([&] { q.backward(x.data(), x.data(), 12, step.data(), dx.data(), dstep.data()); });
  CHECK(m.find("count = 0") != std::string::npos);
  q.count = 1;
  q.bits = 1;  // signed codes need 2 bits
  CHECK_THROWS_AS(q.forward(x.data(), 12, step.data(), y.data()), bit_width_error);
  q.bits = 9;
  m = test::thrown_message<bit_width_error>([&] { q.forward(x.data(), 12, step.data(), y.data()); });
  CHECK(m.find("= 9") != std::string::npos);
  CHECK_THROWS_AS(make_lsq(dynamic_bits(0), code_range::unsigned_codes), bit_width_error);
  q.bits = 4;
  x[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(q.initialize(x.data(), 12, step.data()), error);
  CHECK_THROWS_AS(q.grid(step.data(), 3), shape_error);
  CHECK(q.parameter_count() == 3);
  CHECK(std::string(q.parameter_arrays()[0].name) == "step");
}

TEST_CASE("LSQ is deterministic: same input, same output bit for bit") {
  const std::vector<float> step{0.05f, 0.11f};
  const std::vector<float> x = spread_over_range(code_range::signed_codes, 3, step, 500, 77);
  const std::vector<float> dy = uniform_data(x.size(), -1.0f, 1.0f, 78);
  lsq_quantizer q = make_lsq(bits_c<3>{}, code_range::signed_codes, 2, 500);
  std::vector<float> y1(x.size()), y2(x.size()), dx1(x.size()), dx2(x.size()), ds1(2), ds2(2);
  q.forward(x.data(), x.size(), step.data(), y1.data());
  q.forward(x.data(), x.size(), step.data(), y2.data());
  q.backward(x.data(), dy.data(), x.size(), step.data(), dx1.data(), ds1.data());
  q.backward(x.data(), dy.data(), x.size(), step.data(), dx2.data(), ds2.data());
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(ds1.data(), ds2.data(), ds1.size() * sizeof(float)) == 0);
  std::vector<float> in_place = dy;  // dx may be dy
  q.backward(x.data(), in_place.data(), x.size(), step.data(), in_place.data(), ds2.data());
  CHECK(std::memcmp(dx1.data(), in_place.data(), dx1.size() * sizeof(float)) == 0);
}
