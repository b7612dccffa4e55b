// Max pooling loops (the 2 x 2 / stride 2 fast path and the general one) against a direct
// window scan: values and argmax, with ties and NaNs, odd plane sizes and several planes.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "anybit/tensor/dense_pool.hpp"
#include "support/test_support.hpp"

namespace anybit {
namespace {

// Scan each window in row-major order; a tap replaces the maximum only if it is greater.
void direct_max_pool(const std::vector<float>& x, const pool_geometry& g, std::vector<float>& y,
                     std::vector<std::uint32_t>& argmax) {
  y.clear();
  argmax.clear();
  for (std::size_t p = 0; p < g.planes; ++p) {
    for (std::size_t oh = 0; oh < g.out_h(); ++oh) {
      for (std::size_t ow = 0; ow < g.out_w(); ++ow) {
        float best = 0;
        std::size_t at = 0;
        for (std::size_t kh = 0; kh < g.kernel; ++kh) {
          for (std::size_t kw = 0; kw < g.kernel; ++kw) {
            const std::size_t offset = (oh * g.stride + kh) * g.width + ow * g.stride + kw;
            const float v = x[p * g.height * g.width + offset];
            if ((kh == 0 && kw == 0) || v > best) {
              best = v;
              at = offset;
            }
          }
        }
        y.push_back(best);
        argmax.push_back(static_cast<std::uint32_t>(at));
      }
    }
  }
}

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("max_pool_forward equals a direct window scan, ties and NaNs included") {
  test::rng r(41);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t kernel : {1u, 2u, 3u}) {
    for (std::size_t stride : {1u, 2u, 3u}) {
      for (std::size_t height : {3u, 4u, 7u}) {
        for (std::size_t width : {3u, 5u, 8u}) {
          const pool_geometry g{3, height, width, kernel, stride};
          if (kernel > height || kernel > width) continue;
          CAPTURE(kernel);
          CAPTURE(stride);
          CAPTURE(height);
          CAPTURE(width);
          std::vector<float> x(g.planes * height * width);
          for (float& v : x) {
            const std::uint32_t kind = r.below(10);  // few distinct values: many ties
            v = kind == 0 ? nan : static_cast<float>(r.below(4)) - 1.5f;
          }
          std::vector<float> want, got(g.planes * g.out_h() * g.out_w()), got_plain(got.size());
          std::vector<std::uint32_t> want_at, got_at(got.size());
          direct_max_pool(x, g, want, want_at);
          max_pool_forward(x.data(), g, got.data(), got_at.data());
          max_pool_forward(x.data(), g, got_plain.data(), nullptr);
          for (std::size_t i = 0; i < want.size(); ++i) {
            REQUIRE(same_float(got[i], want[i]));
            REQUIRE(same_float(got_plain[i], want[i]));
            REQUIRE(got_at[i] == want_at[i]);
          }
        }
      }
    }
  }
}

}  // namespace anybit
