// anybit/nn/classifier.hpp — one training step and one evaluation pass of a classifier on a
// batch of samples: what every trainer loop is made of.
//
// A batch is `count` samples of `sample_shape` floats each, contiguous (as data/'s batch_loader
// hands them out), with one integer label per sample. The loss is the mean softmax
// cross-entropy; a prediction is the arg-max logit (the first one on ties).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"
#include "anybit/nn/optimizer.hpp"
#include "anybit/tensor/dense_view.hpp"

namespace anybit::nn {

/// Loss and hits over a batch: loss_sum is the batch's mean loss times its size, so results
/// of several batches add up to totals.
struct batch_result {
  double loss_sum = 0;
  std::size_t correct = 0;
  std::size_t count = 0;

  batch_result& operator+=(const batch_result& other) {
    loss_sum += other.loss_sum;
    correct += other.correct;
    count += other.count;
    return *this;
  }
  double mean_loss() const { return count == 0 ? 0.0 : loss_sum / static_cast<double>(count); }
  double accuracy() const { return count == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(count); }
};

/// The arg-max class of every row of N x classes logits.
inline std::vector<std::size_t> predict_classes(const dense_view& logits) {
  if (logits.rank() != 2 || logits.shape()[1] == 0) {
    throw shape_error(detail::message("anybit: predictions from logits of shape ", logits.shape(),
                                      ", expected N x classes with classes >= 1"));
  }
  const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
  std::vector<std::size_t> out(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = logits.data() + r * classes;
    std::size_t best = 0;
    for (std::size_t c = 1; c < classes; ++c) best = z[c] > z[best] ? c : best;
    out[r] = best;
  }
  return out;
}

namespace internal {

/// {count, sample_shape...}: the batch as the model's input.
inline dense_shape batch_shape(std::size_t count, const dense_shape& sample_shape) {
  if (sample_shape.rank() >= dense_shape::max_rank || sample_shape.size() == 0) {
    throw shape_error(detail::message("anybit: sample shape ", sample_shape, ", expected rank 0..",
                                      dense_shape::max_rank - 1, " with at least one element"));
  }
  std::size_t dims[dense_shape::max_rank] = {count};
  for (int axis = 0; axis < sample_shape.rank(); ++axis) dims[axis + 1] = sample_shape[axis];
  return dense_shape(dims, static_cast<std::size_t>(sample_shape.rank()) + 1);
}

template <class Label>
batch_result score(tape& t, var logits, var loss, const Label* labels, std::size_t count) {
  batch_result r;
  r.count = count;
  r.loss_sum = static_cast<double>(t.item(loss)) * static_cast<double>(count);
  const std::vector<std::size_t> predicted = predict_classes(t.value(logits));
  for (std::size_t i = 0; i < count; ++i) r.correct += predicted[i] == static_cast<std::size_t>(labels[i]) ? std::size_t{1} : std::size_t{0};
  return r;
}

}  // namespace internal

/// One optimisation step: clears the tape, zeroes the gradients, records the forward pass and
/// the loss, back-propagates, calls before_step() (where terms that are not on the tape, such
/// as a bit budget's gate gradient, add their gradients) and lets `opt` update the parameters.
/// The model should be in training mode. Returns the batch's loss and hits, measured before
/// the update.
template <class Label, class Hook>
batch_result train_batch(module& model, optimizer& opt, tape& t, const float* features, const Label* labels,
                         std::size_t count, const dense_shape& sample_shape, Hook before_step) {
  t.clear();
  opt.zero_grad();
  const var x = t.input(dense_view(features, internal::batch_shape(count, sample_shape)));
  const var logits = model.forward(t, x);
  const var loss = softmax_cross_entropy(logits, labels, count);
  t.backward(loss);
  before_step();
  opt.step();
  return internal::score(t, logits, loss, labels, count);
}

/// The same without a hook.
template <class Label>
batch_result train_batch(module& model, optimizer& opt, tape& t, const float* features, const Label* labels,
                         std::size_t count, const dense_shape& sample_shape) {
  return train_batch(model, opt, t, features, labels, count, sample_shape, [] {});
}

/// Loss and hits of the model on a batch, without recording gradients (the caller chooses the
/// mode: eval() for running statistics in batch norm).
template <class Label>
batch_result evaluate_batch(module& model, tape& t, const float* features, const Label* labels, std::size_t count,
                            const dense_shape& sample_shape) {
  t.clear();
  const no_grad_guard no_grad(t);
  const var x = t.input(dense_view(features, internal::batch_shape(count, sample_shape)));
  const var logits = model.forward(t, x);
  const var loss = softmax_cross_entropy(logits, labels, count);
  return internal::score(t, logits, loss, labels, count);
}

}  // namespace anybit::nn
