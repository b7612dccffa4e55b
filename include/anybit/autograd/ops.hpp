// anybit/autograd/ops.hpp — the differentiable ops: each checks shapes, computes its value at
// once and records a node whose backward rule lives in rules.hpp.
//
// Composites get no rule of their own: linear is matmul + bias, flatten is reshape, and a
// straight-through estimator is x + detach(q(x) - x). Matmul and conv2d run on float_gemm with
// the tape's gemm_context; everything else is a plain loop in a fixed order, so equal inputs and
// thread counts give bit-identical values and gradients.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "anybit/autograd/batch_norm_loops.hpp"
#include "anybit/autograd/tape.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/float_gemm.hpp"
#include "anybit/gemm/parallel.hpp"
#include "anybit/tensor/dense_im2col.hpp"
#include "anybit/tensor/dense_pool.hpp"
#include "anybit/tensor/dense_reduce.hpp"
#include "anybit/tensor/dense_tensor.hpp"

namespace anybit {
namespace ops_detail {

inline tape& tape_of(var v) {
  if (v.owner == nullptr) throw error("anybit: an op got a default-constructed var, expected one recorded on a tape");
  return *v.owner;
}

inline void check_rank(const char* what, const dense_shape& s, int rank) {
  if (s.rank() != rank) {
    throw shape_error(detail::message("anybit: ", what, " got shape ", s, ", expected rank ", rank));
  }
}

/// a op b element-wise, with shapes already checked equal.
template <class Op>
var elementwise(op_id id, var a, var b, Op op) {
  tape& t = tape_of(a);
  const dense_shape shape = t.shape(a);
  const var y = t.record(id, shape, {a, b});
  const float* x0 = t.at(a).value;
  const float* x1 = t.at(b).value;
  float* out = t.at(y).value;
  for (std::size_t i = 0; i < shape.size(); ++i) out[i] = op(x0[i], x1[i]);
  return y;
}

}  // namespace ops_detail

/// a + b for equal shapes; also (N x F) + (F) (bias over rows) and (N x C x H x W) + (C) (bias
/// over channels). Anything else throws shape_error naming both shapes.
inline var add(var a, var b) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape sa = t.shape(a), sb = t.shape(b);
  if (sa == sb) return ops_detail::elementwise(op_id::add, a, b, [](float x, float y) { return x + y; });
  const bool bias = sb.rank() == 1 && (sa.rank() == 2 || sa.rank() == 4) && sb[0] == sa[1];
  if (!bias) {
    throw shape_error(detail::message("anybit: add got shapes ", sa, " and ", sb,
                                      ", expected equal shapes, or a 1-D bias of A[1] elements for a 2-D or 4-D A"));
  }
  const op_id id = sa.rank() == 2 ? op_id::add_row_bias : op_id::add_channel_bias;
  const var y = t.record(id, sa, {a, b});
  const float* x = t.at(a).value;
  const float* bv = t.at(b).value;
  float* out = t.at(y).value;
  const std::size_t outer = sa[0], channels = sa[1], inner = sa.rank() == 2 ? 1 : sa[2] * sa[3];
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t at = (o * channels + c) * inner;
      for (std::size_t s = 0; s < inner; ++s) out[at + s] = x[at + s] + bv[c];
    }
  }
  return y;
}

inline var sub(var a, var b) {
  tape& t = ops_detail::tape_of(a);
  check_same_shape("sub", t.shape(a), t.shape(b));
  return ops_detail::elementwise(op_id::sub, a, b, [](float x, float y) { return x - y; });
}

/// Element-wise product.
inline var mul(var a, var b) {
  tape& t = ops_detail::tape_of(a);
  check_same_shape("mul", t.shape(a), t.shape(b));
  return ops_detail::elementwise(op_id::mul, a, b, [](float x, float y) { return x * y; });
}

inline var scale(var a, float factor) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape shape = t.shape(a);
  op_attributes attr;
  attr.factor = factor;
  const var y = t.record(op_id::scale, shape, {a}, attr);
  const float* x = t.at(a).value;
  float* out = t.at(y).value;
  for (std::size_t i = 0; i < shape.size(); ++i) out[i] = factor * x[i];
  return y;
}

inline var operator+(var a, var b) { return add(a, b); }
inline var operator-(var a, var b) { return sub(a, b); }
inline var operator*(var a, var b) { return mul(a, b); }
inline var operator*(float factor, var a) { return scale(a, factor); }
inline var operator*(var a, float factor) { return scale(a, factor); }

/// max(a, 0); the gradient at exactly 0 is taken as 0.
inline var relu(var a) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape shape = t.shape(a);
  const var y = t.record(op_id::relu, shape, {a});
  const float* x = t.at(a).value;
  float* out = t.at(y).value;
  detail::parallel_elements(t.context(), shape.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
  });
  return y;
}

/// op(a) * op(b) for 2-D a and b (op = as stored, or transposed).
inline var matmul(var a, var b, transpose ta = transpose::no, transpose tb = transpose::no) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape sa = t.shape(a), sb = t.shape(b);
  if (sa.rank() != 2 || sb.rank() != 2) {
    throw shape_error(detail::message("anybit: matmul got shapes ", sa, " and ", sb, ", expected two 2-D operands"));
  }
  const bool a_t = ta == transpose::yes, b_t = tb == transpose::yes;
  const std::size_t m = sa[a_t ? 1 : 0], k = sa[a_t ? 0 : 1], kb = sb[b_t ? 1 : 0], n = sb[b_t ? 0 : 1];
  if (k != kb) {
    throw shape_error(detail::message("anybit: matmul got shapes ", sa, (a_t ? "^T" : ""), " and ", sb, (b_t ? "^T" : ""),
                                      ", inner extents ", k, " and ", kb, " differ"));
  }
  op_attributes attr;
  attr.transpose_a = ta;
  attr.transpose_b = tb;
  const var y = t.record(op_id::matmul, dense_shape{m, n}, {a, b}, attr);
  float_gemm(ta, tb, m, n, k, 1.0f, t.at(a).value, sa[1], t.at(b).value, sb[1], 0.0f, t.at(y).value, n, t.context());
  return y;
}

/// x W^T: x is (N x in), W is (out x in), as a linear layer stores it.
inline var linear(var x, var weight) { return matmul(x, weight, transpose::no, transpose::yes); }
/// x W^T + b, b of `out` elements.
inline var linear(var x, var weight, var bias) { return add(linear(x, weight), bias); }

/// Same elements, new extents (no copy); throws shape_error if the element counts differ.
inline var reshape(var a, const dense_shape& shape) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape old = t.shape(a);
  if (old.size() != shape.size()) {
    throw shape_error(detail::message("anybit: cannot reshape ", old, " (", old.size(), " elements) to ", shape, " (",
                                      shape.size(), " elements)"));
  }
  return t.record_alias(op_id::reshape, a, shape);
}

/// (N x ...) -> (N x rest): what a linear layer after convolutions needs.
inline var flatten(var a) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape s = t.shape(a);
  if (s.rank() < 1) throw shape_error(detail::message("anybit: flatten got shape ", s, ", expected rank 1 or more"));
  std::size_t rest = 1;
  for (int i = 1; i < s.rank(); ++i) rest *= s[i];
  return reshape(a, dense_shape{s[0], rest});
}

/// The same value, cut off from the gradient: nothing flows back through it.
inline var detach(var a) {
  tape& t = ops_detail::tape_of(a);
  const dense_shape s = t.shape(a);
  return t.record_alias(op_id::detach, a, s);
}

namespace ops_detail {

inline var reduce(op_id id, var a) {
  tape& t = tape_of(a);
  const std::size_t count = t.shape(a).size();
  const var y = t.record(id, dense_shape{}, {a});
  const float* x = t.at(a).value;
  double total = lane_sum(x, count);
  if (id == op_id::mean) total /= static_cast<double>(count);
  t.at(y).value[0] = static_cast<float>(total);
  return y;
}

inline var pool(op_id id, var x, std::size_t kernel, std::size_t stride) {
  tape& t = tape_of(x);
  const dense_shape s = t.shape(x);
  check_rank(id == op_id::max_pool2d ? "max_pool2d" : "avg_pool2d", s, 4);
  const pool_geometry g{s[0] * s[1], s[2], s[3], kernel, stride};
  g.validate();
  op_attributes attr;
  attr.kernel = kernel;
  attr.stride = stride;
  const var y = t.record(id, dense_shape{s[0], s[1], g.out_h(), g.out_w()}, {x}, attr);
  node& n = t.at(y);
  if (id == op_id::max_pool2d && n.needs_grad) n.saved_index = t.allocate_indices(n.shape.size());
  const float* in = t.at(x).value;
  float* out = n.value;
  std::uint32_t* argmax = n.saved_index;
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h() * g.out_w();
  detail::parallel_ranges(t.context(), g.planes, detail::items_per_task(in_plane),
                          [&](std::size_t first, std::size_t last, std::size_t) {
                            pool_geometry part = g;
                            part.planes = last - first;
                            if (id == op_id::avg_pool2d) return avg_pool_forward(in + first * in_plane, part, out + first * out_plane);
                            max_pool_forward(in + first * in_plane, part, out + first * out_plane,
                                             argmax != nullptr ? argmax + first * out_plane : nullptr);
                          });
  return y;
}

}  // namespace ops_detail

/// Sum of all elements, as a scalar.
inline var sum(var a) { return ops_detail::reduce(op_id::sum, a); }
/// Mean of all elements, as a scalar.
inline var mean(var a) { return ops_detail::reduce(op_id::mean, a); }

/// Max over kernel x kernel windows of an NCHW tensor, moving by `stride`, no padding.
inline var max_pool2d(var x, std::size_t kernel, std::size_t stride) {
  return ops_detail::pool(op_id::max_pool2d, x, kernel, stride);
}
inline var max_pool2d(var x, std::size_t kernel) { return max_pool2d(x, kernel, kernel); }
/// Mean over kernel x kernel windows of an NCHW tensor, moving by `stride`, no padding.
inline var avg_pool2d(var x, std::size_t kernel, std::size_t stride) {
  return ops_detail::pool(op_id::avg_pool2d, x, kernel, stride);
}
inline var avg_pool2d(var x, std::size_t kernel) { return avg_pool2d(x, kernel, kernel); }

struct conv2d_settings {
  std::size_t stride = 1;
  std::size_t padding = 0;  // zeros on every side
};

namespace ops_detail {

inline var conv(var x, var w, const var* bias, const conv2d_settings& settings) {
  tape& t = tape_of(x);
  const dense_shape sx = t.shape(x), sw = t.shape(w);
  if (sx.rank() != 4 || sw.rank() != 4 || sw[1] != sx[1]) {
    throw shape_error(detail::message("anybit: conv2d got input ", sx, " and weight ", sw,
                                      ", expected input N x C x H x W and weight OC x C x KH x KW with equal C"));
  }
  const std::size_t out_channels = sw[0];
  if (bias != nullptr && t.shape(*bias) != dense_shape{out_channels}) {
    throw shape_error(detail::message("anybit: conv2d got weight ", sw, " and bias ", t.shape(*bias), ", expected bias [",
                                      out_channels, "]"));
  }
  const conv_geometry g{sx[1], sx[2], sx[3], sw[2], sw[3], settings.stride, settings.padding};
  g.validate();
  op_attributes attr;
  attr.stride = settings.stride;
  attr.padding = settings.padding;
  const dense_shape out_shape{sx[0], out_channels, g.out_h(), g.out_w()};
  const var y = bias != nullptr ? t.record(op_id::conv2d, out_shape, {x, w, *bias}, attr)
                                : t.record(op_id::conv2d, out_shape, {x, w}, attr);
  const float* image = t.at(x).value;
  const float* weight = t.at(w).value;
  const float* b = bias != nullptr ? t.at(*bias).value : nullptr;
  float* out = t.at(y).value;
  const std::size_t pixels = g.out_pixels(), patch = g.patch_size(), image_size = sx[1] * sx[2] * sx[3];
  // Images are independent: with a batch to share, each thread takes whole images and runs
  // single-threaded GEMMs; a lone image gets the threads inside its GEMM instead.
  const std::size_t images = sx[0], workers = detail::parallel_workers(t.context(), images, 1);
  const std::size_t column_floats = round_up(patch * pixels, 16);
  float* columns = t.scratch().get(workers * column_floats);
  detail::parallel_ranges(t.context(), images, 1, [&](std::size_t first, std::size_t last, std::size_t worker) {
    gemm_context own = workers > 1 ? detail::single_threaded(t.context()) : t.context();
    float* cols = columns + worker * column_floats;
    for (std::size_t i = first; i < last; ++i) {
      float* out_i = out + i * out_channels * pixels;
      im2col(image + i * image_size, g, cols);
      float_gemm(transpose::no, transpose::no, out_channels, pixels, patch, 1.0f, weight, patch, cols, pixels, 0.0f,
                 out_i, pixels, own);
      if (b == nullptr) continue;
      for (std::size_t oc = 0; oc < out_channels; ++oc) {
        for (std::size_t p = 0; p < pixels; ++p) out_i[oc * pixels + p] += b[oc];
      }
    }
  });
  return y;
}

}  // namespace ops_detail

/// 2-D convolution (cross-correlation, as in every framework): x is N x C x H x W, weight is
/// OC x C x KH x KW; output N x OC x OH x OW with OH = (H + 2 * padding - KH) / stride + 1.
inline var conv2d(var x, var weight, const conv2d_settings& settings = {}) {
  return ops_detail::conv(x, weight, nullptr, settings);
}
/// The same plus a bias of OC elements.
inline var conv2d(var x, var weight, var bias, const conv2d_settings& settings = {}) {
  return ops_detail::conv(x, weight, &bias, settings);
}

/// decode(encode(x)) by quantizer q, whose parameters (q's flat layout) are `params`; backward
/// calls q's backward for x and the parameters. q must outlive the tape's backward().
inline var fake_quant(var x, var params, const quantizer_op& q) {
  tape& t = ops_detail::tape_of(x);
  const var y = t.record(op_id::fake_quant, t.shape(x), {x, params});
  node& n = t.at(y);
  n.quantizer = &q;
  const float* in = t.at(x).value;
  const float* p = t.at(params).value;
  float* out = n.value;
  if (q.channels() != 1) {
    q.forward(in, n.shape.size(), p, out);
  } else {  // per tensor: element-wise, so any split gives the same values
    detail::parallel_elements(t.context(), n.shape.size(), [&](std::size_t first, std::size_t last) {
      q.forward(in + first, last - first, p, out + first);
    });
  }
  return y;
}

struct batch_norm_settings {
  bool training = true;    // batch statistics (and a running-statistics update) or running ones
  float momentum = 0.1f;   // running = (1 - momentum) * running + momentum * batch
  float eps = 1e-5f;
};

/// Batch normalisation of N x C (per feature) or N x C x H x W (per channel) input with scale
/// gamma and shift beta (C elements each). Training mode normalises with the batch's statistics
/// and updates running_mean / running_var (C elements each, owned by the caller, updated even
/// when recording is off); evaluation mode normalises with them.
inline var batch_norm(var x, var gamma, var beta, dense_tensor& running_mean, dense_tensor& running_var,
                      const batch_norm_settings& settings = {}) {
  tape& t = ops_detail::tape_of(x);
  const dense_shape sx = t.shape(x);
  if (sx.rank() != 2 && sx.rank() != 4) {
    throw shape_error(detail::message("anybit: batch_norm got input ", sx, ", expected N x C or N x C x H x W"));
  }
  const dense_shape per_channel{sx[1]};
  check_same_shape("batch_norm (channels, gamma)", per_channel, t.shape(gamma));
  check_same_shape("batch_norm (channels, beta)", per_channel, t.shape(beta));
  check_same_shape("batch_norm (channels, running_mean)", per_channel, running_mean.shape());
  check_same_shape("batch_norm (channels, running_var)", per_channel, running_var.shape());
  const batch_norm_layout l{sx[0], sx[1], sx.rank() == 4 ? sx[2] * sx[3] : 1};
  if (settings.training && l.per_channel() < 2) {
    throw shape_error(detail::message("anybit: batch_norm in training mode got input ", sx,
                                      ", expected at least 2 values per channel"));
  }
  op_attributes attr;
  attr.factor = settings.eps;
  attr.training = settings.training;
  const var y = t.record(op_id::batch_norm, sx, {x, gamma, beta}, attr);
  node& n = t.at(y);
  float* mean_out = nullptr;
  float* invstd_out = nullptr;
  if (n.needs_grad) {
    n.saved = t.allocate_floats(2 * l.channels);
    mean_out = n.saved;
    invstd_out = n.saved + l.channels;
  }
  const float* xv = t.at(x).value;
  const float* g = t.at(gamma).value;
  const float* b = t.at(beta).value;
  if (settings.training) {
    batch_norm_train_forward(xv, g, b, l, settings.eps, settings.momentum, running_mean.data(), running_var.data(),
                             n.value, mean_out, invstd_out, t.context());
  } else {
    batch_norm_eval_forward(xv, g, b, l, settings.eps, running_mean.data(), running_var.data(), n.value, mean_out,
                            invstd_out, t.context());
  }
  return y;
}

/// Mean over rows of -log softmax(logits)[label]: logits is N x classes, one label per row in
/// 0..classes-1. Computed as logsumexp(z) - z[label] with the row maximum subtracted first.
template <class Label>
var softmax_cross_entropy(var logits, const Label* labels, std::size_t count) {
  static_assert(std::is_integral_v<Label>, "anybit: labels must be integers");
  tape& t = ops_detail::tape_of(logits);
  const dense_shape s = t.shape(logits);
  if (s.rank() != 2 || s[0] != count || count == 0 || s[1] == 0) {
    throw shape_error(detail::message("anybit: softmax_cross_entropy got logits ", s, " and ", count,
                                      " labels, expected N x classes logits (N, classes >= 1) and N labels"));
  }
  const std::size_t rows = s[0], classes = s[1];
  for (std::size_t r = 0; r < rows; ++r) {
    bool negative = false;
    if constexpr (std::is_signed_v<Label>) negative = labels[r] < 0;
    if (negative || static_cast<std::size_t>(labels[r]) >= classes) {
      throw shape_error(detail::message("anybit: softmax_cross_entropy label ", +labels[r], " at row ", r,
                                        ", expected 0..", classes - 1));
    }
  }
  const var y = t.record(op_id::softmax_cross_entropy, dense_shape{}, {logits});
  node& n = t.at(y);
  if (n.needs_grad) {
    n.saved = t.allocate_floats(rows * classes);  // softmax probabilities
    n.saved_index = t.allocate_indices(rows);
    for (std::size_t r = 0; r < rows; ++r) n.saved_index[r] = static_cast<std::uint32_t>(labels[r]);
  }
  const float* z = t.at(logits).value;
  double total = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* zr = z + r * classes;
    float top = zr[0];
    for (std::size_t c = 1; c < classes; ++c) top = zr[c] > top ? zr[c] : top;
    double denominator = 0;
    for (std::size_t c = 0; c < classes; ++c) denominator += std::exp(static_cast<double>(zr[c] - top));
    total += std::log(denominator) - static_cast<double>(zr[static_cast<std::size_t>(labels[r])] - top);
    if (n.saved == nullptr) continue;
    float* p = n.saved + r * classes;
    for (std::size_t c = 0; c < classes; ++c) {
      p[c] = static_cast<float>(std::exp(static_cast<double>(zr[c] - top)) / denominator);
    }
  }
  n.value[0] = static_cast<float>(total / static_cast<double>(rows));
  return y;
}

template <class Label>
var softmax_cross_entropy(var logits, const std::vector<Label>& labels) {
  return softmax_cross_entropy(logits, labels.data(), labels.size());
}

}  // namespace anybit
