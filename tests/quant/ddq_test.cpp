// DDQ (uniform-level mode): bits from nested gates, the merged grid against block means of the
// base levels, backward against an element-wise re-implementation of the closed forms, range and
// step gradients against finite differences, and the gate gradient against finite differences of
// the relaxed quantizer x_q(g) = q^T Z U x_o built explicitly from Kronecker products; the memory
// budget term against finite differences of its own definition.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "anybit/core/random.hpp"
#include "anybit/quant/affine.hpp"
#include "anybit/quant/ddq.hpp"
#include "quant/quant_support.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::test;

namespace {

using matrix = std::vector<std::vector<double>>;

matrix kronecker(const matrix& a, const matrix& b) {
  const std::size_t p = a.size(), q = b.size();
  matrix k(p * q, std::vector<double>(p * q));
  for (std::size_t r = 0; r < p; ++r)
    for (std::size_t t = 0; t < p; ++t)
      for (std::size_t s = 0; s < q; ++s)
        for (std::size_t u = 0; u < q; ++u) k[r * q + s][t * q + u] = a[r][t] * b[s][u];
  return k;
}

/// The relaxed DDQ quantizer of the spec for real-valued raw gates g (g[0] = LSB): nested gates
/// g'_k = prod_{j<=k} g_j, U = A_{K-1} (x) ... (x) A_0 with A_k = (1 - g'_k) I + g'_k 11^T,
/// Z = diag(1 / U 1), q_j = alpha + j d, x_o = onehot(i); returns q^T Z U x_o.
double relaxed_ddq(const std::vector<double>& g, double alpha, double d, std::size_t i) {
  const std::size_t K = g.size();
  std::vector<double> nested(K);
  double running = 1.0;
  for (std::size_t k = 0; k < K; ++k) nested[k] = running *= g[k];
  matrix u{{1.0}};
  for (std::size_t k = K; k-- > 0;) {
    const double gk = nested[k];
    u = kronecker(u, matrix{{1.0, gk}, {gk, 1.0}});
  }
  double xq = 0.0;
  for (std::size_t j = 0; j < u.size(); ++j) {
    double row_sum = 0.0;
    for (double v : u[j]) row_sum += v;
    xq += (alpha + static_cast<double>(j) * d) * u[j][i] / row_sum;
  }
  return xq;
}

/// theta with gates g (true = merge), +1 / -1.
std::vector<float> theta_of(const std::vector<int>& gates) {
  std::vector<float> theta;
  for (int g : gates) theta.push_back(g ? 1.0f : -1.0f);
  return theta;
}

/// All binary gate vectors of length K with the (held) MSB gate 0.
std::vector<std::vector<int>> gate_patterns(int K) {
  std::vector<std::vector<int>> out;
  for (int mask = 0; mask < (1 << (K - 1)); ++mask) {
    std::vector<int> g(static_cast<std::size_t>(K), 0);
    for (int k = 0; k < K - 1; ++k) g[static_cast<std::size_t>(k)] = (mask >> k) & 1;
    out.push_back(g);
  }
  return out;
}

/// Merged count of nested gates, as the spec defines it (MSB held at 0).
int merged_of(const std::vector<int>& gates) {
  int m = 0, product = 1;
  for (std::size_t k = 0; k + 1 < gates.size(); ++k) m += product *= gates[k];
  return m;
}

struct closed_form {
  std::vector<double> dx, dalpha, dd, dtheta;
};

/// The spec's closed forms, element by element (base index i, code c = i >> m, block mean).
closed_form ddq_closed_form(const std::vector<float>& x, const std::vector<float>& dy, std::size_t channels,
                            const std::vector<float>& alpha, const std::vector<float>& d, const std::vector<int>& gates) {
  const int K = static_cast<int>(gates.size());
  const int m = merged_of(gates);
  const double s = std::pow(2.0, m), last = std::pow(2.0, K) - 1.0;
  std::vector<double> gate(gates.begin(), gates.end()), nested(gates.size());
  gate[static_cast<std::size_t>(K - 1)] = 0.0;  // held
  double running = 1.0;
  for (int k = 0; k < K; ++k) nested[static_cast<std::size_t>(k)] = running *= gate[static_cast<std::size_t>(k)];
  closed_form out{std::vector<double>(x.size()), std::vector<double>(channels), std::vector<double>(channels),
                  std::vector<double>(gates.size())};
  std::vector<double> d_nested(gates.size());
  const std::size_t group = x.size() / channels;
  for (std::size_t e = 0; e < x.size(); ++e) {
    const std::size_t c = e / group;
    const double a = alpha[c], step = d[c];
    const double i = std::fmin(std::fmax(std::nearbyint((x[e] - a) / step), 0.0), last);
    const auto base = static_cast<std::uint32_t>(i);
    const double code = std::floor(i / s);
    out.dx[e] = (x[e] >= a && x[e] <= a + last * step) ? dy[e] : 0.0;
    out.dalpha[c] += dy[e];
    out.dd[c] += dy[e] * (code * s + (s - 1.0) / 2.0);
    for (int k = 0; k < K; ++k) {
      const double sign = 1.0 - 2.0 * ((base >> k) & 1u);
      const double factor = nested[static_cast<std::size_t>(k)] > 0.0 ? 0.25 : 1.0;
      d_nested[static_cast<std::size_t>(k)] += dy[e] * step * std::pow(2.0, k) * sign * factor;
    }
  }
  for (int k = 0; k < K - 1; ++k) {  // dL/dg_k = sum_{j>=k} dL/dg'_j prod_{i<=j, i!=k} g_i
    for (int j = k; j < K; ++j) {
      double product = 1.0;
      for (int i = 0; i <= j; ++i) {
        if (i != k) product *= gate[static_cast<std::size_t>(i)];
      }
      out.dtheta[static_cast<std::size_t>(k)] += d_nested[static_cast<std::size_t>(j)] * product;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("DDQ bits: K minus the leading run of positive gates, at least 1") {
  CHECK(ddq_bits(theta_of({0, 0, 0, 0, 0, 0, 0, 0}).data(), 8) == 8);
  CHECK(ddq_bits(theta_of({1, 1, 0, 0, 0, 0, 0, 0}).data(), 8) == 6);
  CHECK(ddq_bits(theta_of({0, 1, 1, 1, 0, 0, 0, 0}).data(), 8) == 8);  // nested: bit 1 needs bit 0
  CHECK(ddq_bits(theta_of({1, 0, 1, 1, 0, 0, 0, 0}).data(), 8) == 7);
  CHECK(ddq_bits(theta_of({1, 1, 1, 1, 1, 1, 1, 1}).data(), 8) == 1);  // the MSB never merges
  CHECK(ddq_bits(theta_of({1, 1, 1}).data(), 3) == 1);
  CHECK(ddq_bits(theta_of({1}).data(), 1) == 1);
  CHECK(ddq_merged_count(theta_of({1, 1, 0, 1}).data(), 4) == 2);
  ddq_quantizer q = make_ddq(bits_c<4>{});
  CHECK(q.bits(theta_of({1, 0, 0, 0}).data()) == 3);
}

TEST_CASE("DDQ grid: merged level of code c is the mean of its block of base levels") {
  const float alpha = -1.3f, d = 0.01f;
  for (int K : {1, 3, 8}) {
    for (const auto& gates : gate_patterns(K)) {
      ddq_quantizer q = make_ddq(dynamic_bits(K));
      const std::vector<float> theta = theta_of(gates);
      const affine_grid g = q.grid(&alpha, &d, theta.data(), 0);
      const int m = merged_of(gates);
      const int s = 1 << m;
      REQUIRE(g.bits == K - m);
      CHECK(static_cast<double>(g.scale) == static_cast<double>(d) * s);
      for (int c = 0; c <= g.max_code(); ++c) {
        double mean = 0.0;
        for (int j = c * s; j < c * s + s; ++j) mean += (static_cast<double>(alpha) + j * static_cast<double>(d)) / s;
        CHECK(static_cast<double>(g.decode(static_cast<std::uint8_t>(c))) == doctest::Approx(mean).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("DDQ encode is the nearest base index shifted by the merged bits, forward is decode(encode)") {
  const std::vector<float> alpha{-0.6f, 0.1f}, d{0.004f, 0.02f};
  const std::vector<float> x = uniform_data(2000, -1.0f, 6.0f, 3);
  for (const auto& gates : gate_patterns(8)) {
    if (gates[5] != gates[6]) continue;  // a sample of the 128 patterns, merged counts 0..7 included
    ddq_quantizer q = make_ddq(bits_c<8>{}, 2);
    const std::vector<float> theta = theta_of(gates);
    std::vector<float> y(x.size());
    q.forward(x.data(), x.size(), alpha.data(), d.data(), theta.data(), y.data());
    const int m = merged_of(gates);
    const double s = std::pow(2.0, m);
    for (std::size_t e = 0; e < x.size(); ++e) {
      const std::size_t c = e / 1000;
      const double i = std::fmin(std::fmax(std::nearbyint((x[e] - alpha[c]) / static_cast<double>(d[c])), 0.0), 255.0);
      const affine_grid g = q.grid(alpha.data(), d.data(), theta.data(), c);
      CHECK(g.encode(x[e]) == static_cast<std::uint32_t>(i) >> m);
      // decode(encode(x)) from the documented grid formula, computed here
      const double scale = static_cast<double>(d[c]) * s;
      const float zp = static_cast<float>(-(static_cast<double>(alpha[c]) + d[c] * (s - 1.0) / 2.0) / scale);
      const std::uint8_t code = quantize_code(x[e], 1.0f / static_cast<float>(scale), zp, static_cast<float>(std::pow(2.0, 8 - m) - 1.0));
      CHECK(y[e] == static_cast<float>(scale) * (static_cast<float>(code) - zp));
    }
  }
}

TEST_CASE("DDQ backward equals the element-wise closed forms (dx, dalpha, dd, gates through the nesting)") {
  for (int K : {4, 8}) {
    const std::vector<float> alpha{-0.5f, 0.2f, -2.0f}, d{0.01f, 0.003f, 0.3f};
    const std::size_t per = 200;
    std::vector<float> x;
    for (std::size_t c = 0; c < 3; ++c) {  // over the base range and 10 % beyond
      const float span = d[c] * static_cast<float>((1 << K) - 1);
      const std::vector<float> xc = uniform_data(per, alpha[c] - 0.1f * span, alpha[c] + 1.1f * span, 10 + c);
      x.insert(x.end(), xc.begin(), xc.end());
    }
    const std::vector<float> dy = uniform_data(x.size(), -1.0f, 1.0f, 20);
    for (const auto& gates : gate_patterns(K)) {
      ddq_quantizer q = make_ddq(dynamic_bits(K), 3);
      const std::vector<float> theta = theta_of(gates);
      std::vector<float> dx(x.size(), 3.0f), dalpha{0.5f, 0.0f, 0.0f}, dd(3, 0.0f), dtheta(static_cast<std::size_t>(K), 0.125f);
      q.backward(x.data(), dy.data(), x.size(), alpha.data(), d.data(), theta.data(), dx.data(), dalpha.data(), dd.data(),
                 dtheta.data());
      const closed_form want = ddq_closed_form(x, dy, 3, alpha, d, gates);
      for (std::size_t e = 0; e < x.size(); ++e) CHECK(static_cast<double>(dx[e]) == want.dx[e]);
      for (std::size_t c = 0; c < 3; ++c) {
        // both sum in double; the results differ by the final float rounding
        const double want_alpha = (c == 0 ? 0.5 : 0.0) + want.dalpha[c];
        check_close(dalpha[c], want_alpha, 1e-6 * (1.0 + std::fabs(want_alpha)));
        check_close(dd[c], want.dd[c], 1e-6 * (1.0 + std::fabs(want.dd[c])));
      }
      for (std::size_t k = 0; k < static_cast<std::size_t>(K); ++k) {
        check_close(dtheta[k], 0.125 + want.dtheta[k], 1e-6 * (1.0 + std::fabs(0.125 + want.dtheta[k])));
      }
      CHECK(dtheta[static_cast<std::size_t>(K - 1)] == 0.125f);  // held MSB gate: no gradient (our choice)
    }
  }
}

TEST_CASE("DDQ gates: closed form equals finite differences of the relaxed q^T Z U x_o at binary gates") {
  const float alpha = -0.4f, d = 0.125f;
  for (int K : {3, 4}) {
    for (const auto& gates : gate_patterns(K)) {
      ddq_quantizer q = make_ddq(dynamic_bits(K));
      const std::vector<float> theta = theta_of(gates);
      const std::vector<double> g(gates.begin(), gates.end());
      for (std::size_t i = 0; i < (1u << K); ++i) {
        for (double offset : {-0.2, 0.2}) {  // x near base level i, far from every threshold
          const float x = static_cast<float>(alpha + (static_cast<double>(i) + offset) * d);
          float y = 0.0f, dx = 0.0f, dalpha = 0.0f, dd = 0.0f;
          const float dy = 1.0f;
          std::vector<float> dtheta(static_cast<std::size_t>(K), 0.0f);
          q.forward(&x, 1, &alpha, &d, theta.data(), &y);
          // at binary gates the relaxation is the forward
          CHECK(static_cast<double>(y) == doctest::Approx(relaxed_ddq(g, alpha, d, i)).epsilon(1e-6));
          q.backward(&x, &dy, 1, &alpha, &d, theta.data(), &dx, &dalpha, &dd, dtheta.data());
          for (std::size_t k = 0; k + 1 < static_cast<std::size_t>(K); ++k) {
            std::vector<double> up = g, down = g;
            up[k] += 1e-6;
            down[k] -= 1e-6;
            const double fd = (relaxed_ddq(up, alpha, d, i) - relaxed_ddq(down, alpha, d, i)) / 2e-6;
            check_close(dtheta[k], fd, 1e-6 * (1.0 + std::fabs(fd)));
          }
          CHECK(dtheta[static_cast<std::size_t>(K - 1)] == 0.0f);  // held MSB gate (our choice)
        }
      }
    }
  }
}

TEST_CASE("DDQ range and step gradients equal finite differences with codes held") {
  // The decode alpha + d (c s + (s - 1) / 2) is linear in alpha and d for fixed codes.
  for (const std::vector<int>& gates : {std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0}, std::vector<int>{1, 1, 1, 0, 0, 0, 0, 0}}) {
    const int m = merged_of(gates), b = 8 - m;
    const double s = std::pow(2.0, m);
    const float alpha = -0.7f, d = 0.01f;
    xoshiro256ss rng(31);
    std::vector<float> centred, clamped;
    for (int e = 0; e < 80; ++e) {  // merged level centres +- 0.1 merged step; and far outside the base range
      const double code = std::floor(rng.uniform01() * std::pow(2.0, b));
      centred.push_back(static_cast<float>(alpha + d * (code * s + (s - 1.0) / 2.0 + s * (0.2 * rng.uniform01() - 0.1))));
      clamped.push_back(static_cast<float>(e % 2 ? alpha - 0.5 - rng.uniform01() : alpha + 256 * d + 0.5 + rng.uniform01()));
    }
    const std::vector<float> theta = theta_of(gates);
    for (const std::vector<float>* x : {&centred, &clamped}) {
      const std::vector<float> dy = uniform_data(x->size(), -1.0f, 1.0f, 32);
      ddq_quantizer q = make_ddq(bits_c<8>{});
      std::vector<float> dx(x->size()), up(x->size()), down(x->size()), dtheta(8);
      float dalpha = 0.0f, dd = 0.0f;
      q.backward(x->data(), dy.data(), x->size(), &alpha, &d, theta.data(), dx.data(), &dalpha, &dd, dtheta.data());
      const float a_up = alpha + 1e-3f * d, a_down = alpha - 1e-3f * d;
      q.forward(x->data(), x->size(), &a_up, &d, theta.data(), up.data());
      q.forward(x->data(), x->size(), &a_down, &d, theta.data(), down.data());
      const double fd_alpha = (weighted_sum(up, dy) - weighted_sum(down, dy)) / (static_cast<double>(a_up) - a_down);
      const float d_up = d * (1.0f + 1e-3f), d_down = d * (1.0f - 1e-3f);
      std::vector<float> up_d(x->size()), down_d(x->size());
      q.forward(x->data(), x->size(), &alpha, &d_up, theta.data(), up_d.data());
      q.forward(x->data(), x->size(), &alpha, &d_down, theta.data(), down_d.data());
      const double fd_d = (weighted_sum(up_d, dy) - weighted_sum(down_d, dy)) / (static_cast<double>(d_up) - d_down);
      double tol_alpha = 1e-9, tol_d = 1e-9;  // one float rounding per forward value (plus the zero point's)
      for (std::size_t e = 0; e < x->size(); ++e) {
        tol_alpha += 4.0 * std::fabs(dy[e]) * (std::fabs(up[e]) + std::fabs(down[e]) + 1.0) * 0x1p-24 / (a_up - a_down);
        tol_d += 4.0 * std::fabs(dy[e]) * (std::fabs(up_d[e]) + std::fabs(down_d[e]) + 1.0) * 0x1p-24 / (d_up - d_down);
        const std::uint8_t held = q.grid(&alpha, &d, theta.data(), 0).encode((*x)[e]);
        CHECK(q.grid(&a_up, &d, theta.data(), 0).encode((*x)[e]) == held);
        CHECK(q.grid(&a_down, &d, theta.data(), 0).encode((*x)[e]) == held);
        CHECK(q.grid(&alpha, &d_up, theta.data(), 0).encode((*x)[e]) == held);
        CHECK(q.grid(&alpha, &d_down, theta.data(), 0).encode((*x)[e]) == held);
      }
      check_close(dalpha, fd_alpha, tol_alpha + 1e-6 * std::fabs(fd_alpha));
      check_close(dd, fd_d, tol_d + 1e-6 * std::fabs(fd_d));
    }
  }
}

TEST_CASE("DDQ budget term: hinge value and gate gradient equal finite differences of its definition") {
  // Three layers, continuous nested gates: b_l = K - sum_k g'_{l,k}, avg = sum numel_l b_l / total.
  const std::vector<std::size_t> numel{100, 3000, 900};
  const std::size_t total = 4000;
  const double lambda = 0.3;
  for (double target : {3.0, 7.5}) {
    std::vector<std::vector<double>> g{{1, 1, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0}};
    auto penalty = [&](const std::vector<std::vector<double>>& gates) {
      double weighted = 0.0;
      for (std::size_t l = 0; l < 3; ++l) {
        double merged = 0.0;
        for (double v : gates[l]) merged += v;
        weighted += static_cast<double>(numel[l]) * (8.0 - merged);
      }
      return budget_penalty(weighted / static_cast<double>(total), target, lambda);
    };
    const int bits[] = {6, 4, 7};
    const double avg = average_bits(bits, numel.data(), 3);
    CHECK(avg == doctest::Approx((100.0 * 6 + 3000.0 * 4 + 900.0 * 7) / 4000.0));
    CHECK(penalty(g) == doctest::Approx(avg > target ? lambda * (avg - target) : 0.0));
    for (std::size_t l = 0; l < 3; ++l) {
      for (std::size_t k : {std::size_t{0}, std::size_t{5}}) {
        auto up = g, down = g;
        up[l][k] += 1e-4;
        down[l][k] -= 1e-4;
        const double fd = (penalty(up) - penalty(down)) / 2e-4;
        CHECK(budget_penalty_gate_gradient(avg, target, lambda, numel[l], total) == doctest::Approx(fd).epsilon(1e-6));
      }
    }
  }
  CHECK(budget_penalty(4.0, 4.0, 1.0) == 0.0);
  CHECK_THROWS_AS(budget_penalty(4.0, 0.0, 1.0), error);
  CHECK_THROWS_AS(budget_penalty(4.0, 3.0, -1.0), error);
  CHECK_THROWS_AS(budget_penalty_gate_gradient(4.0, 3.0, 1.0, 5, 4), shape_error);
  const int bad_bits[] = {0};
  const std::size_t one[] = {1};
  CHECK_THROWS_AS(average_bits(bad_bits, one, 1), bit_width_error);
}

TEST_CASE("DDQ nested gate chain, worked by hand") {
  // g = (1, 1, 0, 0): dtheta_0 = d'_0 + d'_1 g_1 + d'_2 g_1 g_2 + ... = d'_0 + d'_1,
  // dtheta_1 = d'_1 g_0 + d'_2 g_0 g_2 + ... = d'_1, dtheta_2 = d'_2 g_0 g_1 = d'_2, dtheta_3 = 0 (held).
  const std::vector<float> theta = theta_of({1, 1, 0, 0});
  const double d_nested[] = {1.0, 10.0, 100.0, 1000.0};
  std::vector<float> dtheta(4, 0.5f);
  ddq_chain_nested_gates(theta.data(), 4, d_nested, dtheta.data());
  CHECK(dtheta == std::vector<float>{11.5f, 10.5f, 100.5f, 0.5f});
  // g = (0, 1, 1, 0): every product for k >= 1 contains g_0 = 0, and
  // dtheta_0 = d'_0 + d'_1 g_1 + d'_2 g_1 g_2 + d'_3 g_1 g_2 g_3 = 1 + 10 + 100 + 0.
  const std::vector<float> theta2 = theta_of({0, 1, 1, 0});
  std::vector<float> dtheta2(4, 0.0f);
  ddq_chain_nested_gates(theta2.data(), 4, d_nested, dtheta2.data());
  CHECK(dtheta2 == std::vector<float>{111.0f, 0.0f, 0.0f, 0.0f});
}

TEST_CASE("DDQ init: weights mu +- 3 sigma, activations 0 to max, gates at init_theta") {
  std::vector<float> x = uniform_data(300, -1.0f, 2.0f, 41);
  ddq_quantizer w = make_ddq(bits_c<8>{}, 3);
  std::vector<float> alpha(3), d(3), theta(8);
  w.initialize(x.data(), x.size(), alpha.data(), d.data(), theta.data());
  for (std::size_t c = 0; c < 3; ++c) {
    double mean = 0.0, var = 0.0;
    for (std::size_t i = c * 100; i < c * 100 + 100; ++i) mean += x[i] / 100.0;
    for (std::size_t i = c * 100; i < c * 100 + 100; ++i) var += (x[i] - mean) * (x[i] - mean) / 100.0;
    const double sigma = std::sqrt(var);
    CHECK(static_cast<double>(alpha[c]) == doctest::Approx(mean - 3 * sigma).epsilon(1e-5));
    CHECK(static_cast<double>(d[c]) == doctest::Approx(6 * sigma / 255.0).epsilon(1e-5));
  }
  for (float t : theta) CHECK(t == w.init_theta);
  CHECK(w.bits(theta.data()) == 8);
  ddq_quantizer a = make_ddq(bits_c<4>{}, 1, ddq_init::activations);
  float alpha1 = 9, d1 = 9;
  std::vector<float> theta4(4);
  a.init_theta = -0.5f;
  a.initialize(x.data(), x.size(), &alpha1, &d1, theta4.data());
  float hi = 0.0f;
  for (float v : x) hi = v > hi ? v : hi;
  CHECK(alpha1 == 0.0f);
  CHECK(static_cast<double>(d1) == doctest::Approx(hi / 15.0).epsilon(1e-6));
  CHECK(theta4 == std::vector<float>(4, -0.5f));
  a.init_theta = 0.0f;
  CHECK_THROWS_AS(a.initialize(x.data(), x.size(), &alpha1, &d1, theta4.data()), error);
}

TEST_CASE("DDQ errors name the value and what was expected") {
  ddq_quantizer q = make_ddq(bits_c<4>{}, 2);
  std::vector<float> x(6, 0.1f), y(6), alpha{0.0f, 0.0f}, d{0.1f, -0.1f}, theta(4, -1.0f);
  std::string m = test::thrown_message<error>([&] { q.forward(x.data(), 6, alpha.data(), d.data(), theta.data(), y.data()); });
  CHECK(m.find("d[1] = -0.1") != std::string::npos);
  d[1] = 0.1f;
  theta[2] = std::numeric_limits<float>::quiet_NaN();
  m = test::thrown_message<error>([&] { q.forward(x.data(), 6, alpha.data(), d.data(), theta.data(), y.data()); });
  CHECK(m.find("theta[2] = nan") != std::string::npos);
  theta[2] = -1.0f;
  CHECK_THROWS_AS(q.forward(x.data(), 5, alpha.data(), d.data(), theta.data(), y.data()), shape_error);
  q.max_bits = 9;
  CHECK_THROWS_AS(q.forward(x.data(), 6, alpha.data(), d.data(), theta.data(), y.data()), bit_width_error);
  CHECK_THROWS_AS(q.parameter_count(), bit_width_error);  // sizes depend on K: never from a bad K
  CHECK_THROWS_AS(make_ddq(dynamic_bits(0)), bit_width_error);
  q.max_bits = 4;
  CHECK(q.parameter_count() == 8);
  CHECK(q.parameter_arrays()[2].size == 4);
}

TEST_CASE("DDQ is deterministic: same input, same output bit for bit") {
  const std::vector<float> x = uniform_data(1000, -1.0f, 1.0f, 50), dy = uniform_data(1000, -1.0f, 1.0f, 51);
  const std::vector<float> alpha{-1.0f, -0.9f}, d{0.01f, 0.008f}, theta = theta_of({1, 1, 0, 0, 0, 0, 0, 0});
  ddq_quantizer q = make_ddq(bits_c<8>{}, 2);
  std::vector<float> y[2], dx[2], da[2], dd[2], dt[2];
  for (int run = 0; run < 2; ++run) {
    y[run].resize(1000);
    dx[run].resize(1000);
    da[run].assign(2, 0.0f);
    dd[run].assign(2, 0.0f);
    dt[run].assign(8, 0.0f);
    q.forward(x.data(), x.size(), alpha.data(), d.data(), theta.data(), y[run].data());
    q.backward(x.data(), dy.data(), x.size(), alpha.data(), d.data(), theta.data(), dx[run].data(), da[run].data(),
               dd[run].data(), dt[run].data());
  }
  CHECK(std::memcmp(y[0].data(), y[1].data(), 1000 * sizeof(float)) == 0);
  CHECK(std::memcmp(dx[0].data(), dx[1].data(), 1000 * sizeof(float)) == 0);
  CHECK(da[0] == da[1]);
  CHECK(dd[0] == dd[1]);
  CHECK(dt[0] == dt[1]);
}
