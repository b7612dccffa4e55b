// anybit/nn/optimizer.hpp — what every optimizer shares: parameter groups, learning rates,
// zero_grad, and the base learning rates that schedules scale.
//
// A parameter group is a set of parameters with its own learning rate and weight decay;
// quantizer parameters, say, usually want a different rate than weights. A group that leaves
// lr or weight_decay unset takes the optimizer's default. Parameters whose requires_grad is
// false are skipped by step(), as PyTorch skips parameters without a gradient.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "anybit/autograd/parameter.hpp"
#include "anybit/core/error.hpp"

namespace anybit::nn {

struct param_group {
  std::vector<parameter*> params;
  std::optional<float> lr;            // unset: the optimizer's default
  std::optional<float> weight_decay;  // unset: the optimizer's default
};

class optimizer {
 public:
  virtual ~optimizer() = default;
  optimizer(const optimizer&) = delete;
  optimizer& operator=(const optimizer&) = delete;

  /// One update of every parameter from its accumulated gradient.
  virtual void step() = 0;

  /// Zeroes the gradient of every parameter in every group.
  void zero_grad() {
    for (param_group& g : groups_) {
      for (parameter* p : g.params) p->zero_grad();
    }
  }

  std::size_t group_count() const noexcept { return groups_.size(); }
  const param_group& group(std::size_t i) const { return groups_[checked(i)]; }
  float learning_rate(std::size_t group) const { return *groups_[checked(group)].lr; }
  /// Sets the learning rate of one group (a schedule does this every step or epoch).
  void set_learning_rate(std::size_t group, float lr) {
    check_hyperparameter("learning rate", lr);
    groups_[checked(group)].lr = lr;
  }
  /// The learning rate a group started with: what schedules scale.
  float base_learning_rate(std::size_t group) const { return base_lr_[checked(group)]; }
  /// Number of step() calls so far.
  std::size_t steps() const noexcept { return steps_; }

 protected:
  optimizer(std::vector<param_group> groups, float default_lr, float default_weight_decay)
      : groups_(std::move(groups)) {
    check_hyperparameter("default learning rate", default_lr);
    check_hyperparameter("default weight decay", default_weight_decay);
    std::unordered_set<const parameter*> seen;
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
      param_group& g = groups_[gi];
      if (!g.lr) g.lr = default_lr;
      if (!g.weight_decay) g.weight_decay = default_weight_decay;
      check_hyperparameter("learning rate", *g.lr);
      check_hyperparameter("weight decay", *g.weight_decay);
      for (std::size_t pi = 0; pi < g.params.size(); ++pi) {
        const parameter* p = g.params[pi];
        if (p == nullptr) {
          throw error(detail::message("anybit: optimizer group ", gi, " holds a null parameter at position ", pi,
                                      ", expected a parameter"));
        }
        if (!seen.insert(p).second) {
          throw error(detail::message("anybit: optimizer group ", gi, " position ", pi,
                                      " repeats a parameter, expected each parameter in one group once"));
        }
        if (p->grad.shape() != p->value.shape()) {
          throw shape_error(detail::message("anybit: optimizer group ", gi, " position ", pi, " has value ",
                                            p->value.shape(), " and gradient ", p->grad.shape(), ", expected equal shapes"));
        }
      }
      base_lr_.push_back(*g.lr);
    }
  }

  static std::vector<param_group> one_group(std::vector<parameter*> params) {
    std::vector<param_group> groups(1);
    groups[0].params = std::move(params);
    return groups;
  }

  std::size_t checked(std::size_t group) const {
    if (group >= groups_.size()) {
      throw error(detail::message("anybit: optimizer group ", group, ", expected below ", groups_.size()));
    }
    return group;
  }

  static void check_hyperparameter(const char* what, float value) {
    if (!(value >= 0.0f) || !std::isfinite(value)) {
      throw error(detail::message("anybit: optimizer ", what, " ", value, ", expected a finite value >= 0"));
    }
  }

  std::vector<param_group> groups_;
  std::vector<float> base_lr_;
  std::size_t steps_ = 0;
};

}  // namespace anybit::nn
