// anybit/autograd/rules.hpp — the backward rule of every op, in one switch.
//
// A rule reads its node's gradient dy (complete: every consumer came later on the tape and has
// run) and adds (+=) its contribution into each input's gradient, so a value used twice gets
// both shares. Inputs that need no gradient get no work: grad_of() returns null for them, and
// rules skip the GEMM or loop that would only feed them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/autograd/arena.hpp"
#include "anybit/autograd/batch_norm_loops.hpp"
#include "anybit/autograd/node.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/float_gemm.hpp"
#include "anybit/gemm/parallel.hpp"
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

// dW and db are sums over images. The batch is cut into a fixed number of groups, whatever the
// thread count; each group sums its images into its own partial, and the partials are added in
// group order, so the result is the same on any number of threads.
inline constexpr std::size_t conv_weight_groups = 8;

/// Per image: dW += dY cols^T (cols recomputed by im2col), dcols = W^T dY then col2im into dX,
/// db += the sum of dY over pixels.
inline void conv2d(const node& n, const std::vector<node>& nodes, gemm_context& ctx, scratch_buffer& scratch) {
  const node& x = input_of(n, nodes, 0);
  const node& w = input_of(n, nodes, 1);
  float* dx = grad_of(n, nodes, 0);
  float* dw = grad_of(n, nodes, 1);
  float* db = grad_of(n, nodes, 2);  // null without a bias
  const conv_geometry g{x.shape[1], x.shape[2], x.shape[3], w.shape[2], w.shape[3], n.attr.stride, n.attr.padding};
  const std::size_t images = x.shape[0], out_channels = w.shape[0], pixels = g.out_pixels(), patch = g.patch_size();
  const std::size_t image = g.channels * g.height * g.width;
  const std::size_t groups = std::min(images, conv_weight_groups);
  const std::size_t workers = detail::parallel_workers(ctx, groups, 1);
  const std::size_t column_floats = round_up(patch * pixels, 16);
  const std::size_t partial_floats = round_up(out_channels * patch, 16) + round_up(out_channels, 16);
  float* columns = scratch.get(workers * column_floats + groups * partial_floats);
  float* partials = columns + workers * column_floats;

  detail::parallel_ranges(ctx, groups, 1, [&](std::size_t first, std::size_t last, std::size_t worker) {
    gemm_context own = workers > 1 ? detail::single_threaded(ctx) : ctx;
    float* cols = columns + worker * column_floats;
    for (std::size_t group = first; group < last; ++group) {
      float* dw_part = partials + group * partial_floats;
      float* db_part = dw_part + round_up(out_channels * patch, 16);
      std::fill(dw_part, dw_part + partial_floats, 0.0f);
      for (std::size_t i = images * group / groups; i < images * (group + 1) / groups; ++i) {
        const float* dy = n.grad + i * out_channels * pixels;
        if (dw != nullptr) {
          im2col(x.value + i * image, g, cols);
          float_gemm(transpose::no, transpose::yes, out_channels, patch, pixels, 1.0f, dy, pixels, cols, pixels, 1.0f,
                     dw_part, patch, own);
        }
        if (dx != nullptr) {
          float_gemm(transpose::yes, transpose::no, patch, pixels, out_channels, 1.0f, w.value, patch, dy, pixels, 0.0f,
                     cols, pixels, own);
          col2im_add(cols, g, dx + i * image);
        }
        if (db != nullptr) {
          for (std::size_t oc = 0; oc < out_channels; ++oc) db_part[oc] += static_cast<float>(lane_sum(dy + oc * pixels, pixels));
        }
      }
    }
  });
  for (std::size_t group = 0; group < groups; ++group) {
    const float* dw_part = partials + group * partial_floats;
    add_scaled(dw, dw_part, 1.0f, out_channels * patch);
    add_scaled(db, dw_part + round_up(out_channels * patch, 16), 1.0f, out_channels);
  }
}

inline pool_geometry pool_of(const node& n, const node& x) {
  return pool_geometry{x.shape[0] * x.shape[1], x.shape[2], x.shape[3], n.attr.kernel, n.attr.stride};
}

// A per-tensor quantizer's parameter gradient is a sum over the whole tensor. It is cut into
// blocks of a fixed size, whatever the thread count; each block sums into its own partial, and
// the partials are added in block order, so any thread count gives the same bits.
inline constexpr std::size_t fake_quant_block = 32768;

/// The policy overwrites dx and adds into dparams; the rule adds dx into the input's gradient.
inline void fake_quant(const node& n, const std::vector<node>& nodes, gemm_context& ctx, scratch_buffer& scratch) {
  const node& x = input_of(n, nodes, 0);
  const node& params = input_of(n, nodes, 1);
  float* dx = grad_of(n, nodes, 0);
  float* dparams = grad_of(n, nodes, 1);
  const std::size_t size = n.shape.size(), count = params.shape.size();
  const std::size_t blocks = n.quantizer->channels() == 1 ? std::max<std::size_t>(1, ceil_div(size, fake_quant_block)) : 1;
  const std::size_t partial_floats = round_up(count, 16);
  float* dx_buffer = scratch.get(round_up(size, 16) + blocks * partial_floats);
  float* partials = dx_buffer + round_up(size, 16);
  std::fill(partials, partials + blocks * partial_floats, 0.0f);
  detail::parallel_ranges(ctx, blocks, 1, [&](std::size_t first, std::size_t last, std::size_t) {
    for (std::size_t b = first; b < last; ++b) {
      const std::size_t begin = size * b / blocks, end = size * (b + 1) / blocks;
      n.quantizer->backward(x.value + begin, n.grad + begin, end - begin, params.value, dx_buffer + begin,
                            partials + b * partial_floats);
    }
  });
  add_scaled(dx, dx_buffer, 1.0f, size);
  for (std::size_t b = 0; b < blocks; ++b) add_scaled(dparams, partials + b * partial_floats, 1.0f, count);
}

/// Pooling backward, planes split between threads (each plane's gradient is its own).
inline void pool_backward(const node& n, const std::vector<node>& nodes, gemm_context& ctx) {
  const pool_geometry g = pool_of(n, input_of(n, nodes, 0));
  float* dx = grad_of(n, nodes, 0);
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h() * g.out_w();
  detail::parallel_ranges(ctx, g.planes, detail::items_per_task(in_plane), [&](std::size_t first, std::size_t last, std::size_t) {
    pool_geometry part = g;
    part.planes = last - first;
    const float* dy = n.grad + first * out_plane;
    if (n.op == op_id::avg_pool2d) return avg_pool_backward_add(dy, part, dx + first * in_plane);
    max_pool_backward_add(dy, n.saved_index + first * out_plane, part, dx + first * in_plane);
  });
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
      detail::parallel_elements(ctx, size, [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
          const float g = dy[i];  // loaded unconditionally so the select vectorizes
          da[i] += n.value[i] > 0.0f ? g : 0.0f;
        }
      });
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
    case op_id::avg_pool2d:
      pool_backward(n, nodes, ctx);
      return;
    case op_id::batch_norm: {
      const node& x = input_of(n, nodes, 0);
      const batch_norm_layout l{x.shape[0], x.shape[1], x.shape.rank() == 4 ? x.shape[2] * x.shape[3] : 1};
      batch_norm_backward_add(x.value, dy, input_of(n, nodes, 1).value, n.saved, n.saved + l.channels, l,
                              n.attr.training, grad_of(n, nodes, 0), grad_of(n, nodes, 1), grad_of(n, nodes, 2), ctx);
      return;
    }
    case op_id::fake_quant:
      fake_quant(n, nodes, ctx, scratch);
      return;
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
