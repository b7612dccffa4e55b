// Activation packers (every runnable path) against the bit-plane codec, and quantization
// against quantize_code's closed-form behaviour.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
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
  if ((supported_paths() & mask_of(path::avx512bw)) && cpu().avx512bw) paths.push_back(path::avx512bw);
  return paths;
}

// The paths that choose the AVX-512 packer on this machine (either AVX-512 bit-serial path does).
std::vector<path> avx512_packer_paths() {
  std::vector<path> paths;
  for (path p : {path::avx512bw, path::avx512}) {
    if ((supported_paths() & mask_of(p)) && cpu().avx512bw) paths.push_back(p);
  }
  if (paths.empty()) MESSAGE("ANYBIT_SKIP: no AVX-512BW in this CPU or build; the AVX-512 packer did not run");
  return paths;
}

gemm_context forced(path p) {
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  return ctx;
}

// Inputs whose code differs when the multiply-add is not fused (two roundings): near ties found
// by walking ulps around each k + 0.5. Only a fused multiply-add gives quantize_code's code here.
std::vector<float> fma_sensitive_floats(const activation_quant& q, int bits) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float inv = quantization_inverse_scale(q.scale), top = static_cast<float>(max_code(bits));
  std::vector<float> found;
  for (float k = -2.0f; k <= top + 1.0f; k += 1.0f) {
    float x = (k + 0.5f - q.zero_point) * q.scale;
    for (int step = 0; step < 16; ++step) x = std::nextafter(x, -inf);
    for (int step = 0; step < 32; ++step, x = std::nextafter(x, inf)) {
      volatile float product = x * inv;  // volatile: no contraction into an fma
      const float unfused = std::nearbyint(product + q.zero_point);
      const float unfused_code = std::min(std::max(unfused, 0.0f), top);
      if (static_cast<float>(quantize_code(x, inv, q.zero_point, top)) != unfused_code) found.push_back(x);
    }
  }
  return found;
}

// Floats that reach every branch of quantize_code under q: ties (k + 0.5 after scaling; exact
// when q.scale is a power of two) and their neighbours one ulp away, fma-sensitive near ties,
// values inside the range, far outside it (beyond int32 too), signed zeros, denormals,
// infinities and NaNs of both signs.
std::vector<float> awkward_floats(std::size_t count, const activation_quant& q, int bits, std::uint64_t seed) {
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float far[] = {1e30f, -1e30f, 3e9f, -3e9f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                       inf, -inf, 1e-40f, -1e-40f, 0.0f, -0.0f, nan, -nan, std::numeric_limits<float>::signaling_NaN()};
  const float top = static_cast<float>(max_code(bits));
  const std::vector<float> sensitive = fma_sensitive_floats(q, bits);
  test::rng r(seed);
  std::vector<float> x(count);
  for (auto& v : x) {
    const float k = static_cast<float>(r.below(max_code(bits) + 4)) - 2.0f;  // ties from -1.5 to top + 1.5
    const float tie = (k + 0.5f - q.zero_point) * q.scale;
    switch (r.below(9)) {
      case 8:
        if (!sensitive.empty()) {
          v = sensitive[r.below(static_cast<std::uint32_t>(sensitive.size()))];
          break;
        }
        [[fallthrough]];
      case 0:
      case 1: v = tie; break;
      case 2: v = std::nextafter(tie, inf); break;
      case 3: v = std::nextafter(tie, -inf); break;
      case 4:
      case 5: v = (static_cast<float>(r.below(20001)) / 10000.0f * (top + 2.0f) - 1.0f - q.zero_point) * q.scale; break;
      default: v = far[r.below(sizeof(far) / sizeof(far[0]))]; break;
    }
  }
  return x;
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
        CHECK_MESSAGE(same_planes(out, bitplane_tensor<>::from_codes(dense.data(), rows, cols, bits)), std::string(path_name(p)),
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

TEST_CASE("binary_threshold turns the 1-bit quantize_code into one compare, for any scale and zero point") {
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float fixed[] = {0.0f, -0.0f, inf, -inf, nan, -nan, std::numeric_limits<float>::denorm_min(),
                         -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                         -std::numeric_limits<float>::max(), 0.5f, -0.5f, 1.0f};
  test::rng r(11);
  // Scales from denormal (1 / scale = inf) to huge, zero points from far below to far above the
  // step; {2, 0.5} puts the step 2^24 ulps above 0 (the benchmark's grid), {3e38, -1e30} beyond
  // the largest float (found by bisection: code 1 only for +inf).
  std::vector<activation_quant> qs = {{1.0f, 0.0f},  {1.0f, 0.5f},    {0.3f, 1.7f},  {2.0f, 0.0f},    {2.0f, 0.5f},
                                      {1e-40f, 0.0f}, {1e-40f, 3.0f}, {3e38f, 0.0f}, {3e38f, 0.75f}, {3e38f, -1e30f},
                                      {1e-30f, -1e30f}, {0.7f, -2.5f}};
  for (int i = 0; i < 200; ++i) {
    const float scale = std::ldexp(1.0f + static_cast<float>(r.below(1000)) / 1000.0f, static_cast<int>(r.below(60)) - 30);
    const float zero = (static_cast<float>(r.below(20001)) / 10000.0f - 1.0f) * std::ldexp(1.0f, static_cast<int>(r.below(8)));
    qs.push_back({scale, zero});
  }
  for (const auto& q : qs) {
    const float inv = quantization_inverse_scale(q.scale);
    const float t = binary_threshold(inv, q.zero_point);
    std::vector<float> x(std::begin(fixed), std::end(fixed));
    float up = t, down = t;
    for (int step = 0; step < 4; ++step, up = std::nextafter(up, inf), down = std::nextafter(down, -inf)) {
      x.push_back(up);
      x.push_back(down);
    }
    for (int k = 0; k < 50; ++k) x.push_back((static_cast<float>(r.below(40001)) / 10000.0f - 2.0f) * q.scale - q.zero_point * q.scale);
    for (float v : x) {
      CHECK_MESSAGE((quantize_code(v, inv, q.zero_point, 1.0f) != 0) == (v > t), "x = ", v, " scale ", q.scale, " zero point ",
                    q.zero_point, " threshold ", t);
    }
  }
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
      CHECK_MESSAGE(same_planes(out, oracle), std::string(path_name(p)), " bits ", bits);
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
  // Rows of whole words with no gap are packed as one run (pack_activations.hpp): the message
  // still names the row and column, not the position in the run.
  std::vector<std::uint8_t> run(3 * 512, 1);  // 512: rows of whole 64-byte lines of plane words
  run[2 * 512 + 300] = 9;
  for (path p : packer_paths()) {
    gemm_context ctx;
    ctx.allowed = mask_of(p);
    bitplane_tensor<> out(1, 1, 1);
    const std::string msg = test::thrown_message<bit_width_error>([&] { pack_activations(run.data(), 3, 512, 512, 3, out, ctx); });
    CHECK_MESSAGE(msg.find("code 9 at row 2, column 300") != std::string::npos, path_name(p), ": ", msg);
  }
  gemm_context ctx;
  bitplane_tensor<> out(1, 1, 1);
  CHECK_THROWS_AS(pack_activations(codes.data(), 2, 70, 60, 3, out, ctx), shape_error);
  CHECK_THROWS_AS(pack_activations(codes.data(), 2, 70, 70, 9, out, ctx), bit_width_error);
  CHECK_THROWS_AS(quantize_activations(nullptr, 2, 70, 70, {0.0f, 0.0f}, 3, out, ctx), error);
}

TEST_CASE("the AVX-512 packer equals the scalar packer and the codec, from codes") {
  for (path p : avx512_packer_paths()) {
    for (int bits = 1; bits <= 8; ++bits) {
      for (std::size_t cols : {1, 63, 64, 65, 127, 200, 512, 1000, 1024}) {  // 512, 1024 with ld = cols: one run
        for (std::size_t rows : {1, 4}) {
          for (std::size_t ld : {cols, cols + 1, cols + 67}) {
            auto codes = test::random_codes(rows * ld, bits, cols * 31 + ld + static_cast<std::size_t>(bits));
            std::vector<std::uint8_t> dense(rows * cols);
            for (std::size_t r = 0; r < rows; ++r) {
              for (std::size_t k = 0; k < ld; ++k) {
                if (k < cols) dense[r * cols + k] = codes[r * ld + k];
                else codes[r * ld + k] = 255;  // past the row: out of range, must be neither read nor checked
              }
            }
            // Start from all-ones planes of the same shape, so every word (padding too) must be written.
            const std::vector<std::uint8_t> ones(rows * cols, static_cast<std::uint8_t>(max_code(bits)));
            auto out = bitplane_tensor<>::from_codes(ones.data(), rows, cols, bits);
            for (std::size_t w = 0; w < out.view().words_per_row(); ++w) out.plane_row(0, 0)[w] = ~std::uint64_t{0};
            bitplane_tensor<> portable(1, 1, 1);
            gemm_context ctx = forced(p), scalar = forced(path::scalar);
            pack_activations(codes.data(), rows, cols, ld, bits, out, ctx);
            pack_activations(codes.data(), rows, cols, ld, bits, portable, scalar);
            const auto oracle = bitplane_tensor<>::from_codes(dense.data(), rows, cols, bits);
            const std::string where = std::string(path_name(p)) + " bits " + std::to_string(bits) + " cols " +
                                      std::to_string(cols) + " rows " + std::to_string(rows) + " ld " + std::to_string(ld);
            CHECK_MESSAGE(same_planes(out, portable), where);
            CHECK_MESSAGE(same_planes(out, oracle), where);
          }
        }
      }
    }
  }
}

TEST_CASE("the AVX-512 packer quantizes floats as quantize_code, ties, clamps, zeros and NaN included") {
  const std::vector<path> paths = avx512_packer_paths();
  for (path p : paths) {
    for (int bits = 1; bits <= 8; ++bits) {
      const float top = static_cast<float>(max_code(bits));
      CHECK_MESSAGE(!fma_sensitive_floats({0.7f, 1.7f}, bits).empty(), "no fma-sensitive input at bits ", bits);
      // Power-of-two scales give exact ties; 0.3 and the benchmark's grid give fma-sensitive near ties.
      for (const activation_quant q : {activation_quant{0.25f, 2.0f}, activation_quant{0.5f, 0.5f}, activation_quant{0.3f, 1.7f},
                                       activation_quant{0.3f, 127.5f}, activation_quant{0.7f, 1.7f},
                                       activation_quant{2.0f / top, top / 2.0f}}) {
        for (std::size_t cols : {1, 63, 64, 65, 127, 200, 512, 1000, 1024}) {  // 512, 1024 with ld = cols: one run
          for (std::size_t rows : {1, 4}) {
            for (std::size_t ld : {cols, cols + 1, cols + 67}) {
              const auto x = awkward_floats(rows * ld, q, bits, cols * 7 + ld + static_cast<std::size_t>(bits));
              const float inv = quantization_inverse_scale(q.scale);
              std::vector<std::uint8_t> expected(rows * cols);
              for (std::size_t r = 0; r < rows; ++r) {
                for (std::size_t k = 0; k < cols; ++k) expected[r * cols + k] = quantize_code(x[r * ld + k], inv, q.zero_point, top);
              }
              const std::vector<std::uint8_t> ones(rows * cols, static_cast<std::uint8_t>(max_code(bits)));
              auto out = bitplane_tensor<>::from_codes(ones.data(), rows, cols, bits);
              for (std::size_t w = 0; w < out.view().words_per_row(); ++w) out.plane_row(0, 0)[w] = ~std::uint64_t{0};
              bitplane_tensor<> portable(1, 1, 1);
              gemm_context ctx = forced(p), scalar = forced(path::scalar);
              quantize_activations(x.data(), rows, cols, ld, q, bits, out, ctx);
              quantize_activations(x.data(), rows, cols, ld, q, bits, portable, scalar);
              const auto oracle = bitplane_tensor<>::from_codes(expected.data(), rows, cols, bits);
              CHECK_MESSAGE(same_planes(out, portable), std::string(path_name(p)), " bits ", bits, " scale ", q.scale, " cols ", cols,
                            " rows ", rows, " ld ", ld);
              CHECK_MESSAGE(same_planes(out, oracle), std::string(path_name(p)), " bits ", bits, " scale ", q.scale, " cols ", cols,
                            " rows ", rows, " ld ", ld);
            }
          }
        }
      }
    }
  }
#if ANYBIT_X86_KERNELS
  if (!paths.empty()) {  // the byte quantizer the packer lends to other callers (integer_model)
    for (int bits : {1, 2, 5, 8}) {
      const float top = static_cast<float>(max_code(bits));
      const activation_quant q{0.25f, 2.0f};
      for (std::size_t cols : {1, 63, 64, 65, 127, 200, 512, 1000, 1024}) {
        const auto x = awkward_floats(cols, q, bits, cols + 100 * static_cast<std::size_t>(bits));
        std::vector<std::uint8_t> simd(cols + 1, 0xA5), portable(cols + 1, 0xA5);
        kernels::avx512bw::quantize_row(x.data(), cols, 4.0f, q.zero_point, top, simd.data());
        kernels::scalar::quantize_row(x.data(), cols, 4.0f, q.zero_point, top, portable.data());
        CHECK_MESSAGE(simd == portable, "bits ", bits, " cols ", cols);  // the byte past the row untouched too
      }
    }
  }
#endif
}

TEST_CASE("the AVX-512 packer names a code that does not fit, in a full block or the ragged end") {
  for (path p : avx512_packer_paths()) {
    for (std::size_t column : {std::size_t{4}, std::size_t{66}}) {
      std::vector<std::uint8_t> codes(2 * 70, 1);
      codes[70 + column] = 9;
      gemm_context ctx = forced(p);
      bitplane_tensor<> out(1, 1, 1);
      const std::string msg = test::thrown_message<bit_width_error>([&] { pack_activations(codes.data(), 2, 70, 70, 3, out, ctx); });
      const std::string expected = "code 9 at row 1, column " + std::to_string(column);
      CHECK_MESSAGE(msg.find(expected) != std::string::npos, std::string(path_name(p)), ": ", msg);
    }
  }
}

TEST_CASE("rows packed as one run into planes a line apart: 64 x 1024, the benchmark's shape, on every path") {
  const std::size_t rows = 64, cols = 1024;  // 8 KiB planes: padded by a line (bitplane_view.hpp)
  for (int bits = 1; bits <= 8; ++bits) {
    const activation_quant q{0.3f, static_cast<float>(max_code(bits)) / 2.0f};
    const float inv = quantization_inverse_scale(q.scale), top = static_cast<float>(max_code(bits));
    const auto x = awkward_floats(rows * cols, q, bits, 4242 + static_cast<std::size_t>(bits));
    std::vector<std::uint8_t> expected(rows * cols);
    for (std::size_t i = 0; i < x.size(); ++i) expected[i] = quantize_code(x[i], inv, q.zero_point, top);
    const auto oracle = bitplane_tensor<>::from_codes(expected.data(), rows, cols, bits);
    REQUIRE(oracle.view().plane_stride() != rows * oracle.words_per_row());
    for (path p : packer_paths()) {
      gemm_context ctx = forced(p);
      bitplane_tensor<> from_floats(1, 1, 1), from_codes(1, 1, 1);
      quantize_activations(x.data(), rows, cols, cols, q, bits, from_floats, ctx);
      pack_activations(expected.data(), rows, cols, cols, bits, from_codes, ctx);
      CHECK_MESSAGE(same_planes(from_floats, oracle), std::string(path_name(p)), " bits ", bits);
      CHECK_MESSAGE(same_planes(from_codes, oracle), std::string(path_name(p)), " bits ", bits);
    }
  }
}
