// anybit/nn/pooling.hpp — max and average pooling layers over NCHW input (no padding).
#pragma once

#include <cstddef>
#include <string>

#include "anybit/autograd/ops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/nn/module.hpp"

namespace anybit::nn {

namespace internal {

inline void check_pool_window(const char* what, std::size_t kernel, std::size_t stride) {
  if (kernel == 0 || stride == 0) {
    throw shape_error(detail::message("anybit: ", what, " with kernel ", kernel, " and stride ", stride,
                                      ", expected both at least 1"));
  }
}

}  // namespace internal

/// Maximum over kernel x kernel windows moving by `stride` (default: the kernel, no overlap).
class max_pool2d : public module {
 public:
  explicit max_pool2d(std::size_t kernel, std::size_t stride = 0) : kernel_(kernel), stride_(stride == 0 ? kernel : stride) {
    internal::check_pool_window("max_pool2d", kernel_, stride_);
  }
  var forward(tape& t, var x) override {
    internal::check_input_rank(*this, t.shape(x), 4, "N x C x H x W");
    return anybit::max_pool2d(x, kernel_, stride_);
  }
  std::string describe() const override { return detail::message("max_pool2d(", kernel_, ", stride ", stride_, ")"); }
  std::size_t kernel() const noexcept { return kernel_; }
  std::size_t stride() const noexcept { return stride_; }

 private:
  std::size_t kernel_, stride_;
};

/// Mean over kernel x kernel windows moving by `stride` (default: the kernel, no overlap).
class avg_pool2d : public module {
 public:
  explicit avg_pool2d(std::size_t kernel, std::size_t stride = 0) : kernel_(kernel), stride_(stride == 0 ? kernel : stride) {
    internal::check_pool_window("avg_pool2d", kernel_, stride_);
  }
  var forward(tape& t, var x) override {
    internal::check_input_rank(*this, t.shape(x), 4, "N x C x H x W");
    return anybit::avg_pool2d(x, kernel_, stride_);
  }
  std::string describe() const override { return detail::message("avg_pool2d(", kernel_, ", stride ", stride_, ")"); }

 private:
  std::size_t kernel_, stride_;
};

}  // namespace anybit::nn
