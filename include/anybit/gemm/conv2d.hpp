// anybit/gemm/conv2d.hpp — integer 2-D convolution (groups = 1) on top of gemm.
//
// Each output position (image, oh, ow) is one GEMM row of K = C * kh * kw activation codes
// (im2col), gathered into a row buffer and packed straight into bit-planes; the weights are
// the packed O x K matrix. K order: (c, kh, kw) for NCHW, (kh, kw, c) for NHWC, i.e. the
// weight tensor's own order (O C kh kw, or O kh kw C). Output has the input's layout.
// Padding taps hold the code pad_code: with real = scale * (q - zero_point), zero padding is
// pad_code = zero_point (an integral zero point is then needed; that is the caller's choice).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/gemm/pack_activations.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
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
        if ((seen >> bits) != 0) detail::throw_code_range(row.data(), m, k, bits);
      }
    }
  }
}

namespace detail {

template <class Store>
void conv2d_impl(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                 const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                 const void* y, gemm_context& ctx, Store store) {
  s.check();
  if (w.cols() != s.out_channels || w.k() != s.k()) {
    throw shape_error(message("anybit: conv2d weights are ", w.cols(), " x ", w.k(), ", expected out_channels x C*kh*kw = ",
                              s.out_channels, " x ", s.k()));
  }
  if (s.positions() * s.k() != 0 && x == nullptr) throw shape_error("anybit: conv2d input pointer is null");
  bitplane_tensor<> cols(1, 1, a_bits);
  im2col_pack(x, a_bits, pad_code, s, cols, ctx);
  quantized_gemm(cols, aq, w, wq, out, y, s.out_channels, ctx, store);
}

// Where output (position m, channel n) goes in the input's layout.
inline std::size_t conv2d_output_index(const conv2d_shape& s, std::size_t m, std::size_t n) {
  if (s.layout == data_layout::nhwc) return m * s.out_channels + n;
  const std::size_t plane = s.out_height() * s.out_width();
  return (m / plane * s.out_channels + n) * plane + m % plane;
}

}  // namespace detail

/// Float output, batch x out_channels x OH x OW (NCHW) or batch x OH x OW x out_channels (NHWC).
inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   float* y, gemm_context& ctx) {
  detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, [y, &s](double v, std::size_t m, std::size_t n) {
    y[detail::conv2d_output_index(s, m, n)] = static_cast<float>(v);
  });
}

/// Codes output for the next layer, in the same layout.
inline void conv2d(const std::uint8_t* x, int a_bits, const activation_quant& aq, std::uint8_t pad_code,
                   const conv2d_shape& s, const packed_weights_view& w, const weight_quant& wq, const output_stage& out,
                   const code_output& q, std::uint8_t* y, gemm_context& ctx) {
  detail::check_code_output(q);
  detail::conv2d_impl(x, a_bits, aq, pad_code, s, w, wq, out, y, ctx, [y, &s, q](double v, std::size_t m, std::size_t n) {
    y[detail::conv2d_output_index(s, m, n)] = detail::quantize_to_code(v, q);
  });
}

}  // namespace anybit
