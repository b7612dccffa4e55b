// anybit/autograd/quantizer_op.hpp — what the tape needs of a quantizer policy.
//
// The policies (quant/) are pure math on arrays; the tape sees any of them through this
// interface, with the policy's parameters as one flat array (its parameter_arrays() in order).
// The fake_quant op records a pointer to it, so the object must outlive the tape's backward().
#pragma once

#include <cstddef>

namespace anybit {

class quantizer_op {
 public:
  virtual ~quantizer_op() = default;
  /// Parameter sets along the tensor (contiguous equal groups); 1 = per tensor, which the tape
  /// may split into blocks between threads.
  virtual std::size_t channels() const = 0;
  /// y = decode(encode(x)) for n values; y may be x.
  virtual void forward(const float* x, std::size_t n, const float* params, float* y) const = 0;
  /// Overwrites dx with dL/dx and adds dL/dparams into dparams (the same flat layout).
  virtual void backward(const float* x, const float* dy, std::size_t n, const float* params, float* dx,
                        float* dparams) const = 0;
};

}  // namespace anybit
