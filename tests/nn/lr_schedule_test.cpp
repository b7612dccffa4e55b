// Learning-rate schedules against their closed forms, and apply_schedule on parameter groups.
#include <cmath>
#include <cstddef>
#include <vector>

#include "anybit/nn/lr_schedule.hpp"
#include "anybit/nn/sgd.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("step schedule: base * gamma^floor(t / step_size)") {
  const nn::step_schedule s{3, 0.5};
  const double expected[] = {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125};
  for (std::size_t t = 0; t < 10; ++t) CHECK(s.lr(2.0, t) == doctest::Approx(2.0 * expected[t]).epsilon(1e-12));
  CHECK_THROWS_AS((nn::step_schedule{0, 0.5}.lr(1.0, 1)), error);
}

TEST_CASE("cosine schedule: base at 0, the midpoint at total / 2, min_lr at and after total") {
  const nn::cosine_schedule s{100, 0.01};
  CHECK(s.lr(1.0, 0) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(s.lr(1.0, 50) == doctest::Approx(0.505).epsilon(1e-12));
  CHECK(s.lr(1.0, 100) == doctest::Approx(0.01).epsilon(1e-12));
  CHECK(s.lr(1.0, 250) == doctest::Approx(0.01).epsilon(1e-12));
  // t = 25: (1 + cos(pi / 4)) / 2 = (2 + sqrt 2) / 4 of the range above min_lr.
  CHECK(s.lr(1.0, 25) == doctest::Approx(0.01 + 0.99 * (2.0 + std::sqrt(2.0)) / 4.0).epsilon(1e-12));
  for (std::size_t t = 1; t <= 100; ++t) CHECK(s.lr(1.0, t) <= s.lr(1.0, t - 1));  // never increases
  CHECK_THROWS_AS((nn::cosine_schedule{0, 0.0}.lr(1.0, 0)), error);
}

TEST_CASE("apply_schedule sets every group from its own base rate, keeping their ratio") {
  parameter a(dense_tensor(dense_shape{1})), b(dense_tensor(dense_shape{1}));
  std::vector<nn::param_group> groups(2);
  groups[0].params = {&a};
  groups[1].params = {&b};
  groups[1].lr = 0.01f;
  nn::sgd_options o;
  o.lr = 0.1f;
  nn::sgd opt(groups, o);
  const nn::cosine_schedule s{10, 0.0};
  nn::apply_schedule(opt, s, 5);
  CHECK(opt.learning_rate(0) == doctest::Approx(0.05).epsilon(1e-6));
  CHECK(opt.learning_rate(1) == doctest::Approx(0.005).epsilon(1e-6));
  nn::apply_schedule(opt, s, 0);  // from the base, not compounded on the current rate
  CHECK(opt.learning_rate(0) == doctest::Approx(0.1).epsilon(1e-6));
  nn::apply_schedule(opt, nn::step_schedule{2, 0.1}, 4);
  CHECK(opt.learning_rate(1) == doctest::Approx(0.0001).epsilon(1e-6));
}
