// Every op rejects shapes it cannot handle with a shape_error that names the offending shapes.
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/autograd/ops.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

template <class F>
void expect_shape_error(F f, std::initializer_list<const char*> fragments) {
  const std::string msg = test::thrown_message<shape_error>(f);
  for (const char* fragment : fragments) {
    CHECK_MESSAGE(msg.find(fragment) != std::string::npos, "'", fragment, "' missing from: ", msg);
  }
}

}  // namespace

TEST_CASE("element-wise ops and broadcasts name both shapes") {
  tape t;
  const var a = t.input(dense_tensor(dense_shape{2, 3})), b = t.input(dense_tensor(dense_shape{3, 2}));
  expect_shape_error([&] { (void)add(a, b); }, {"[2, 3]", "[3, 2]"});
  expect_shape_error([&] { (void)sub(a, b); }, {"[2, 3]", "[3, 2]"});
  expect_shape_error([&] { (void)mul(a, b); }, {"[2, 3]", "[3, 2]"});
  expect_shape_error([&] { (void)add(a, t.input(dense_tensor(dense_shape{2}))); }, {"[2, 3]", "[2]", "bias"});
  const var image = t.input(dense_tensor(dense_shape{1, 4, 2, 2}));
  expect_shape_error([&] { (void)add(image, t.input(dense_tensor(dense_shape{2}))); }, {"[1, 4, 2, 2]", "[2]"});
  CHECK_NOTHROW((void)add(image, t.input(dense_tensor(dense_shape{4}))));
}

TEST_CASE("matmul, linear, reshape and flatten shape errors") {
  tape t;
  const var a = t.input(dense_tensor(dense_shape{2, 3})), b = t.input(dense_tensor(dense_shape{4, 5}));
  expect_shape_error([&] { (void)matmul(a, b); }, {"[2, 3]", "[4, 5]", "3 and 4"});
  expect_shape_error([&] { (void)matmul(a, t.input(dense_tensor(dense_shape{3}))); }, {"[2, 3]", "[3]", "2-D"});
  expect_shape_error([&] { (void)linear(a, b); }, {"[2, 3]", "[4, 5]^T"});
  expect_shape_error([&] { (void)linear(a, t.input(dense_tensor(dense_shape{4, 3})), t.input(dense_tensor(dense_shape{3}))); },
                     {"[2, 4]", "[3]"});
  expect_shape_error([&] { (void)reshape(a, {4, 2}); }, {"[2, 3]", "[4, 2]"});
  expect_shape_error([&] { (void)flatten(t.input(dense_tensor(dense_shape{}))); }, {"[]"});
}

TEST_CASE("conv2d and pooling shape errors") {
  tape t;
  const var x = t.input(dense_tensor(dense_shape{2, 3, 5, 5}));
  expect_shape_error([&] { (void)conv2d(x, t.input(dense_tensor(dense_shape{4, 2, 3, 3}))); }, {"[2, 3, 5, 5]", "[4, 2, 3, 3]"});
  expect_shape_error([&] { (void)conv2d(t.input(dense_tensor(dense_shape{3, 5, 5})), t.input(dense_tensor(dense_shape{4, 3, 3, 3}))); },
                     {"[3, 5, 5]"});
  const var w = t.input(dense_tensor(dense_shape{4, 3, 3, 3}));
  expect_shape_error([&] { (void)conv2d(x, w, t.input(dense_tensor(dense_shape{3}))); }, {"[4, 3, 3, 3]", "[3]", "[4]"});
  expect_shape_error([&] { (void)conv2d(x, t.input(dense_tensor(dense_shape{4, 3, 8, 8}))); }, {"8x8", "5x5", "padding 0"});
  CHECK_NOTHROW((void)conv2d(x, t.input(dense_tensor(dense_shape{4, 3, 7, 7})), {1, 1}));  // fits with padding
  expect_shape_error([&] { (void)conv2d(x, w, {0, 1}); }, {"stride 0"});
  expect_shape_error([&] { (void)max_pool2d(x, 6); }, {"kernel 6", "5x5"});
  expect_shape_error([&] { (void)avg_pool2d(x, 2, 0); }, {"stride 0"});
  expect_shape_error([&] { (void)max_pool2d(t.input(dense_tensor(dense_shape{5, 5})), 2); }, {"[5, 5]", "rank 4"});
}

TEST_CASE("batch norm and cross-entropy shape errors") {
  tape t;
  const var x = t.input(dense_tensor(dense_shape{4, 3}));
  const var g3 = t.input(dense_tensor(dense_shape{3})), g2 = t.input(dense_tensor(dense_shape{2}));
  dense_tensor mean3(dense_shape{3}), var3(dense_shape{3}), mean2(dense_shape{2});
  expect_shape_error([&] { (void)batch_norm(x, g2, g3, mean3, var3); }, {"[3]", "[2]", "gamma"});
  expect_shape_error([&] { (void)batch_norm(x, g3, g3, mean2, var3); }, {"[3]", "[2]", "running_mean"});
  expect_shape_error([&] { (void)batch_norm(t.input(dense_tensor(dense_shape{4, 3, 2})), g3, g3, mean3, var3); },
                     {"[4, 3, 2]"});
  expect_shape_error([&] { (void)batch_norm(t.input(dense_tensor(dense_shape{1, 3})), g3, g3, mean3, var3); },
                     {"[1, 3]", "at least 2"});
  CHECK_NOTHROW((void)batch_norm(t.input(dense_tensor(dense_shape{1, 3})), g3, g3, mean3, var3, {false, 0.1f, 1e-5f}));

  const std::vector<int> two{0, 1}, bad{0, 3}, negative{0, -1};
  expect_shape_error([&] { (void)softmax_cross_entropy(x, two); }, {"[4, 3]", "2 labels"});
  const var logits = t.input(dense_tensor(dense_shape{2, 3}));
  expect_shape_error([&] { (void)softmax_cross_entropy(logits, bad); }, {"label 3", "row 1", "0..2"});
  expect_shape_error([&] { (void)softmax_cross_entropy(logits, negative); }, {"label -1"});
  const std::vector<std::uint8_t> byte_labels{0, 200};
  expect_shape_error([&] { (void)softmax_cross_entropy(logits, byte_labels); }, {"label 200"});  // a number, not a char
}
