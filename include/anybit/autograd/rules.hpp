// anybit/autograd/rules.hpp — the backward rule of every op, in one switch.
//
// A rule reads its node's gradient dy (complete: every consumer came later on the tape and has
// run) and adds (+=) its contribution into each input's gradient, so a value used twice gets
// both shares. Inputs that need no gradient get no work: grad_of() returns null for them, and
// rules skip the GEMM or loop that would only feed them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/autograd/arena.hpp"
#include "anybit/autograd/batch_norm_loops.hpp"
#include "anybit/autograd/node.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/float_gemm.hpp"
#include "anybit/tensor/dense_im2col.hpp"
#include "anybit/tensor/dense_pool.hpp"
#include "anybit/tensor/dense_reduce.hpp"

namespace anybit {
namespace rules {

/// Gradient of input `slot` of n, or null when that input needs none.
inline float* grad_of(const node& n, const std::vector<node>& nodes, int slot) {
  const std::uint32_t in = n.inputs[static_cast<std::size_t>(slot)];
  return in != no_input && nodes[in].needs_grad ? nodes[in].grad : nullptr;
}
inline const node& input_of(const node& n, const std::vector<node>& nodes, int slot) {
  return nodes[n.inputs[static_cast<std::size_t>(slot)]];
}

inline void add_scaled(float* dst, const float* src, float factor, std::size_t count) {
  if (dst == nullptr) return;
  for (std::size_t i = 0; i < count; ++i) dst[i] += factor * src[i];
}

/// C = op(A) op(B): dA += dC op(B)^T and dB += op(A)^T dC, written for the stored layouts.
inline void matmul(const node& n, const std::vector<node>& nodes, gemm_context& ctx) {
  const node& a = input_of(n, nodes, 0);
  const node& b = input_of(n, nodes, 1);
  const transpose ta = n.attr.transpose_a, tb = n.attr.transpose_b;
  const std::size_t m = n.shape[0], cols = n.shape[1], k = ta == transpose::no ? a.shape[1] : a.shape[0];
  const std::size_t lda = a.shape[1], ldb = b.shape[1];
  const auto flip = [](transpose t) { return t == transpose::no ? transpose::yes : transpose::no; };
  if (float* da = grad_of(n, nodes, 0)) {
    if (ta == transpose::no) {
      float_gemm(transpose::no, flip(tb), m, k, cols, 1.0f, n.grad, cols, b.value, ldb, 1.0f, da, lda, ctx);
    } else {
      float_gemm(tb, transpose::yes, k, m, cols, 1.0f, b.value, ldb, n.grad, cols, 1.0f, da, lda, ctx);
    }
  }
  if (float* db = grad_of(n, nodes, 1)) {
    if (tb == transpose::no) {
      float_gemm(flip(ta), transpose::no, k, cols, m, 1.0f, a.value, lda, n.grad, cols, 1.0f, db, ldb, ctx);
    } else {
      float_gemm(transpose::yes, ta, cols, k, m, 1.0f, n.grad, cols, a.value, lda, 1.0f, db, ldb, ctx);
    }
  }
}

/// Per image: dW += dY cols^T (cols recomputed by im2col), dcols = W^T dY then col2im into dX,
/// db += the sum of dY over pixels.
inline void conv2d(const node& n, const std::vector<node>& nodes, gemm_context& ctx, scratch_buffer& scratch) {
  const node& x = input_of(n, nodes, 0);
  const node& w = input_of(n, nodes, 1);
  float* dx = grad_of(n, nodes, 0);
  float* dw = grad_of(n, nodes, 1);
  float* db = grad_of(n, nodes, 2);  // null without a bias
  const conv_geometry g{x.shape[1], x.shape[2], x.shape[3], w.shape[2], w.shape[3], n.attr.stride, n.attr.padding};
  const std::size_t out_channels = w.shape[0], pixels = g.out_pixels(), patch = g.patch_size();
  const std::size_t image = g.channels * g.height * g.width;
  float* columns = (dx != nullptr || dw != nullptr) ? scratch.get(patch * pixels) : nullptr;
  for (std::size_t i = 0; i < x.shape[0]; ++i) {
    const float* dy = n.grad + i * out_channels * pixels;
    if (dw != nullptr) {
      im2col(x.value + i * image, g, columns);
      float_gemm(transpose::no, transpose::yes, out_channels, patch, pixels, 1.0f, dy, pixels, columns, pixels, 1.0f, dw,
                 patch, ctx);
    }
    if (dx != nullptr) {
      float_gemm(transpose::yes, transpose::no, patch, pixels, out_channels, 1.0f, w.value, patch, dy, pixels, 0.0f,
                 columns, pixels, ctx);
      col2im_add(columns, g, dx + i * image);
    }
    if (db != nullptr) {
      for (std::size_t oc = 0; oc < out_channels; ++oc) db[oc] += static_cast<float>(lane_sum(dy + oc * pixels, pixels));
    }
  }
}

inline pool_geometry pool_of(const node& n, const node& x) {
  return pool_geometry{x.shape[0] * x.shape[1], x.shape[2], x.shape[3], n.attr.kernel, n.attr.stride};
}

/// Runs n's backward rule. Called by tape::backward for reached nodes, last to first.
inline void apply(const node& n, const std::vector<node>& nodes, gemm_context& ctx, scratch_buffer& scratch) {
  const float* dy = n.grad;
  const std::size_t size = n.shape.size();
  switch (n.op) {
    case op_id::input:
    case op_id::parameter:
    case op_id::detach:
      return;  // leaves; detach never needs a gradient
    case op_id::add:
      add_scaled(grad_of(n, nodes, 0), dy, 1.0f, size);
      add_scaled(grad_of(n, nodes, 1), dy, 1.0f, size);
      return;
    case op_id::sub:
      add_scaled(grad_of(n, nodes, 0), dy, 1.0f, size);
      add_scaled(grad_of(n, nodes, 1), dy, -1.0f, size);
      return;
    case op_id::reshape:
      add_scaled(grad_of(n, nodes, 0), dy, 1.0f, size);
      return;
    case op_id::scale:
      add_scaled(grad_of(n, nodes, 0), dy, n.attr.factor, size);
      return;
    case op_id::add_row_bias:
    case op_id::add_channel_bias: {
      add_scaled(grad_of(n, nodes, 0), dy, 1.0f, size);
      float* db = grad_of(n, nodes, 1);
      if (db == nullptr) return;
      // Row bias: dy is (rows x F) with unit inner extent; channel bias: (N x C x S).
      const bool rows = n.op == op_id::add_row_bias;
      const std::size_t outer = n.shape[0], channels = n.shape[1], inner = rows ? 1 : n.shape[2] * n.shape[3];
      for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t c = 0; c < channels; ++c) db[c] += static_cast<float>(lane_sum(dy + (o * channels + c) * inner, inner));
      }
      return;
    }
    case op_id::mul: {
      const float* a = input_of(n, nodes, 0).value;
      const float* b = input_of(n, nodes, 1).value;
      if (float* da = grad_of(n, nodes, 0)) {
        for (std::size_t i = 0; i < size; ++i) da[i] += dy[i] * b[i];
      }
      if (float* db = grad_of(n, nodes, 1)) {
        for (std::size_t i = 0; i < size; ++i) db[i] += dy[i] * a[i];
      }
      return;
    }
    case op_id::relu: {
      float* da = grad_of(n, nodes, 0);
      for (std::size_t i = 0; i < size; ++i) {
        const float g = dy[i];  // loaded unconditionally so the select vectorizes
        da[i] += n.value[i] > 0.0f ? g : 0.0f;
      }
      return;
    }
    case op_id::sum:
    case op_id::mean: {
      const node& a = input_of(n, nodes, 0);
      const float share = n.op == op_id::sum ? dy[0] : dy[0] / static_cast<float>(a.shape.size());
      float* da = grad_of(n, nodes, 0);
      for (std::size_t i = 0; i < a.shape.size(); ++i) da[i] += share;
      return;
    }
    case op_id::matmul:
      matmul(n, nodes, ctx);
      return;
    case op_id::conv2d:
      conv2d(n, nodes, ctx, scratch);
      return;
    case op_id::max_pool2d:
      max_pool_backward_add(dy, n.saved_index, pool_of(n, input_of(n, nodes, 0)), grad_of(n, nodes, 0));
      return;
    case op_id::avg_pool2d:
      avg_pool_backward_add(dy, pool_of(n, input_of(n, nodes, 0)), grad_of(n, nodes, 0));
      return;
    case op_id::batch_norm: {
      const node& x = input_of(n, nodes, 0);
      const batch_norm_layout l{x.shape[0], x.shape[1], x.shape.rank() == 4 ? x.shape[2] * x.shape[3] : 1};
      batch_norm_backward_add(x.value, dy, input_of(n, nodes, 1).value, n.saved, n.saved + l.channels, l,
                              n.attr.training, grad_of(n, nodes, 0), grad_of(n, nodes, 1), grad_of(n, nodes, 2));
      return;
    }
    case op_id::softmax_cross_entropy: {
      // d(mean_r logsumexp(z_r) - z_r[y_r]) / dz = (softmax(z) - onehot(y)) / rows.
      const node& z = input_of(n, nodes, 0);
      const std::size_t rows = z.shape[0], classes = z.shape[1];
      const float share = dy[0] / static_cast<float>(rows);
      float* dz = grad_of(n, nodes, 0);
      for (std::size_t r = 0; r < rows; ++r) {
        const float* p = n.saved + r * classes;
        float* d = dz + r * classes;
        for (std::size_t c = 0; c < classes; ++c) d[c] += share * p[c];
        d[n.saved_index[r]] -= share;
      }
      return;
    }
  }
}

}  // namespace rules
}  // namespace anybit
