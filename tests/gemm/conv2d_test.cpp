// Integer conv2d against a direct 7-loop convolution over the real values, both layouts.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/gemm/conv2d.hpp"
#include "gemm/direct_conv.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct conv_case {
  conv2d_shape s;
  int a_bits, w_bits;
  std::uint8_t pad_code;
};

// The real output of (b, o, oh, ow): direct loop, then scale, bias and clamp.
double direct(const conv_case& cc, const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& w,
              const activation_quant& aq, const weight_quant& wq, const output_stage& out, std::size_t b, std::size_t o,
              std::size_t oh, std::size_t ow) {
  const double dot = test::direct_conv_dot(cc.s, cc.pad_code, x, w, aq.zero_point, wq.zero_point[o], b, o, oh, ow);
  const double y = static_cast<double>(aq.scale) * wq.scale[o] * dot + out.bias[o];
  return std::fmin(std::fmax(y, out.min), out.max);
}

void check_case(const conv_case& cc, std::uint64_t seed) {
  const conv2d_shape& s = cc.s;
  const auto x = test::random_codes(s.batch * s.channels * s.height * s.width, cc.a_bits, seed);
  const auto wc = test::random_codes(s.out_channels * s.k(), cc.w_bits, seed + 1);
  const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), s.out_channels, s.k(), cc.w_bits));
  const activation_quant aq{0.5f, static_cast<float>(cc.pad_code)};
  weight_quant wq{std::vector<float>(s.out_channels), std::vector<float>(s.out_channels)};
  output_stage out{std::vector<float>(s.out_channels), -1e30f, 1e30f};
  for (std::size_t o = 0; o < s.out_channels; ++o) {
    wq.scale[o] = 0.25f * static_cast<float>(o + 1);
    wq.zero_point[o] = static_cast<float>(o % 3) * 0.5f;
    out.bias[o] = static_cast<float>(o) - 2.0f;
  }
  gemm_context ctx;
  const std::size_t oh_n = s.out_height(), ow_n = s.out_width();
  std::vector<float> y(s.batch * s.out_channels * oh_n * ow_n, -7.0f);
  conv2d(x.data(), cc.a_bits, aq, cc.pad_code, s, w, wq, out, y.data(), ctx);
  std::size_t bad = 0;
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t o = 0; o < s.out_channels; ++o) {
      for (std::size_t oh = 0; oh < oh_n; ++oh) {
        for (std::size_t ow = 0; ow < ow_n; ++ow) {
          bad += y[test::conv_output_index(s, b, o, oh, ow)] != static_cast<float>(direct(cc, x, wc, aq, wq, out, b, o, oh, ow));
        }
      }
    }
  }
  CHECK_MESSAGE(bad == 0, (s.layout == data_layout::nchw ? "NCHW" : "NHWC"), " C", s.channels, " ", s.height, "x",
                s.width, " k", s.kernel_h, "x", s.kernel_w, " stride ", s.stride_h, " pad ", s.pad_h, ": ", bad,
                " outputs differ");
}

}  // namespace

TEST_CASE("conv2d equals the direct convolution for strides, paddings, kernels and both layouts") {
  std::uint64_t seed = 1;
  for (data_layout layout : {data_layout::nchw, data_layout::nhwc}) {
    for (std::size_t stride : {1, 2, 3}) {
      for (std::size_t pad : {0, 1, 2}) {
        for (auto [kh, kw] : {std::array<std::size_t, 2>{3, 3}, {1, 1}, {2, 3}}) {
          conv2d_shape s;
          s.batch = 2;
          s.channels = 3;
          s.height = 7;
          s.width = 6;
          s.out_channels = 5;
          s.kernel_h = kh;
          s.kernel_w = kw;
          s.stride_h = s.stride_w = stride;
          s.pad_h = s.pad_w = pad;
          s.layout = layout;
          check_case({s, 2, 3, 1}, ++seed);
        }
      }
    }
  }
}

TEST_CASE("conv2d at every width pair, with a 65-channel input crossing a word") {
  for (int ab = 1; ab <= 8; ++ab) {
    for (int wb = 1; wb <= 8; ++wb) {
      conv2d_shape s;
      s.channels = 65;
      s.height = s.width = 4;
      s.out_channels = 9;
      s.kernel_h = s.kernel_w = 3;
      s.pad_h = s.pad_w = 1;
      s.layout = (ab + wb) % 2 ? data_layout::nhwc : data_layout::nchw;
      check_case({s, ab, wb, static_cast<std::uint8_t>(max_code(ab) / 2)}, static_cast<std::uint64_t>(ab * 8 + wb));
    }
  }
}

TEST_CASE("conv2d codes output equals quantized direct output") {
  conv2d_shape s;
  s.channels = 2;
  s.height = s.width = 5;
  s.out_channels = 4;
  s.kernel_h = s.kernel_w = 3;
  s.pad_h = s.pad_w = 1;
  const auto x = test::random_codes(2 * 25, 4, 3);
  const auto wc = test::random_codes(4 * 18, 4, 4);
  const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), 4, 18, 4));
  gemm_context ctx;
  std::vector<float> f(4 * 25);
  std::vector<std::uint8_t> codes(4 * 25);
  const code_output q{2.0f, 1.0f, 4};
  conv2d(x.data(), 4, {1.0f, 0.0f}, 0, s, w, {}, {}, f.data(), ctx);
  conv2d(x.data(), 4, {1.0f, 0.0f}, 0, s, w, {}, {}, q, codes.data(), ctx);
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double expected = std::fmin(std::fmax(std::nearbyint(f[i] / 2.0 + 1.0), 0.0), 15.0);
    CHECK(int{codes[i]} == static_cast<int>(expected));
  }
}

TEST_CASE("conv2d rejects mismatched weights, bad pad codes and empty outputs") {
  conv2d_shape s;
  s.channels = 2;
  s.height = s.width = 4;
  s.out_channels = 3;
  s.kernel_h = s.kernel_w = 3;
  const packed_weights w(bitplane_tensor<>(3, 17, 2));
  std::vector<std::uint8_t> x(32);
  std::vector<float> y(64);
  gemm_context ctx;
  const std::string msg = test::thrown_message<shape_error>([&] { conv2d(x.data(), 2, {}, 0, s, w, {}, {}, y.data(), ctx); });
  CHECK(msg.find("3 x 17, expected out_channels x C*kh*kw = 3 x 18") != std::string::npos);
  const packed_weights ok(bitplane_tensor<>(3, 18, 2));
  CHECK_THROWS_AS(conv2d(x.data(), 2, {}, 4, s, ok, {}, {}, y.data(), ctx), bit_width_error);
  s.kernel_h = 5;
  CHECK_THROWS_AS(conv2d(x.data(), 2, {}, 0, s, ok, {}, {}, y.data(), ctx), shape_error);
  s.kernel_h = 3;
  s.stride_w = 0;
  CHECK_THROWS_AS(conv2d(x.data(), 2, {}, 0, s, ok, {}, {}, y.data(), ctx), shape_error);
}
