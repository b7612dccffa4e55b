// anybit/autograd/node.hpp — one entry of the tape's Wengert list.
//
// A node is an op id, up to three input indices (earlier nodes), the shape of its value, and
// pointers into the tape's arena: its value, its gradient (allocated by backward) and whatever
// the op saved for its backward rule. The list is recorded in execution order, so walking it
// backwards visits every node after all of its consumers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "anybit/autograd/quantizer_op.hpp"
#include "anybit/gemm/float_gemm.hpp"
#include "anybit/tensor/dense_shape.hpp"

namespace anybit {

enum class op_id : std::uint8_t {
  input,                  // leaf copied into the tape
  parameter,              // leaf aliasing a parameter; its gradient is the parameter's grad
  add,                    // a + b, same shapes
  add_row_bias,           // (N x F) + (F): bias broadcast over rows
  add_channel_bias,       // (N x C x H x W) + (C): bias broadcast over channels
  sub,                    // a - b
  mul,                    // a * b element-wise
  scale,                  // factor * a
  relu,                   // max(a, 0)
  matmul,                 // op(a) * op(b), 2-D
  reshape,                // same elements, new shape (value shared with the input)
  detach,                 // same value, no gradient flows back
  max_pool2d,
  avg_pool2d,
  conv2d,                 // NCHW input, OIHW weight, optional bias
  batch_norm,             // over N (2-D) or N, H, W (4-D) per channel
  softmax_cross_entropy,  // mean over rows of logsumexp(z) - z[label]
  sum,                    // all elements -> scalar
  mean,                   // all elements -> scalar
  fake_quant,             // decode(encode(x)) by a quantizer policy; inputs x and its parameters
};

inline constexpr std::uint32_t no_input = 0xFFFFFFFFu;

/// Settings an op records for its backward rule; each op reads only its own fields.
struct op_attributes {
  std::size_t kernel = 0;   // pooling window
  std::size_t stride = 1;   // conv2d, pooling
  std::size_t padding = 0;  // conv2d
  float factor = 0;         // scale: the multiplier; batch_norm: epsilon
  bool training = false;    // batch_norm: batch statistics (true) or running statistics
  transpose transpose_a = transpose::no, transpose_b = transpose::no;  // matmul
};

struct node {
  op_id op = op_id::input;
  bool needs_grad = false;  // some input needs a gradient (and recording was enabled)
  bool reached = false;     // set by backward: the loss depends on this node
  std::array<std::uint32_t, 3> inputs{no_input, no_input, no_input};
  dense_shape shape;
  float* value = nullptr;
  float* grad = nullptr;
  float* saved = nullptr;                // op-specific floats for backward
  std::uint32_t* saved_index = nullptr;  // op-specific indices (max-pool argmax, labels)
  const quantizer_op* quantizer = nullptr;  // fake_quant: the policy
  op_attributes attr;
};

}  // namespace anybit
