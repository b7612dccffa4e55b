// im2col against its definition, col2im as its exact adjoint, and geometry errors.
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/tensor/dense_im2col.hpp"
#include "anybit/tensor/dense_pool.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

const conv_geometry geometries[] = {
    {3, 5, 6, 3, 3, 1, 1}, {2, 7, 5, 3, 3, 2, 1}, {1, 4, 4, 2, 3, 1, 0},
    {2, 6, 7, 5, 5, 3, 2}, {4, 3, 3, 1, 1, 1, 0}, {1, 2, 2, 3, 3, 1, 2},  // kernel larger than the input
};

std::vector<int> counting_image(const conv_geometry& g) {
  std::vector<int> image(g.channels * g.height * g.width);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<int>(i) + 1;  // 0 only for padding
  return image;
}

}  // namespace

TEST_CASE("im2col puts input pixel (c, oh*s + kh - p, ow*s + kw - p) at row (c, kh, kw), column (oh, ow)") {
  for (const conv_geometry& g : geometries) {
    CAPTURE(g.channels);
    CAPTURE(g.stride);
    CAPTURE(g.padding);
    g.validate();
    const std::vector<int> image = counting_image(g);
    std::vector<int> columns(g.patch_size() * g.out_pixels(), -1);
    im2col(image.data(), g, columns.data());
    for (std::size_t c = 0; c < g.channels; ++c)
      for (std::size_t kh = 0; kh < g.kernel_h; ++kh)
        for (std::size_t kw = 0; kw < g.kernel_w; ++kw)
          for (std::size_t oh = 0; oh < g.out_h(); ++oh)
            for (std::size_t ow = 0; ow < g.out_w(); ++ow) {
              const long ih = static_cast<long>(oh * g.stride + kh) - static_cast<long>(g.padding);
              const long iw = static_cast<long>(ow * g.stride + kw) - static_cast<long>(g.padding);
              const bool inside = ih >= 0 && iw >= 0 && ih < static_cast<long>(g.height) && iw < static_cast<long>(g.width);
              const int want = inside ? image[(c * g.height + static_cast<std::size_t>(ih)) * g.width + static_cast<std::size_t>(iw)] : 0;
              const std::size_t row = (c * g.kernel_h + kh) * g.kernel_w + kw;
              CHECK(columns[row * g.out_pixels() + oh * g.out_w() + ow] == want);
            }
  }
}

TEST_CASE("col2im_add is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>, exactly in integers") {
  test::rng r(3);
  for (const conv_geometry& g : geometries) {
    std::vector<std::int64_t> x(g.channels * g.height * g.width), y(g.patch_size() * g.out_pixels());
    for (auto& v : x) v = static_cast<std::int64_t>(r.below(201)) - 100;
    for (auto& v : y) v = static_cast<std::int64_t>(r.below(201)) - 100;
    std::vector<std::int64_t> cols(y.size()), back(x.size(), 0);
    im2col(x.data(), g, cols.data());
    col2im_add(y.data(), g, back.data());
    std::int64_t lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < y.size(); ++i) lhs += cols[i] * y[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * back[i];
    CHECK(lhs == rhs);
    std::vector<std::int64_t> twice(x.size(), 7);  // it adds, it does not overwrite
    col2im_add(y.data(), g, twice.data());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(twice[i] == back[i] + 7);
  }
}

TEST_CASE("convolution and pooling geometry errors say what was expected") {
  const std::string big = test::thrown_message<shape_error>([] { conv_geometry{1, 3, 3, 6, 6, 1, 1}.validate(); });
  CHECK(big.find("6x6") != std::string::npos);
  CHECK(big.find("3x3") != std::string::npos);
  CHECK_THROWS_AS((conv_geometry{1, 3, 3, 3, 3, 0, 0}.validate()), shape_error);
  CHECK_THROWS_AS((conv_geometry{1, 3, 3, 0, 3, 1, 0}.validate()), shape_error);
  CHECK_THROWS_AS((pool_geometry{1, 4, 4, 5, 1}.validate()), shape_error);
  CHECK_THROWS_AS((pool_geometry{1, 4, 4, 2, 0}.validate()), shape_error);
  CHECK_NOTHROW((pool_geometry{1, 4, 4, 4, 1}.validate()));
}
