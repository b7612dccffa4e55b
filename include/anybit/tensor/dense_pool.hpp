// anybit/tensor/dense_pool.hpp — max and average pooling loops over planes of H x W floats.
//
// A plane is one (n, c) slice of an NCHW tensor. Windows are kernel x kernel, step `stride`,
// no padding; outputs are floor((H - kernel) / stride) + 1 per axis. Backward functions add into
// the input gradient, so several consumers of one tensor accumulate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "anybit/core/error.hpp"

namespace anybit {

struct pool_geometry {
  std::size_t planes = 0, height = 0, width = 0;
  std::size_t kernel = 1, stride = 1;

  std::size_t out_h() const noexcept { return (height - kernel) / stride + 1; }
  std::size_t out_w() const noexcept { return (width - kernel) / stride + 1; }

  /// Throws shape_error unless 1 <= kernel <= H, W and stride >= 1.
  void validate() const {
    if (stride == 0) throw shape_error("anybit: pooling stride 0, expected at least 1");
    if (kernel == 0 || kernel > height || kernel > width) {
      throw shape_error(detail::message("anybit: pooling kernel ", kernel, " for a ", height, "x", width,
                                        " plane, expected 1..min(H, W)"));
    }
    if (height * width > std::numeric_limits<std::uint32_t>::max()) {
      throw shape_error(detail::message("anybit: pooling plane ", height, "x", width, ", expected fewer than 2^32 pixels"));
    }
  }
};

namespace pool_detail {

// The common 2 x 2, stride 2 window, one output at a time with its four taps in registers
// (the general loop below re-reads and re-writes y for every tap). Same order and tie rule.
inline void max_pool_2x2(const float* x, const pool_geometry& g, float* y, std::uint32_t* argmax) {
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w(), plane = g.height * g.width, w = g.width;
  for (std::size_t p = 0; p < g.planes; ++p, x += plane) {
    for (std::size_t oh = 0; oh < oh_count; ++oh, y += ow_count) {
      const float* top = x + 2 * oh * w;
      const float* bottom = top + w;
      for (std::size_t ow = 0; ow < ow_count; ++ow) {
        const float a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
        const bool take_b = b > a;
        float m = take_b ? b : a;
        const bool take_c = c > m;
        m = take_c ? c : m;
        const bool take_d = d > m;
        y[ow] = take_d ? d : m;
        if (argmax != nullptr) {
          const std::size_t at = 2 * oh * w + 2 * ow;
          const std::size_t tap = take_d ? w + 1 : take_c ? w : take_b ? 1 : 0;
          argmax[ow] = static_cast<std::uint32_t>(at + tap);
        }
      }
      if (argmax != nullptr) argmax += ow_count;
    }
  }
}

}  // namespace pool_detail

/// y = window maxima; `argmax` (nullable) receives each maximum's offset inside its plane. The
/// first maximum in row-major window order wins a tie, and a NaN is taken only as the first tap.
/// Taps are the outer loop and output columns the inner one, so the inner loop is a branch-free
/// select the compiler vectorizes.
inline void max_pool_forward(const float* x, const pool_geometry& g, float* y, std::uint32_t* argmax) {
  if (g.kernel == 2 && g.stride == 2) return pool_detail::max_pool_2x2(x, g, y, argmax);
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w(), plane = g.height * g.width, s = g.stride;
  for (std::size_t p = 0; p < g.planes; ++p, x += plane) {
    for (std::size_t oh = 0; oh < oh_count; ++oh, y += ow_count) {
      for (std::size_t kh = 0; kh < g.kernel; ++kh) {
        for (std::size_t kw = 0; kw < g.kernel; ++kw) {
          const std::size_t base = (oh * s + kh) * g.width + kw;
          const bool first_tap = kh == 0 && kw == 0;
          if (argmax == nullptr) {
            for (std::size_t ow = 0; ow < ow_count; ++ow) {
              const float v = x[base + ow * s];
              y[ow] = first_tap || v > y[ow] ? v : y[ow];
            }
            continue;
          }
          for (std::size_t ow = 0; ow < ow_count; ++ow) {
            const float v = x[base + ow * s];
            const bool take = first_tap || v > y[ow];
            y[ow] = take ? v : y[ow];
            argmax[ow] = take ? static_cast<std::uint32_t>(base + ow * s) : argmax[ow];
          }
        }
      }
      if (argmax != nullptr) argmax += ow_count;
    }
  }
}

/// dx[argmax] += dy: each output's gradient goes to the input that was its maximum.
inline void max_pool_backward_add(const float* dy, const std::uint32_t* argmax, const pool_geometry& g, float* dx) {
  const std::size_t outputs = g.out_h() * g.out_w(), plane = g.height * g.width;
  for (std::size_t p = 0; p < g.planes; ++p, dx += plane) {
    for (std::size_t o = 0; o < outputs; ++o) dx[*argmax++] += *dy++;
  }
}

/// y = window means.
inline void avg_pool_forward(const float* x, const pool_geometry& g, float* y) {
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w(), plane = g.height * g.width;
  const float inv_area = 1.0f / static_cast<float>(g.kernel * g.kernel);
  for (std::size_t p = 0; p < g.planes; ++p, x += plane) {
    for (std::size_t oh = 0; oh < oh_count; ++oh) {
      for (std::size_t ow = 0; ow < ow_count; ++ow) {
        float sum = 0;
        for (std::size_t kh = 0; kh < g.kernel; ++kh) {
          const float* row = x + (oh * g.stride + kh) * g.width + ow * g.stride;
          for (std::size_t kw = 0; kw < g.kernel; ++kw) sum += row[kw];
        }
        *y++ = sum * inv_area;
      }
    }
  }
}

/// dx += dy / kernel^2 over every window (overlapping windows add).
inline void avg_pool_backward_add(const float* dy, const pool_geometry& g, float* dx) {
  const std::size_t oh_count = g.out_h(), ow_count = g.out_w(), plane = g.height * g.width;
  const float inv_area = 1.0f / static_cast<float>(g.kernel * g.kernel);
  for (std::size_t p = 0; p < g.planes; ++p, dx += plane) {
    for (std::size_t oh = 0; oh < oh_count; ++oh) {
      for (std::size_t ow = 0; ow < ow_count; ++ow) {
        const float share = *dy++ * inv_area;
        for (std::size_t kh = 0; kh < g.kernel; ++kh) {
          float* row = dx + (oh * g.stride + kh) * g.width + ow * g.stride;
          for (std::size_t kw = 0; kw < g.kernel; ++kw) row[kw] += share;
        }
      }
    }
  }
}

}  // namespace anybit
