// anybit/nn/lr_schedule.hpp — learning-rate schedules as closed forms of the step count, as
// PyTorch's StepLR and CosineAnnealingLR define them (their chainable updates equal these).
//
// A schedule maps (base learning rate, step t) to a learning rate; apply_schedule() sets every
// group of an optimizer from its own base rate, so groups keep their ratios. "Step" is whatever
// the caller counts: epochs or batches.
#pragma once

#include <cmath>
#include <cstddef>

#include "anybit/core/error.hpp"
#include "anybit/nn/optimizer.hpp"

namespace anybit::nn {

/// lr = base * gamma^floor(t / step_size).
struct step_schedule {
  std::size_t step_size = 1;
  double gamma = 0.1;

  double lr(double base, std::size_t t) const {
    if (step_size == 0) throw error("anybit: step schedule with step_size 0, expected at least 1");
    return base * std::pow(gamma, static_cast<double>(t / step_size));
  }
};

/// lr = min_lr + (base - min_lr) * (1 + cos(pi * t / total)) / 2 for t <= total, min_lr after.
struct cosine_schedule {
  std::size_t total = 1;
  double min_lr = 0.0;

  double lr(double base, std::size_t t) const {
    if (total == 0) throw error("anybit: cosine schedule over 0 steps, expected at least 1");
    constexpr double pi = 3.14159265358979323846264338327950288;
    const double progress = static_cast<double>(t < total ? t : total) / static_cast<double>(total);
    return min_lr + (base - min_lr) * 0.5 * (1.0 + std::cos(pi * progress));
  }
};

/// Sets each group's learning rate to schedule.lr(its base rate, t).
template <class Schedule>
void apply_schedule(optimizer& opt, const Schedule& schedule, std::size_t t) {
  for (std::size_t g = 0; g < opt.group_count(); ++g) {
    const double lr = schedule.lr(static_cast<double>(opt.base_learning_rate(g)), t);
    opt.set_learning_rate(g, static_cast<float>(lr < 0.0 ? 0.0 : lr));
  }
}

}  // namespace anybit::nn
