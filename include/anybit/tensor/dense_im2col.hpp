// anybit/tensor/dense_im2col.hpp — convolution as a GEMM: im2col and its adjoint, col2im.
//
// For one C x H x W image, im2col writes a (C * KH * KW) x (OH * OW) matrix whose row
// (c * KH + kh) * KW + kw holds, for every output pixel, the input pixel under kernel tap
// (c, kh, kw); taps that fall into the zero padding read 0. A convolution is then one GEMM:
// out (OC x OH*OW) = weight (OC x C*KH*KW) * columns, with the weight in its natural OIHW
// row-major layout. col2im adds a column matrix back onto an image (the transpose of im2col),
// which is what the input gradient needs. Templates, so integer codes can reuse them.
#pragma once

#include <algorithm>
#include <cstddef>

#include "anybit/core/error.hpp"

namespace anybit {

/// Geometry of a 2-D convolution over one image (square padding, equal strides).
struct conv_geometry {
  std::size_t channels = 0, height = 0, width = 0;
  std::size_t kernel_h = 1, kernel_w = 1;
  std::size_t stride = 1, padding = 0;

  std::size_t out_h() const noexcept { return (height + 2 * padding - kernel_h) / stride + 1; }
  std::size_t out_w() const noexcept { return (width + 2 * padding - kernel_w) / stride + 1; }
  std::size_t out_pixels() const noexcept { return out_h() * out_w(); }
  /// Rows of the column matrix: the length of one receptive field.
  std::size_t patch_size() const noexcept { return channels * kernel_h * kernel_w; }

  /// Throws shape_error unless stride >= 1, the kernel is non-empty and fits the padded input.
  void validate() const {
    if (stride == 0) throw shape_error("anybit: convolution stride 0, expected at least 1");
    if (kernel_h == 0 || kernel_w == 0) {
      throw shape_error(detail::message("anybit: convolution kernel ", kernel_h, "x", kernel_w, ", expected non-empty"));
    }
    if (kernel_h > height + 2 * padding || kernel_w > width + 2 * padding) {
      throw shape_error(detail::message("anybit: convolution kernel ", kernel_h, "x", kernel_w, " does not fit a ", height,
                                        "x", width, " input with padding ", padding,
                                        ", expected kernel <= input + 2 * padding"));
    }
  }

  /// Output columns [first, last) whose tap at kernel column offset `k` lands inside the
  /// unpadded input of extent `extent`; the rest read padding.
  void valid_range(std::size_t k, std::size_t extent, std::size_t outputs, std::size_t& first,
                   std::size_t& last) const noexcept {
    // Output o reads padded coordinate o * stride + k, inside iff padding <= it < padding + extent.
    first = padding > k ? (padding - k + stride - 1) / stride : 0;
    last = extent + padding > k ? std::min(outputs, (extent + padding - k - 1) / stride + 1) : 0;
    if (first > last) first = last;
  }
};

/// image (C x H x W) -> columns ((C*KH*KW) x (OH*OW)); padding reads T{}.
template <class T>
void im2col(const T* image, const conv_geometry& g, T* columns) {
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w();
  T* out = columns;
  for (std::size_t c = 0; c < g.channels; ++c) {
    for (std::size_t kh = 0; kh < g.kernel_h; ++kh) {
      std::size_t oh_first = 0, oh_last = 0;
      g.valid_range(kh, g.height, oh_count, oh_first, oh_last);
      for (std::size_t kw = 0; kw < g.kernel_w; ++kw) {
        std::size_t ow_first = 0, ow_last = 0;
        g.valid_range(kw, g.width, ow_count, ow_first, ow_last);
        for (std::size_t oh = 0; oh < oh_count; ++oh, out += ow_count) {
          if (oh < oh_first || oh >= oh_last) {
            std::fill(out, out + ow_count, T{});
            continue;
          }
          const T* in_row = image + (c * g.height + oh * g.stride + kh - g.padding) * g.width;
          std::fill(out, out + ow_first, T{});
          if (g.stride == 1) {  // a contiguous run: a copy the compiler vectorizes
            std::copy(in_row + ow_first + kw - g.padding, in_row + ow_last + kw - g.padding, out + ow_first);
          } else {
            for (std::size_t ow = ow_first; ow < ow_last; ++ow) out[ow] = in_row[ow * g.stride + kw - g.padding];
          }
          std::fill(out + ow_last, out + ow_count, T{});
        }
      }
    }
  }
}

/// image (C x H x W) += col2im(columns): every column entry is added to the pixel it was read
/// from; entries that came from padding are dropped.
template <class T>
void col2im_add(const T* columns, const conv_geometry& g, T* image) {
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w();
  const T* in = columns;
  for (std::size_t c = 0; c < g.channels; ++c) {
    for (std::size_t kh = 0; kh < g.kernel_h; ++kh) {
      std::size_t oh_first = 0, oh_last = 0;
      g.valid_range(kh, g.height, oh_count, oh_first, oh_last);
      for (std::size_t kw = 0; kw < g.kernel_w; ++kw) {
        std::size_t ow_first = 0, ow_last = 0;
        g.valid_range(kw, g.width, ow_count, ow_first, ow_last);
        for (std::size_t oh = 0; oh < oh_count; ++oh, in += ow_count) {
          if (oh < oh_first || oh >= oh_last) continue;
          T* out_row = image + (c * g.height + oh * g.stride + kh - g.padding) * g.width;
          for (std::size_t ow = ow_first; ow < ow_last; ++ow) out_row[ow * g.stride + kw - g.padding] += in[ow];
        }
      }
    }
  }
}

}  // namespace anybit
