// LSQ+: the offset grid (fractional zero point zp - beta / s), backward against the paper's
// element-wise formulas on u = (x - beta) / s, offset and step gradients against finite
// differences, initialisation and errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/lsq_plus.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

/// Bound on the FD error from one float rounding per forward value.
double fd_tolerance(const std::vector<float>& up, const std::vector<float>& down, const std::vector<float>& dy,
                    double delta) {
  double t = 1e-9;
  for (std::size_t i = 0; i < up.size(); ++i) t += std::fabs(dy[i]) * (std::fabs(up[i]) + std::fabs(down[i])) * 0x1p-24 / delta;
  return 2.0 * t;
}

}  // namespace

TEST_CASE("LSQ+ forward: grid {s, zp - beta/s, b}, equal to s * level(u) + beta") {
  for (code_range r : all_ranges) {
    for (int b = 1; b <= 8; ++b) {
      if (r == code_range::signed_codes && b == 1) continue;
      const std::vector<float> step{0.07f, 0.4f}, offset{-0.3f, 1.7f};
      lsq_plus_quantizer q = make_lsq_plus(dynamic_bits(b), r, 2);
      std::vector<float> x = uniform_data(100, -1.0f, 1.0f, 40 + static_cast<std::uint64_t>(b));
      for (std::size_t i = 0; i < x.size(); ++i) {  // spread over the range and beyond
        const std::size_t c = i / 50;
        x[i] = offset[c] + step[c] * static_cast<float>((x[i] + 1.0) / 2.0 * (paper_q_n(r, b) + paper_q_p(r, b) + 4.0) -
                                                        paper_q_n(r, b) - 2.0);
      }
      std::vector<float> y(x.size());
      q.forward(x.data(), x.size(), step.data(), offset.data(), y.data());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = i / 50;
        const float zp = static_cast<float>(paper_q_n(r, b)) - offset[c] / step[c];
        CHECK(q.grid(step.data(), offset.data(), c).zero_point == zp);
        const std::uint8_t code = quantize_code(x[i], 1.0f / step[c], zp, static_cast<float>((1 << b) - 1));
        CHECK(y[i] == step[c] * (static_cast<float>(code) - zp));
        const double u = std::fmin(std::fmax((static_cast<double>(x[i]) - offset[c]) / step[c], -paper_q_n(r, b)),
                                   paper_q_p(r, b));
        check_close(y[i], step[c] * nearest_level(r, u) + offset[c], 1e-5 * (1.0 + 260.0 * step[c]));
      }
    }
  }
}

TEST_CASE("LSQ+ backward equals the paper's formulas: ds on u, dbeta = g on clamped elements") {
  for (code_range r : all_ranges) {
    for (int b : {1, 2, 3, 4, 8}) {
      if (r == code_range::signed_codes && b == 1) continue;
      const std::vector<float> step{0.05f, 0.3f}, offset{0.4f, -2.0f};
      const std::size_t per = 90, count = 123;
      std::vector<float> x = uniform_data(2 * per, 0.0f, 1.0f, 60 + static_cast<std::uint64_t>(b));
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = i / per;
        x[i] = offset[c] + step[c] * static_cast<float>(x[i] * (paper_q_n(r, b) + paper_q_p(r, b) + 6.0) - paper_q_n(r, b) - 3.0);
      }
      const std::vector<float> dy = uniform_data(x.size(), -1.0f, 1.0f, 61);
      lsq_plus_quantizer q = make_lsq_plus(dynamic_bits(b), r, 2, count);
      std::vector<float> dx(x.size(), 5.0f), dstep{0.5f, 0.0f}, doffset{-1.0f, 0.25f};
      const std::vector<float> step_before = dstep, offset_before = doffset;
      q.backward(x.data(), dy.data(), x.size(), step.data(), offset.data(), dx.data(), dstep.data(), doffset.data());
      const double g = 1.0 / std::sqrt(static_cast<double>(count) * paper_q_p(r, b));
      for (std::size_t c = 0; c < 2; ++c) {
        double ds = 0.0, dbeta = 0.0, magnitude = 0.0;
        for (std::size_t i = c * per; i < (c + 1) * per; ++i) {
          const double u = (static_cast<double>(x[i]) - offset[c]) / step[c];
          const bool below = u <= -paper_q_n(r, b), above = u >= paper_q_p(r, b);
          const bool inside = !below && !above;
          ds += dy[i] * (below ? -paper_q_n(r, b) : above ? paper_q_p(r, b) : nearest_level(r, u) - u);
          dbeta += inside ? 0.0 : dy[i];
          magnitude += std::fabs(dy[i]) * (paper_q_p(r, b) + paper_q_n(r, b) + 1.0);
          if (u > -paper_q_n(r, b) && u < paper_q_p(r, b)) CHECK(dx[i] == dy[i]);
          if (below || above) CHECK(dx[i] == 0.0f);
        }
        check_close(dstep[c], step_before[c] + g * ds, 1e-6 * (2.0 + g * magnitude));
        check_close(doffset[c], offset_before[c] + g * dbeta, 1e-6 * (2.0 + g * magnitude));
      }
    }
  }
}

TEST_CASE("LSQ+ offset and step gradients match finite differences with codes held") {
  // With every code held, x_hat = s (c - zp) + beta: FD in beta is sum dy, FD in s is
  // sum dy (c - zp). LSQ+ gives g * (that - the STE part on inside elements).
  for (code_range r : all_ranges) {
    for (int b : {1, 4, 8}) {
      if (r == code_range::signed_codes && b == 1) continue;
      const float s = 0.2f, beta = 0.75f;
      const double zp = paper_q_n(r, b), top = std::pow(2.0, b) - 1.0;
      xoshiro256ss rng(800 + static_cast<std::uint64_t>(b));
      std::vector<float> centred, clamped;
      for (int i = 0; i < 50; ++i) {
        const double code = std::floor(rng.uniform01() * (top + 1.0));
        centred.push_back(static_cast<float>(beta + s * (code - zp + 0.2 * rng.uniform01() - 0.1)));
        const double out = 2.0 + 4.0 * rng.uniform01();
        clamped.push_back(static_cast<float>(beta + (i % 2 ? s * (top - zp + out) : s * (-zp - out))));
      }
      for (const std::vector<float>* x : {&centred, &clamped}) {
        const std::vector<float> dy = uniform_data(x->size(), -1.0f, 1.0f, 3);
        lsq_plus_quantizer q = make_lsq_plus(dynamic_bits(b), r, 1, 7);
        std::vector<float> dx(x->size()), up(x->size()), down(x->size());
        float dstep = 0.0f, doffset = 0.0f;
        q.backward(x->data(), dy.data(), x->size(), &s, &beta, dx.data(), &dstep, &doffset);
        double ste_beta = 0.0, ste_step = 0.0;
        for (std::size_t i = 0; i < x->size(); ++i) {
          const double u = (static_cast<double>((*x)[i]) - beta) / s;
          if (u >= -zp && u <= top - zp) {
            ste_beta += dy[i];
            ste_step += dy[i] * u;
          }
        }
        const float beta_up = beta + 1e-3f * s, beta_down = beta - 1e-3f * s;
        q.forward(x->data(), x->size(), &s, &beta_up, up.data());
        q.forward(x->data(), x->size(), &s, &beta_down, down.data());
        const double beta_delta = static_cast<double>(beta_up) - beta_down;
        const double fd_beta = (weighted_sum(up, dy) - weighted_sum(down, dy)) / beta_delta;
        const double g = q.gradient_scale();
        check_close(doffset / g + ste_beta, fd_beta, fd_tolerance(up, down, dy, beta_delta) + 1e-6 * std::fabs(fd_beta));
        if (x == &clamped) {
          double sum_dy = 0.0;
          for (float d : dy) sum_dy += d;
          CHECK(ste_beta == 0.0);
          check_close(fd_beta, sum_dy, fd_tolerance(up, down, dy, beta_delta));  // d x_hat / d beta = 1 each
        }
        const float s_up = s * (1.0f + 1e-3f), s_down = s * (1.0f - 1e-3f);
        q.forward(x->data(), x->size(), &s_up, &beta, up.data());
        q.forward(x->data(), x->size(), &s_down, &beta, down.data());
        const double s_delta = static_cast<double>(s_up) - s_down;
        const double fd_step = (weighted_sum(up, dy) - weighted_sum(down, dy)) / s_delta;
        check_close(dstep / g + ste_step, fd_step, fd_tolerance(up, down, dy, s_delta) + 1e-6 * std::fabs(fd_step));
        for (std::size_t i = 0; i < x->size(); ++i) {  // codes held at every perturbation
          const float bu = beta_up, bd = beta_down;
          CHECK(q.grid(&s, &bu, 0).encode((*x)[i]) == q.grid(&s, &bd, 0).encode((*x)[i]));
          CHECK(q.grid(&s_up, &beta, 0).encode((*x)[i]) == q.grid(&s_down, &beta, 0).encode((*x)[i]));
        }
      }
    }
  }
}

TEST_CASE("LSQ+ init: min/max for unsigned codes, 3 sigma for signed and symmetric") {
  const std::vector<float> x = uniform_data(200, -0.8f, 2.6f, 90);
  lsq_plus_quantizer act = make_lsq_plus(bits_c<4>{}, code_range::unsigned_codes, 2);
  std::vector<float> step(2), offset(2);
  act.initialize(x.data(), x.size(), step.data(), offset.data());
  for (std::size_t c = 0; c < 2; ++c) {
    const auto [lo, hi] = std::minmax_element(x.begin() + static_cast<std::ptrdiff_t>(c * 100),
                                              x.begin() + static_cast<std::ptrdiff_t>(c * 100 + 100));
    CHECK(static_cast<double>(step[c]) == doctest::Approx((static_cast<double>(*hi) - *lo) / 15.0).epsilon(1e-6));
    CHECK(offset[c] == *lo);
    const affine_grid g = act.grid(step.data(), offset.data(), c);  // the grid spans [min, max]
    CHECK(static_cast<double>(g.lowest()) == doctest::Approx(*lo).epsilon(1e-5));
    CHECK(static_cast<double>(g.highest()) == doctest::Approx(*hi).epsilon(1e-5));
  }
  for (code_range r : {code_range::signed_codes, code_range::symmetric}) {
    lsq_plus_quantizer w = make_lsq_plus(bits_c<3>{}, r, 1);
    float s = 0, beta = 1;
    w.initialize(x.data(), x.size(), &s, &beta);
    double mean = 0.0, var = 0.0;
    for (float v : x) mean += v / 200.0;
    for (float v : x) var += (v - mean) * (v - mean) / 200.0;
    const double sigma = std::sqrt(var);
    CHECK(static_cast<double>(s) ==
          doctest::Approx(std::fmax(std::fabs(mean - 3 * sigma), std::fabs(mean + 3 * sigma)) / 4.0).epsilon(1e-6));
    CHECK(beta == 0.0f);
  }
  std::vector<float> constant(10, 3.0f);
  float s = 0, beta = 0, y = 0;
  act.channels = 1;
  act.initialize(constant.data(), constant.size(), &s, &beta);
  act.forward(constant.data(), 1, &s, &beta, &y);
  CHECK(s == 1.0f);
  CHECK(y == 3.0f);  // the constant is the lowest level
}

TEST_CASE("LSQ+ errors name the value and what was expected") {
  std::vector<float> x(6, 0.5f), y(6), step{0.1f, 0.2f}, offset{0.0f, std::numeric_limits<float>::quiet_NaN()};
  lsq_plus_quantizer q = make_lsq_plus(bits_c<2>{}, code_range::unsigned_codes, 2);
  std::string m = test::thrown_message<error>([&] { q.forward(x.data(), 6, step.data(), offset.data(), y.data()); });
  CHECK(m.find("offset[1] = nan") != std::string::npos);
  offset[1] = 0.0f;
  step[0] = -2.0f;
  m = test::thrown_message<error>([&] { q.forward(x.data(), 6, step.data(), offset.data(), y.data()); });
  CHECK(m.find("step[0] = -2") != std::string::npos);
  step[0] = 0.1f;
  CHECK_THROWS_AS(q.forward(x.data(), 5, step.data(), offset.data(), y.data()), shape_error);
  q.bits = 0;
  CHECK_THROWS_AS(q.forward(x.data(), 6, step.data(), offset.data(), y.data()), bit_width_error);
  CHECK(q.parameter_count() == 4);
  CHECK(std::string(q.parameter_arrays()[1].name) == "offset");
}

TEST_CASE("LSQ+ is deterministic: same input, same output bit for bit") {
  const std::vector<float> x = uniform_data(999, -3.0f, 3.0f, 5), dy = uniform_data(999, -1.0f, 1.0f, 6);
  const std::vector<float> step{0.1f, 0.2f, 0.3f}, offset{-0.5f, 0.0f, 0.5f};
  lsq_plus_quantizer q = make_lsq_plus(bits_c<3>{}, code_range::unsigned_codes, 3, 333);
  std::vector<float> y1(999), y2(999), dx1(999), dx2(999), ds1(3), ds2(3), db1(3), db2(3);
  for (int run = 0; run < 2; ++run) {
    q.forward(x.data(), x.size(), step.data(), offset.data(), run ? y2.data() : y1.data());
    q.backward(x.data(), dy.data(), x.size(), step.data(), offset.data(), run ? dx2.data() : dx1.data(),
               run ? ds2.data() : ds1.data(), run ? db2.data() : db1.data());
  }
  CHECK(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(dx1.data(), dx2.data(), dx1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(ds1.data(), ds2.data(), ds1.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(db1.data(), db2.data(), db1.size() * sizeof(float)) == 0);
}
