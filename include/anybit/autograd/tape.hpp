// anybit/autograd/tape.hpp — reverse-mode automatic differentiation as a Wengert list.
//
// Ops (ops.hpp) compute their value at once and append a node; a `var` is {tape, index}.
// Because nodes are appended in execution order, backward() walks the list from the loss down
// and calls each node's rule (rules.hpp) after all of its consumers have added their share:
// no graph search, no reference counts. Everything a step allocates lives in the tape's arena;
// clear() rewinds it for the next step, so steady-state training allocates nothing.
//
// Lifetimes: vars, values and gradients of a tape are valid until its next clear(); a var used
// after clear() throws. A parameter passed to param() must outlive the tape's backward(), and its
// value must not change between the forward pass and backward().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "anybit/autograd/arena.hpp"
#include "anybit/autograd/node.hpp"
#include "anybit/autograd/parameter.hpp"
#include "anybit/autograd/rules.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/tensor/dense_shape.hpp"
#include "anybit/tensor/dense_view.hpp"

namespace anybit {

class tape;

/// A value recorded on a tape. Cheap to copy; default-constructed vars belong to no tape.
struct var {
  // A constructor, not an aggregate: `conv2d(x, w, {0, 1})` must not read {0, 1} as a var.
  var() = default;
  var(tape* owner_tape, std::uint32_t node_index, std::uint32_t tape_generation) noexcept
      : owner(owner_tape), index(node_index), generation(tape_generation) {}

  tape* owner = nullptr;
  std::uint32_t index = 0;
  std::uint32_t generation = 0;  // the tape's clear() count at recording: catches stale vars
};

class tape {
 public:
  /// A tape running GEMMs on one thread.
  tape() : ctx_(&own_context_) {}
  /// A tape running GEMMs with `ctx` (threads, allowed paths); ctx must outlive the tape.
  explicit tape(gemm_context& ctx) : ctx_(&ctx) {}
  tape(const tape&) = delete;  // vars point at their tape
  tape& operator=(const tape&) = delete;

  /// A leaf holding a copy of `x`; with requires_grad, backward() fills grad(v).
  var input(const dense_view& x, bool requires_grad = false) {
    const var v = record(op_id::input, x.shape(), {});
    node& n = nodes_[v.index];
    n.needs_grad = requires_grad && grad_enabled_;
    if (x.size() != 0) std::memcpy(n.value, x.data(), x.size() * sizeof(float));
    return v;
  }

  /// A leaf reading p.value in place; backward() adds its gradient into p.grad.
  var param(parameter& p) {
    check_same_shape("tape::param (value, grad)", p.value.shape(), p.grad.shape());
    const var v = append(op_id::parameter, p.value.shape());
    node& n = nodes_[v.index];
    n.value = p.value.data();
    n.needs_grad = p.requires_grad && grad_enabled_;
    if (n.needs_grad) n.grad = p.grad.data();
    return v;
  }

  dense_view value(var v) const {
    const node& n = at(v);
    return dense_view(n.value, n.shape);
  }
  const dense_shape& shape(var v) const { return at(v).shape; }
  /// The value of a one-element var.
  float item(var v) const {
    const node& n = at(v);
    if (n.shape.size() != 1) throw shape_error(detail::message("anybit: item() of shape ", n.shape, ", expected one element"));
    return n.value[0];
  }
  /// The gradient of the last backward() with respect to v; throws if v has none (recorded
  /// without requires_grad, in no-grad mode, or before any backward()).
  dense_view grad(var v) const {
    const node& n = at(v);
    if (n.grad == nullptr) {
      throw error(detail::message("anybit: variable ", v.index, " of shape ", n.shape,
                                  " has no gradient, expected a var that needs one, after backward()"));
    }
    return dense_view(n.grad, n.shape);
  }

  /// Gradients of the scalar `loss` with respect to every var that needs one: tape gradients are
  /// recomputed from zero, parameter gradients are added to p.grad.
  void backward(var loss) {
    const node& l = at(loss);
    if (l.shape.size() != 1) {
      throw shape_error(detail::message("anybit: backward() from a loss of shape ", l.shape, ", expected one element"));
    }
    if (!l.needs_grad) {
      throw error("anybit: backward() from a loss that depends on nothing needing a gradient (no parameter or "
                  "requires_grad input, or recorded in no-grad mode)");
    }
    const std::size_t last = loss.index;
    for (std::size_t i = 0; i <= last; ++i) nodes_[i].reached = false;
    nodes_[last].reached = true;
    for (std::size_t i = last + 1; i-- > 0;) {  // mark what the loss depends on
      const node& n = nodes_[i];
      if (!n.reached) continue;
      for (const std::uint32_t in : n.inputs) {
        if (in != no_input && nodes_[in].needs_grad) nodes_[in].reached = true;
      }
    }
    for (std::size_t i = 0; i <= last; ++i) {
      node& n = nodes_[i];
      if (!n.needs_grad || n.op == op_id::parameter) continue;  // parameter grads accumulate outside
      if (n.grad != nullptr) {
        std::memset(n.grad, 0, n.shape.size() * sizeof(float));
      } else if (n.reached || n.op == op_id::input) {
        n.grad = floats_.allocate(n.shape.size(), true);
      }
    }
    nodes_[last].grad[0] += 1.0f;
    for (std::size_t i = last + 1; i-- > 0;) {
      const node& n = nodes_[i];
      if (n.reached) rules::apply(n, nodes_, *ctx_, scratch_);
    }
  }

  /// Forgets every node and rewinds the arena, keeping its memory; invalidates all vars.
  void clear() {
    nodes_.clear();
    floats_.clear();
    indices_.clear();
    ++generation_;
  }

  /// With recording disabled ops only compute values: nothing needs a gradient, nothing is saved.
  bool grad_enabled() const noexcept { return grad_enabled_; }
  void set_grad_enabled(bool enabled) noexcept { grad_enabled_ = enabled; }

  std::size_t size() const noexcept { return nodes_.size(); }
  /// Nodes that backward() would visit: the recorded graph.
  std::size_t nodes_needing_grad() const noexcept {
    std::size_t count = 0;
    for (const node& n : nodes_) count += n.needs_grad ? 1 : 0;
    return count;
  }
  /// Bytes the arena holds from the system, and bytes handed out since the last clear().
  std::size_t arena_capacity_bytes() const noexcept {
    return floats_.capacity() * sizeof(float) + indices_.capacity() * sizeof(std::uint32_t);
  }
  std::size_t arena_used_bytes() const noexcept {
    return floats_.used() * sizeof(float) + indices_.used() * sizeof(std::uint32_t);
  }
  gemm_context& context() noexcept { return *ctx_; }

  // ---- for op implementations (ops.hpp) ----

  /// Appends a node of `op` with a fresh (uninitialised) value of `shape`. It needs a gradient
  /// when recording is on and some input needs one; only then are its inputs kept.
  var record(op_id op, const dense_shape& shape, std::initializer_list<var> inputs, const op_attributes& attr = {}) {
    bool needs = false;
    for (const var in : inputs) needs = needs || at(in).needs_grad;
    needs = needs && grad_enabled_;
    float* value = floats_.allocate(shape.size(), false);
    const var v = append(op, shape);
    node& n = nodes_[v.index];
    n.value = value;
    n.attr = attr;
    n.needs_grad = needs;
    if (needs) {
      std::size_t slot = 0;
      for (const var in : inputs) n.inputs[slot++] = in.index;
    }
    return v;
  }

  /// Like record(), but the value is `source`'s own storage, seen with `shape` (same size).
  var record_alias(op_id op, var source, const dense_shape& shape) {
    const bool needs = at(source).needs_grad && grad_enabled_ && op != op_id::detach;
    const var v = append(op, shape);
    node& n = nodes_[v.index];
    n.value = nodes_[source.index].value;
    n.needs_grad = needs;
    if (needs) n.inputs[0] = source.index;
    return v;
  }

  /// Checked access: v must belong to this tape and be recorded since the last clear().
  node& at(var v) { return nodes_[checked_index(v)]; }
  const node& at(var v) const { return nodes_[checked_index(v)]; }

  /// Arena storage for what a node keeps for its backward rule (lives until clear()).
  float* allocate_floats(std::size_t count) { return floats_.allocate(count, false); }
  std::uint32_t* allocate_indices(std::size_t count) { return indices_.allocate(count, false); }
  /// Temporaries inside one op; contents do not survive the next call.
  scratch_buffer& scratch() noexcept { return scratch_; }

 private:
  var append(op_id op, const dense_shape& shape) {
    if (nodes_.size() >= no_input) throw error("anybit: a tape holds at most 2^32 - 1 nodes");
    node n;
    n.op = op;
    n.shape = shape;
    nodes_.push_back(n);
    return var{this, static_cast<std::uint32_t>(nodes_.size() - 1), generation_};
  }

  std::size_t checked_index(var v) const {
    if (v.owner != this) {
      throw error(v.owner == nullptr ? "anybit: a default-constructed var, expected one recorded on this tape"
                                     : "anybit: a var recorded on another tape, expected one from this tape");
    }
    if (v.generation != generation_ || v.index >= nodes_.size()) {
      throw error(detail::message("anybit: var ", v.index, " was recorded before the tape's last clear(), expected a "
                                  "var recorded since"));
    }
    return v.index;
  }

  gemm_context own_context_;
  gemm_context* ctx_;
  std::vector<node> nodes_;
  arena<float> floats_;
  arena<std::uint32_t> indices_;
  scratch_buffer scratch_;
  std::uint32_t generation_ = 0;
  bool grad_enabled_ = true;
};

/// Disables recording on a tape for its lifetime (evaluation), restoring the previous mode.
class no_grad_guard {
 public:
  explicit no_grad_guard(tape& t) : tape_(t), previous_(t.grad_enabled()) { t.set_grad_enabled(false); }
  ~no_grad_guard() { tape_.set_grad_enabled(previous_); }
  no_grad_guard(const no_grad_guard&) = delete;
  no_grad_guard& operator=(const no_grad_guard&) = delete;

 private:
  tape& tape_;
  bool previous_;
};

}  // namespace anybit
