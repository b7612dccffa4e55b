// dense_shape, dense_view and dense_tensor: extents, storage, indexing, and the errors they throw.
#include <cstdint>
#include <string>

#include "anybit/tensor/dense_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("dense_shape counts elements, prints itself and compares") {
  const dense_shape s{2, 3, 4, 5};
  CHECK(s.rank() == 4);
  CHECK(s.size() == 120);
  CHECK(s.dim(2) == 4);
  CHECK(s.str() == "[2, 3, 4, 5]");
  CHECK(dense_shape{}.rank() == 0);
  CHECK(dense_shape{}.size() == 1);  // a scalar
  CHECK(dense_shape{}.str() == "[]");
  CHECK(dense_shape{3, 0}.size() == 0);
  CHECK(s == dense_shape{2, 3, 4, 5});
  CHECK(s != dense_shape{2, 3, 4});
  CHECK(dense_shape{6} != dense_shape{2, 3});
}

TEST_CASE("dense_shape rejects a fifth dimension, overflowing sizes and bad axes") {
  CHECK(test::thrown_message<shape_error>([] { (void)dense_shape{1, 2, 3, 4, 5}; }).find("5 dimensions") != std::string::npos);
  const std::size_t huge = std::size_t{1} << 40;
  CHECK_THROWS_AS((void)(dense_shape{huge, huge}), shape_error);
  CHECK(test::thrown_message<shape_error>([] { (void)dense_shape{2, 3}.dim(2); }).find("[2, 3]") != std::string::npos);
  const std::string mismatch = test::thrown_message<shape_error>([] { check_same_shape("op", {2, 3}, {3, 2}); });
  CHECK(mismatch.find("[2, 3]") != std::string::npos);
  CHECK(mismatch.find("[3, 2]") != std::string::npos);
}

TEST_CASE("dense_tensor storage is 64-byte aligned, zeroed and deep-copied") {
  for (const dense_shape& s : {dense_shape{1}, dense_shape{3, 5}, dense_shape{2, 3, 7, 7}}) {
    dense_tensor t(s);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    REQUIRE(t.size() == s.size());
    for (const float v : t) CHECK(v == 0.0f);
  }
  dense_tensor a({2, 2}, {1, 2, 3, 4});
  dense_tensor b = a;
  b[0] = -1;
  CHECK(a[0] == 1);
  const dense_tensor c = dense_tensor::from_data({4}, a.data());
  CHECK(c.shape() == dense_shape{4});
  CHECK(c[3] == 4);
  CHECK(dense_tensor().size() == 0);
}

TEST_CASE("dense_tensor indexes row-major and checks indices") {
  dense_tensor t({2, 3, 4});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  CHECK(t.at(1, 2, 3) == 23.0f);
  CHECK(t.at(0, 1, 0) == 4.0f);
  t.at(1, 0, 0) = -5.0f;
  CHECK(t[12] == -5.0f);
  CHECK(t.view().at(1, 0, 0) == -5.0f);
  CHECK(test::thrown_message<shape_error>([&] { (void)t.at(0, 3, 0); }).find("index 3 at axis 1") != std::string::npos);
  CHECK(test::thrown_message<shape_error>([&] { (void)t.at(0, 0); }).find("2 indices") != std::string::npos);
}

TEST_CASE("dense_tensor reshape keeps elements and rejects a different count naming both shapes") {
  dense_tensor t({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  t.reshape({3, 4});
  CHECK(t.at(2, 1) == 9.0f);
  const std::string msg = test::thrown_message<shape_error>([&] { t.reshape({5, 2}); });
  CHECK(msg.find("[3, 4]") != std::string::npos);
  CHECK(msg.find("[5, 2]") != std::string::npos);
  CHECK(t.shape() == dense_shape{3, 4});
  CHECK(test::thrown_message<shape_error>([] { (void)dense_tensor({2, 2}, {1, 2, 3}); }).find("3 values") != std::string::npos);
}
