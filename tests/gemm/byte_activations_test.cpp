// Activations as bytes for the int8 path (im2col straight to bytes, codes copied, a reusable
// gemm_workspace) and the vectorized output stage: every path equals the reference path bit for
// bit, and the outputs equal an independent direct loop (real dot products in double, then
// quant/affine.hpp's quantize_code for codes).
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/gemm/conv2d.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/quant/affine.hpp"
#include "gemm/direct_conv.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

struct layer_params {
  activation_quant aq;
  weight_quant wq;
  output_stage out;
  code_output q;
};

// Dyadic zero points (multiples of 1/2) keep the output stage's corrections exact in double,
// so the stage's y is exactly the oracle's; output scale 0.5 makes exact rounding ties common.
layer_params make_params(std::size_t n, int a_bits, int w_bits, int out_bits, std::uint64_t seed) {
  test::rng r(seed);
  layer_params p;
  p.aq = {0.25f + static_cast<float>(r.below(64)) / 128.0f, static_cast<float>(r.below(2u << a_bits)) / 2.0f};
  p.wq.scale.resize(n);
  p.wq.zero_point.resize(n);
  p.out.bias.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    p.wq.scale[j] = 0.125f + static_cast<float>(r.below(64)) / 256.0f;
    p.wq.zero_point[j] = static_cast<float>(r.below(2u << w_bits)) / 2.0f;
    p.out.bias[j] = static_cast<float>(r.below(161)) / 8.0f - 10.0f;
  }
  p.out.min = -30.0f;
  p.q = {0.5f, static_cast<float>(r.below(1u << out_bits)), out_bits};
  return p;
}

// The oracle of one output from its real-valued dot product (computed by the caller in double).
double stage_oracle(const layer_params& p, std::size_t n, double dot) {
  const double y = static_cast<double>(p.aq.scale) * p.wq.scale[n] * dot + p.out.bias[n];
  return std::fmin(std::fmax(y, p.out.min), p.out.max);
}

std::uint8_t code_oracle(const layer_params& p, double y) {
  return quantize_code(static_cast<float>(y), 1.0f / p.q.scale, p.q.zero_point, static_cast<float>(max_code(p.q.bits)));
}

std::vector<path_mask> masks_to_test() {
  std::vector<path_mask> masks{mask_of(path::reference)};
  for (path p : all_path_values) {
    if ((supported_paths() & mask_of(p)) != 0 && p != path::reference) masks.push_back(mask_of(p));
  }
  masks.push_back(all_paths);
  return masks;
}

struct conv_case {
  conv2d_shape s;
  int a_bits, w_bits, out_bits;
  std::uint8_t pad_code;
};

std::string describe(const conv_case& c) {
  return detail::message(c.s.layout == data_layout::nchw ? "NCHW" : "NHWC", " C", c.s.channels, " ", c.s.height, "x",
                         c.s.width, " k", c.s.kernel_h, "x", c.s.kernel_w, " stride ", c.s.stride_h, " pad ", c.s.pad_h,
                         " O", c.s.out_channels, " W", c.w_bits, "A", c.a_bits);
}

// Codes and float outputs of every path (one workspace reused across all calls) against the
// oracle; 1 and 2 threads.
void check_conv(const conv_case& c, std::uint64_t seed, gemm_workspace& ws) {
  const conv2d_shape& s = c.s;
  const auto x = test::random_codes(s.batch * s.channels * s.height * s.width, c.a_bits, seed);
  const auto wc = test::random_codes(s.out_channels * s.k(), c.w_bits, seed + 1);
  const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), s.out_channels, s.k(), c.w_bits));
  const layer_params p = make_params(s.out_channels, c.a_bits, c.w_bits, c.out_bits, seed + 2);
  const std::size_t size = s.positions() * s.out_channels;
  std::vector<float> want_y(size);
  std::vector<std::uint8_t> want_codes(size);
  for (std::size_t b = 0; b < s.batch; ++b) {
    for (std::size_t o = 0; o < s.out_channels; ++o) {
      for (std::size_t oh = 0; oh < s.out_height(); ++oh) {
        for (std::size_t ow = 0; ow < s.out_width(); ++ow) {
          const double dot = test::direct_conv_dot(s, c.pad_code, x, wc, p.aq.zero_point, p.wq.zero_point[o], b, o, oh, ow);
          const double y = stage_oracle(p, o, dot);
          want_y[test::conv_output_index(s, b, o, oh, ow)] = static_cast<float>(y);
          want_codes[test::conv_output_index(s, b, o, oh, ow)] = code_oracle(p, y);
        }
      }
    }
  }
  for (path_mask mask : masks_to_test()) {
    for (int threads : {1, 2}) {
      gemm_context ctx;
      ctx.allowed = mask;
      ctx.threads = threads;
      std::vector<float> y(size, -99.0f);
      std::vector<std::uint8_t> codes(size, 99);
      conv2d(x.data(), c.a_bits, p.aq, c.pad_code, s, w, p.wq, p.out, y.data(), ctx, ws);
      conv2d(x.data(), c.a_bits, p.aq, c.pad_code, s, w, p.wq, p.out, p.q, codes.data(), ctx, ws);
      CHECK_MESSAGE(y == want_y, describe(c), " float, mask ", mask, ", ", threads, " threads");
      CHECK_MESSAGE(codes == want_codes, describe(c), " codes, mask ", mask, ", ", threads, " threads");
    }
  }
}

}  // namespace

TEST_CASE("conv2d with a reused workspace equals the direct convolution on every path") {
  gemm_workspace ws;  // shared by every case: shapes change between calls, so buffers must follow
  std::uint64_t seed = 100;
  for (data_layout layout : {data_layout::nhwc, data_layout::nchw}) {
    for (std::size_t channels : {1, 3, 16, 33}) {
      for (std::size_t pad : {0, 1}) {
        for (std::size_t stride : {1, 2}) {
          conv2d_shape s;
          s.batch = 2;
          s.channels = channels;
          s.height = 6;
          s.width = 5;
          s.out_channels = channels == 1 ? 32 : 11;
          s.kernel_h = 3;
          s.kernel_w = channels == 3 ? 2 : 3;
          s.stride_h = s.stride_w = stride;
          s.pad_h = s.pad_w = pad;
          s.layout = layout;
          // W8A8 (offset weight bytes, split nibbles), W2A2 (int16 sums), W3A5, W1A8
          check_conv({s, 8, 8, 2, 3}, ++seed, ws);
          check_conv({s, 2, 2, 8, 1}, ++seed, ws);
          check_conv({s, 5, 3, 4, 0}, ++seed, ws);
          check_conv({s, 8, 1, 3, 7}, ++seed, ws);
        }
      }
    }
  }
}

TEST_CASE("the small first layer of the reference cnn (1 channel, 28x28, W8A8 to 2-bit codes) is exact") {
  gemm_workspace ws;
  conv2d_shape s;
  s.channels = 1;
  s.height = s.width = 28;
  s.out_channels = 32;
  s.kernel_h = s.kernel_w = 3;
  s.pad_h = s.pad_w = 1;
  s.layout = data_layout::nhwc;
  check_conv({s, 8, 8, 2, 65}, 7, ws);
  s.channels = 32;
  s.height = s.width = 14;
  s.out_channels = 64;
  check_conv({s, 2, 2, 8, 0}, 8, ws);
}

TEST_CASE("gemm from codes with a workspace equals gemm on packed planes and the direct loop") {
  gemm_workspace ws;
  std::uint64_t seed = 500;
  for (auto [rows, n, k] : {std::array<std::size_t, 3>{1, 10, 3136}, {5, 19, 37}, {33, 70, 64}, {2, 3, 1}}) {
    for (auto [a_bits, w_bits] : {std::array<int, 2>{8, 8}, {2, 2}, {1, 1}, {4, 7}}) {
      const std::size_t ld = k + 3;  // a row stride wider than K
      auto codes = test::random_codes(rows * ld, a_bits, ++seed);
      const auto wc = test::random_codes(n * k, w_bits, ++seed);
      const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), n, k, w_bits));
      const layer_params p = make_params(n, a_bits, w_bits, 3, ++seed);
      std::vector<float> want_y(rows * n);
      std::vector<std::uint8_t> want_codes(rows * n);
      for (std::size_t m = 0; m < rows; ++m) {
        for (std::size_t j = 0; j < n; ++j) {
          double dot = 0;
          for (std::size_t x = 0; x < k; ++x) dot += (codes[m * ld + x] - p.aq.zero_point) * (wc[j * k + x] - p.wq.zero_point[j]);
          want_y[m * n + j] = static_cast<float>(stage_oracle(p, j, dot));
          want_codes[m * n + j] = code_oracle(p, stage_oracle(p, j, dot));
        }
      }
      for (path_mask mask : masks_to_test()) {
        gemm_context ctx;
        ctx.allowed = mask;
        std::vector<float> y(rows * n, -99.0f);
        std::vector<std::uint8_t> out(rows * n, 99);
        gemm(codes.data(), rows, ld, a_bits, p.aq, w, p.wq, p.out, y.data(), n, ctx, ws);
        gemm(codes.data(), rows, ld, a_bits, p.aq, w, p.wq, p.out, p.q, out.data(), n, ctx, ws);
        const std::string what = detail::message(rows, "x", n, "x", k, " W", w_bits, "A", a_bits, " mask ", mask);
        CHECK_MESSAGE(y == want_y, what);
        CHECK_MESSAGE(out == want_codes, what);
      }
    }
  }
}

TEST_CASE("gemm from codes names a code that does not fit and a row stride shorter than K") {
  gemm_workspace ws;
  const std::size_t rows = 3, n = 9, k = 40;
  auto codes = test::random_codes(rows * k, 2, 1);
  codes[1 * k + 17] = 4;
  const auto wc = test::random_codes(n * k, 2, 2);
  const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), n, k, 2));
  const layer_params p = make_params(n, 2, 2, 8, 3);
  std::vector<float> y(rows * n);
  for (path_mask mask : masks_to_test()) {
    gemm_context ctx;
    ctx.allowed = mask;
    CHECK_THROWS_AS(gemm(codes.data(), rows, k, 2, p.aq, w, p.wq, p.out, y.data(), n, ctx, ws), bit_width_error);
    try {
      gemm(codes.data(), rows, k, 2, p.aq, w, p.wq, p.out, y.data(), n, ctx, ws);
    } catch (const bit_width_error& e) {
      CHECK(std::string(e.what()).find("code 4 at row 1, column 17") != std::string::npos);
    }
    CHECK_THROWS_AS(gemm(codes.data(), rows, k - 1, 2, p.aq, w, p.wq, p.out, y.data(), n, ctx, ws), shape_error);
  }
  std::vector<std::uint8_t> image(2 * 5 * 5, 1);
  image[7] = 9;  // does not fit in 3 bits
  conv2d_shape s;
  s.channels = 2;
  s.height = s.width = 5;
  s.out_channels = n;
  s.kernel_h = s.kernel_w = 1;
  s.layout = data_layout::nhwc;
  const auto wc1 = test::random_codes(n * 2, 8, 4);
  const packed_weights w1(bitplane_tensor<>::from_codes(wc1.data(), n, 2, 8));
  std::vector<float> out(25 * n);
  gemm_context ctx;
  CHECK_THROWS_AS(conv2d(image.data(), 3, p.aq, 0, s, w1, p.wq, p.out, out.data(), ctx, ws), bit_width_error);
}

TEST_CASE("the vectorized output stage gives the scalar stage's bits, ties and clamps included") {
  // Per-channel parameters that are not dyadic, sums of every magnitude, each row with its own
  // activation row sum; the scalar stage (vectorized = false) is the reference.
  const std::size_t n = 37, k = 500, rows = 40;
  const auto wc = test::random_codes(n * k, 4, 11);
  const packed_weights w(bitplane_tensor<>::from_codes(wc.data(), n, k, 4));
  test::rng r(12);
  weight_quant wq;
  output_stage out;
  for (std::size_t j = 0; j < n; ++j) {
    wq.scale.push_back(0.01f + static_cast<float>(r.below(1000)) / 997.0f);
    wq.zero_point.push_back(static_cast<float>(r.below(160)) / 10.0f);
    out.bias.push_back(static_cast<float>(r.below(2001)) / 100.0f - 10.0f);
  }
  out.min = -50.0f;
  out.max = 60.0f;
  const activation_quant aq{0.037f, 2.3f};
  std::vector<std::int64_t> row_sums(rows), raw(rows * n);
  for (std::size_t m = 0; m < rows; ++m) row_sums[m] = static_cast<std::int64_t>(r.below(7500));
  for (auto& v : raw) v = static_cast<std::int64_t>(r.below(60000)) - 10000;
  const detail::dequantizer scalar(aq, wq, out, w, row_sums.data(), false), vector(aq, wq, out, w, row_sums.data(), true);
  if (!vector.vectorized()) {
    MESSAGE("ANYBIT_SKIP: no AVX2 + FMA output stage on this machine; only the scalar stage runs");
  }
  std::size_t clamped = 0;
  for (const code_output& q : {code_output{0.37f, 3.0f, 8}, code_output{0.5f, 1.0f, 2}, code_output{1.0f / 3.0f, 0.5f, 5}}) {
    for (std::size_t m = 0; m < rows; ++m) {
      for (std::size_t n0 : {std::size_t{0}, std::size_t{8}, std::size_t{32}}) {
        const std::size_t cols = n - n0;
        std::vector<float> fs(cols), fv(cols);
        std::vector<std::uint8_t> cs(cols), cv(cols);
        std::vector<double> d(cols);
        scalar.float_row(raw.data() + m * n + n0, m, n0, cols, fs.data());
        vector.float_row(raw.data() + m * n + n0, m, n0, cols, fv.data());
        scalar.code_row(raw.data() + m * n + n0, m, n0, cols, q, cs.data());
        vector.code_row(raw.data() + m * n + n0, m, n0, cols, q, cv.data());
        scalar.row(raw.data() + m * n + n0, m, n0, cols, d.data());
        CHECK(fs == fv);
        CHECK(cs == cv);
        for (std::size_t x = 0; x < cols; ++x) {
          // The stage's formula, written out here: the scalar row is itself checked.
          const std::size_t j = n0 + x;
          const double za = aq.zero_point, zw = wq.zero_point[j];
          const double offset = -za * static_cast<double>(w.view().column_sum(j)) + static_cast<double>(k) * za * zw;
          const double y = (static_cast<double>(raw[m * n + j]) + offset - zw * static_cast<double>(row_sums[m])) *
                               (static_cast<double>(aq.scale) * wq.scale[j]) +
                           out.bias[j];
          const double want = std::fmin(std::fmax(y, out.min), out.max);
          CHECK(d[x] == doctest::Approx(want).epsilon(1e-12));  // a compiler may fuse this test's expression
          CHECK(int{cs[x]} == int{quantize_code(static_cast<float>(d[x]), 1.0f / q.scale, q.zero_point,
                                                static_cast<float>(max_code(q.bits)))});
          clamped += want == out.min || want == out.max;
        }
      }
    }
  }
  CHECK(clamped > 0);  // the clamp was exercised
}
