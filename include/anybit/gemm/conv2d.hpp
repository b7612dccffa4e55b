// anybit/gemm/conv2d.hpp — integer 2-D convolution (groups = 1) on top of gemm.
//
// Each output position (image, oh, ow) is one GEMM row of K = C * kh * kw activation codes
// (im2col), gathered into a row buffer and packed straight into bit-planes, or, when the int8
// path runs, written as bytes (the form it multiplies; no planes in between); the weights are
// the packed O x K matrix. K order: (c, kh, kw) for NCHW, (kh, kw, c) for NHWC, i.e. the
// weight tensor's own order (O C kh kw, or O kh kw C). Output has the input's layout.
// Padding taps hold the code pad_code: with real = scale * (q - zero_point), zero padding is
// pad_code = zero_point (an integral zero point is then needed; that is the caller's choice).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/byte_activations.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/gemm/pack_activations.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/gemm/workspace.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"

namespace anybit {

enum class data_layout { nchw, nhwc };

struct conv2d_shape {
  std::size_t batch = 1, channels = 1, height = 1, width = 1;
  std::size_t out_channels = 1, kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  data_layout layout = data_layout::nchw;

  std::size_t out_height() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  std::size_t out_width() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
  std::size_t k() const { return channels * kernel_h * kernel_w; }
  std::size_t positions() const { return batch * out_height() * out_width(); }

  void check() const {
    if (stride_h == 0 || stride_w == 0) {
      throw shape_error(detail::message("anybit: conv2d stride ", stride_h, "x", stride_w, ", expected >= 1"));
    }
    if (kernel_h == 0 || kernel_w == 0 || kernel_h > height + 2 * pad_h || kernel_w > width + 2 * pad_w) {
      throw shape_error(detail::message("anybit: conv2d kernel ", kernel_h, "x", kernel_w, " on a padded input of ",
                                        height + 2 * pad_h, "x", width + 2 * pad_w, ", expected 1 <= kernel <= input"));
    }
  }
};

/// The activation codes of every output position, packed as a positions x K bit-plane tensor.
inline void im2col_pack(const std::uint8_t* x, int bits, std::uint8_t pad_code, const conv2d_shape& s,
                        bitplane_tensor<>& out, gemm_context& ctx) {
  s.check();
  check_bits(bits);
  if (pad_code > max_code(bits)) {
    throw bit_width_error(detail::message("anybit: conv2d pad_code = ", unsigned{pad_code}, ", expected 0..", max_code(bits)));
  }
  const std::size_t oh_n = s.out_height(), ow_n = s.out_width(), k = s.k();
  detail::prepare_output(out, s.positions(), k, bits);
  const detail::packer pk = detail::choose_packer(ctx);
  const detail::packer portable{path::scalar, kernels::scalar::pack_row, kernels::scalar::quantize_row};
  const detail::packer& use = pk.pack != nullptr ? pk : portable;  // the codec has no row entry; same planes
  std::vector<std::uint8_t> row(k);
  std::size_t m = 0;
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t oh = 0; oh < oh_n; ++oh) {
      for (std::size_t ow = 0; ow < ow_n; ++ow, ++m) {
        std::size_t i = 0;
        const auto tap = [&](std::size_t c, std::size_t r, std::size_t q) {
          const std::size_t ih = oh * s.stride_h + r, iw = ow * s.stride_w + q;  // in padded coordinates
          const bool inside = ih >= s.pad_h && ih < s.height + s.pad_h && iw >= s.pad_w && iw < s.width + s.pad_w;
          if (!inside) return pad_code;
          const std::size_t h = ih - s.pad_h, w = iw - s.pad_w;
          return s.layout == data_layout::nchw ? x[((b * s.channels + c) * s.height + h) * s.width + w]
                                               : x[((b * s.height + h) * s.width + w) * s.channels + c];
        };
        if (s.layout == data_layout::nchw) {
          for (std::size_t c = 0; c < s.channels; ++c) {
            for (std::size_t r = 0; r < s.kernel_h; ++r) {
              for (std::size_t q = 0; q < s.kernel_w; ++q) row[i++] = tap(c, r, q);
            }
          }
        } else {
          for (std::size_t r = 0; r < s.kernel_h; ++r) {
            for (std::size_t q = 0; q < s.kernel_w; ++q) {
              for (std::size_t c = 0; c < s.channels; ++c) row[i++] = tap(c, r, q);
            }
          }
        }
        const bitplane_view v = out.view();
        const std::uint8_t seen = use.pack(row.data(), k, bits, out.plane_row(0, m), v.plane_stride(), v.words_per_row());
        if ((seen >> bits) != 0) detail::throw_code_range(row.data(), k, m, 1, k, bits);
      }
    }
  }
}

namespace detail {

// Copies n bytes with a few fixed-size moves (overlapping at the end): im2col's runs are short,
// and a call to memcpy per run would cost more than the copy.
template <std::size_t Size>
inline void copy_two(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  std::memcpy(dst, src, Size);
  std::memcpy(dst + n - Size, src + n - Size, Size);
}

inline void copy_run(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  if (n >= 16) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) std::memcpy(dst + i, src + i, 16);
    if (i < n) std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    copy_two<8>(dst, src, n);
  } else if (n >= 4) {
    copy_two<4>(dst, src, n);
  } else if (n >= 2) {
    copy_two<2>(dst, src, n);
  } else if (n == 1) {
    *dst = *src;
  }
}

// `count` im2col rows (row_stride apart) of windows wholly inside an NHWC image: each is
// kernel_h runs of `run` codes, image_row apart in the image; windows are window_step apart.
// A function of its own, so nothing in the loop is reloaded after the byte stores.
inline void copy_windows(std::uint8_t* row, std::size_t row_stride, const std::uint8_t* window, std::size_t window_step,
                         std::size_t count, std::size_t kernel_h, std::size_t run, std::size_t image_row) {
  for (std::size_t i = 0; i < count; ++i, row += row_stride, window += window_step) {
    for (std::size_t r = 0; r < kernel_h; ++r) copy_run(row + r * run, window + r * image_row, run);
  }
}

}  // namespace detail

/// The activation codes of every output position as bytes (the int8 path's operand): row m is
/// position m's K codes, in the same K order as im2col_pack. NHWC copies each kernel row's
/// kernel_w * C contiguous codes at once.
inline void im2col_bytes(const std::uint8_t* x, int bits, std::uint8_t pad_code, const conv2d_shape& s,
                         byte_activations& out, const gemm_context& ctx) {
  s.check();
  check_bits(bits);
  if (pad_code > max_code(bits)) {
    throw bit_width_error(detail::message("anybit: conv2d pad_code = ", unsigned{pad_code}, ", expected 0..", max_code(bits)));
  }
  const std::size_t oh_n = s.out_height(), ow_n = s.out_width(), k = s.k(), c_n = s.channels;
  out.reshape(s.positions(), k, bits);
  const bool avx2 = detail::byte_avx2(ctx);  // for the row sums
  const std::size_t run = s.kernel_w * c_n;  // NHWC: one kernel row's codes
  // NHWC windows wholly inside the image (most of them) take kernel_h straight copies.
  const std::size_t ow_first = ceil_div(s.pad_w, s.stride_w);
  const std::size_t ow_end = s.width + s.pad_w < s.kernel_w ? 0 : std::min(ow_n, (s.width + s.pad_w - s.kernel_w) / s.stride_w + 1);
  const std::size_t image_row = s.width * c_n, window_step = s.stride_w * c_n;
  std::size_t m = 0;
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t oh = 0; oh < oh_n; ++oh) {
      const std::size_t top = oh * s.stride_h;
      const bool rows_inside = top >= s.pad_h && top + s.kernel_h <= s.height + s.pad_h;
      const bool fast = s.layout == data_layout::nhwc && rows_inside && ow_first < ow_end;
      if (fast) {
        const std::uint8_t* window = x + ((b * s.height + top - s.pad_h) * s.width + ow_first * s.stride_w - s.pad_w) * c_n;
        detail::copy_windows(out.row(m + ow_first), out.stride(), window, window_step, ow_end - ow_first, s.kernel_h, run,
                             image_row);
      }
      for (std::size_t ow = 0; ow < ow_n; ++ow, ++m) {
        if (fast && ow >= ow_first && ow < ow_end) continue;  // done above
        std::uint8_t* row = out.row(m);
        // In padded coordinates, the window starts at (oh * stride_h, ow * stride_w).
        const std::size_t h0 = oh * s.stride_h, w0 = ow * s.stride_w;
        const bool cols_inside = w0 >= s.pad_w && w0 + s.kernel_w <= s.width + s.pad_w;
        if (s.layout == data_layout::nhwc) {
          for (std::size_t r = 0; r < s.kernel_h; ++r, row += run) {
            const std::size_t ih = h0 + r;
            if (ih < s.pad_h || ih >= s.height + s.pad_h) {
              std::fill_n(row, run, pad_code);
              continue;
            }
            const std::uint8_t* in = x + ((b * s.height + (ih - s.pad_h)) * s.width) * c_n;
            if (cols_inside) {
              detail::copy_run(row, in + (w0 - s.pad_w) * c_n, run);
              continue;
            }
            for (std::size_t q = 0; q < s.kernel_w; ++q) {
              const std::size_t iw = w0 + q;
              std::uint8_t* dst = row + q * c_n;
              if (iw < s.pad_w || iw >= s.width + s.pad_w) {
                std::fill_n(dst, c_n, pad_code);
              } else {
                detail::copy_run(dst, in + (iw - s.pad_w) * c_n, c_n);
              }
            }
          }
        } else {
          std::size_t i = 0;
          for (std::size_t c = 0; c < c_n; ++c) {
            for (std::size_t r = 0; r < s.kernel_h; ++r) {
              for (std::size_t q = 0; q < s.kernel_w; ++q) {
                const std::size_t ih = h0 + r, iw = w0 + q;
                const bool inside = ih >= s.pad_h && ih < s.height + s.pad_h && iw >= s.pad_w && iw < s.width + s.pad_w;
                row[i++] = inside ? x[((b * c_n + c) * s.height + ih - s.pad_h) * s.width + iw - s.pad_w] : pad_code;
              }
            }
          }
        }
      }
    }
  }
  out.finish_rows(avx2);
}

namespace detail {

template <class Writer>
void conv2d_impl(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                 const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                 const void* y, gemm_context& ctx, gemm_workspace& ws, Writer writer) {
  s.check();
  check_bits(a_bits);
  if (w.cols() != s.out_channels || w.k() != s.k()) {
    throw shape_error(message("anybit: conv2d weights are ", w.cols(), " x ", w.k(), ", expected out_channels x C*kh*kw = ",
                              s.out_channels, " x ", s.k()));
  }
  if (s.positions() * s.k() != 0 && x == nullptr) throw shape_error("anybit: conv2d input pointer is null");
  // The path decides the form of the im2col rows: bytes for int8 and lookup, bit-planes for bit-serial.
  if (is_byte_path(choose_path(w.bits(), a_bits, s.positions(), ctx, w.k()))) {
    im2col_bytes(x, a_bits, pad_code, s, ws.bytes, ctx);
    return quantized_gemm(ws.bytes, aq, w, wq, out, y, s.out_channels, ctx, writer);
  }
  im2col_pack(x, a_bits, pad_code, s, ws.planes, ctx);
  quantized_gemm(ws.planes.view(), aq, w, wq, out, y, s.out_channels, ctx, writer);
}

// Where output (position m, channel n) goes in the input's layout.
inline std::size_t conv2d_output_index(const conv2d_shape& s, std::size_t m, std::size_t n) {
  if (s.layout == data_layout::nhwc) return m * s.out_channels + n;
  const std::size_t plane = s.out_height() * s.out_width();
  return (m / plane * s.out_channels + n) * plane + m % plane;
}

}  // namespace detail

/// Float output, batch x out_channels x OH x OW (NCHW) or batch x OH x OW x out_channels (NHWC).
/// ws holds the im2col rows between calls (bytes or bit-planes, as the chosen path reads them).
inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   float* y, gemm_context& ctx, gemm_workspace& ws) {
  if (s.layout == data_layout::nhwc) {
    return detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, ws, detail::float_rows{y, s.out_channels});
  }
  const auto store = [y, &s](double v, std::size_t m, std::size_t n) {
    y[detail::conv2d_output_index(s, m, n)] = static_cast<float>(v);
  };
  detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, ws, detail::each_output<decltype(store)>{store});
}

/// Codes output for the next layer, in the same layout.
inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   const code_output& q, std::uint8_t* y, gemm_context& ctx, gemm_workspace& ws) {
  detail::check_code_output(q);
  if (s.layout == data_layout::nhwc) {
    return detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, ws, detail::code_rows{q, y, s.out_channels});
  }
  const auto store = [y, &s, q](double v, std::size_t m, std::size_t n) {
    y[detail::conv2d_output_index(s, m, n)] = detail::quantize_to_code(v, q);
  };
  detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, ws, detail::each_output<decltype(store)>{store});
}

/// As above with a workspace of its own (allocates per call).
inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   float* y, gemm_context& ctx) {
  gemm_workspace ws;
  conv2d(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, ws);
}

inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   const code_output& q, std::uint8_t* y, gemm_context& ctx) {
  gemm_workspace ws;
  conv2d(x, a_bits, aq, pad_code, s, w, wq, out, q, y, ctx, ws);
}

}  // namespace anybit
