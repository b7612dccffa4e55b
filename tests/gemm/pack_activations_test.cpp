// Activation packers (every runnable path) against the bit-plane codec, and quantization
// against quantize_code's closed-form behaviour.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "anybit/gemm/pack_activations.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

std::vector<path> packer_paths() {
  std::vector<path> paths{path::reference, path::scalar};
  if ((supported_paths() & mask_of(path::avx2)) && cpu().fma) paths.push_back(path::avx2);
  return paths;
}

// Equal codes and equal raw words, padding included (padding must stay zero for the kernels).
bool same_planes(const bitplane_tensor<>& x, const bitplane_tensor<>& y) {
  if (x.rows() != y.rows() || x.cols() != y.cols() || x.bits() != y.bits()) return false;
  const bitplane_view a = x.view(), b = y.view();
  for (int p = 0; p < a.bits(); ++p) {
    for (std::size_t r = 0; r < a.rows(); ++r) {
      for (std::size_t w = 0; w < a.words_per_row(); ++w) {
        if (a.plane_row(p, r)[w] != b.plane_row(p, r)[w]) return false;
      }
    }
  }
  return true;
}

}  // namespace

TEST_CASE("pack_activations equals the codec on every path, width and ragged row length") {
  for (path p : packer_paths()) {
    gemm_context ctx;
    ctx.allowed = mask_of(p);
    for (int bits = 1; bits <= 8; ++bits) {
      for (std::size_t cols : {1, 31, 32, 33, 63, 64, 65, 127, 200, 513}) {
        const std::size_t rows = 3, ld = cols + 5;
        const auto codes = test::random_codes(rows * ld, bits, cols * 8 + static_cast<std::size_t>(bits));
        std::vector<std::uint8_t> dense(rows * cols);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t k = 0; k < cols; ++k) dense[r * cols + k] = codes[r * ld + k];
        }
        bitplane_tensor<> out(1, 1, 1);
        pack_activations(codes.data(), rows, cols, ld, bits, out, ctx);
        CHECK_MESSAGE(same_planes(out, bitplane_tensor<>::from_codes(dense.data(), rows, cols, bits)), path_name(p),
                      " bits ", bits, " cols ", cols);
      }
    }
  }
}

TEST_CASE("quantize_code rounds half to even, clamps, and maps NaN to 0") {
  const float top = 7.0f;
  CHECK(quantize_code(2.5f, 1.0f, 0.0f, top) == 2);
  CHECK(quantize_code(3.5f, 1.0f, 0.0f, top) == 4);
  CHECK(quantize_code(0.25f, 4.0f, 0.5f, top) == 2);  // 0.25 * 4 + 0.5 = 1.5 -> 2
  CHECK(quantize_code(-3.0f, 1.0f, 0.0f, top) == 0);
  CHECK(quantize_code(100.0f, 1.0f, 0.0f, top) == 7);
  CHECK(quantize_code(std::numeric_limits<float>::quiet_NaN(), 1.0f, 0.0f, top) == 0);
  CHECK(quantize_code(std::numeric_limits<float>::infinity(), 1.0f, 0.0f, top) == 7);
  CHECK(quantize_code(-std::numeric_limits<float>::infinity(), 1.0f, 0.0f, top) == 0);
}

TEST_CASE("quantize_activations equals quantize_code then the codec, on every path") {
  const std::size_t rows = 4, cols = 150, ld = 157;
  const activation_quant q{0.125f, 3.0f};
  std::vector<float> x(rows * ld);
  test::rng r(9);
  for (auto& v : x) v = (static_cast<float>(r.below(4001)) - 2000.0f) / 1000.0f;  // [-2, 2]: below, inside, above range
  for (std::size_t k = 0; k < 40; ++k) x[k] = (static_cast<float>(k) - 20.0f + 0.5f) * 0.125f;  // exact ties
  x[41] = std::numeric_limits<float>::quiet_NaN();
  x[42] = std::numeric_limits<float>::infinity();
  x[43] = -std::numeric_limits<float>::infinity();
  for (int bits : {1, 2, 4, 8}) {
    std::vector<std::uint8_t> expected(rows * cols);
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t k = 0; k < cols; ++k) {
        expected[i * cols + k] = quantize_code(x[i * ld + k], 1.0f / q.scale, q.zero_point, static_cast<float>(max_code(bits)));
      }
    }
    const auto oracle = bitplane_tensor<>::from_codes(expected.data(), rows, cols, bits);
    for (path p : packer_paths()) {
      gemm_context ctx;
      ctx.allowed = mask_of(p);
      bitplane_tensor<> out(rows, cols, bits);
      const std::uint64_t* storage = out.plane_row(0, 0);
      quantize_activations(x.data(), rows, cols, ld, q, bits, out, ctx);
      CHECK_MESSAGE(same_planes(out, oracle), path_name(p), " bits ", bits);
      CHECK(out.plane_row(0, 0) == storage);  // same shape: storage reused, no allocation
    }
  }
}

TEST_CASE("pack_activations names a code that does not fit") {
  std::vector<std::uint8_t> codes(2 * 70, 1);
  codes[70 + 4] = 9;
  for (path p : packer_paths()) {
    gemm_context ctx;
    ctx.allowed = mask_of(p);
    bitplane_tensor<> out(1, 1, 1);
    const std::string msg = test::thrown_message<bit_width_error>([&] { pack_activations(codes.data(), 2, 70, 70, 3, out, ctx); });
    CHECK_MESSAGE(msg.find("code 9 at row 1, column 4") != std::string::npos, msg);
  }
  gemm_context ctx;
  bitplane_tensor<> out(1, 1, 1);
  CHECK_THROWS_AS(pack_activations(codes.data(), 2, 70, 60, 3, out, ctx), shape_error);
  CHECK_THROWS_AS(pack_activations(codes.data(), 2, 70, 70, 9, out, ctx), bit_width_error);
  CHECK_THROWS_AS(quantize_activations(nullptr, 2, 70, 70, {0.0f, 0.0f}, 3, out, ctx), error);
}
