// The oracle of the integer conv2d tests: one output's real-valued dot product by a direct loop
// over channels and kernel taps, and where that output sits in the input's layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/gemm/conv2d.hpp"

namespace anybit::test {

/// sum over taps of (qa - a_zero) * (qw - w_zero) for output (b, o, oh, ow); padding taps read
/// pad_code; weights are in the layout's order (O C kh kw for NCHW, O kh kw C for NHWC).
inline double direct_conv_dot(const conv2d_shape& s, std::uint8_t pad_code, const std::vector<std::uint8_t>& x,
                              const std::vector<std::uint8_t>& w, double a_zero, double w_zero, std::size_t b,
                              std::size_t o, std::size_t oh, std::size_t ow) {
  const bool nchw = s.layout == data_layout::nchw;
  double dot = 0;
  for (std::size_t c = 0; c < s.channels; ++c) {
    for (std::size_t r = 0; r < s.kernel_h; ++r) {
      for (std::size_t q = 0; q < s.kernel_w; ++q) {
        const long ih = static_cast<long>(oh * s.stride_h + r) - static_cast<long>(s.pad_h);
        const long iw = static_cast<long>(ow * s.stride_w + q) - static_cast<long>(s.pad_w);
        const bool inside = ih >= 0 && iw >= 0 && ih < static_cast<long>(s.height) && iw < static_cast<long>(s.width);
        const auto h = static_cast<std::size_t>(ih), v = static_cast<std::size_t>(iw);
        const double qa = !inside ? pad_code
                          : nchw  ? x[((b * s.channels + c) * s.height + h) * s.width + v]
                                  : x[((b * s.height + h) * s.width + v) * s.channels + c];
        const double qw = nchw ? w[((o * s.channels + c) * s.kernel_h + r) * s.kernel_w + q]
                               : w[((o * s.kernel_h + r) * s.kernel_w + q) * s.channels + c];
        dot += (qa - a_zero) * (qw - w_zero);
      }
    }
  }
  return dot;
}

/// Index of output (b, o, oh, ow) in the input's layout.
inline std::size_t conv_output_index(const conv2d_shape& s, std::size_t b, std::size_t o, std::size_t oh,
                                     std::size_t ow) {
  return s.layout == data_layout::nchw ? ((b * s.out_channels + o) * s.out_height() + oh) * s.out_width() + ow
                                       : ((b * s.out_height() + oh) * s.out_width() + ow) * s.out_channels + o;
}

}  // namespace anybit::test
