// integer_model_builder: every wrong argument raises the right anybit::error subclass with a
// message naming the offending value and what was expected; the folding of output multipliers.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "anybit/deploy/integer_model_builder.hpp"
#include "anybit/deploy/weight_order.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::deploy;

namespace {

const activation_grid input_grid{0.02f, 128.0f, 8};
const activation_grid hidden_grid{0.05f, 0.0f, 4};

layer_weights weights(std::size_t out_channels, std::size_t k, int bits = 2) {
  layer_weights w;
  w.out_channels = out_channels;
  w.bits = bits;
  w.codes.assign(out_channels * k, 1);
  w.scale = {0.1f};
  w.zero_point = {1.5f};
  return w;
}

// input 1x6x6 - conv 3x3 pad 1 (4 channels): the start of most cases below.
integer_model_builder started() {
  integer_model_builder b;
  b.input(1, 6, 6, {0.5f}, {0.25f}, input_grid);
  b.conv2d(weights(4, 9), {3, 3, 1, 1}, output_spec::codes(hidden_grid, {1.0f}, {}, true));
  return b;
}

template <class E, class F>
void check_message(F&& f, const std::vector<std::string>& parts) {
  const std::string message = test::thrown_message<E>(f);
  for (const std::string& part : parts) {
    CHECK_MESSAGE(message.find(part) != std::string::npos, "'", part, "' not in: ", message);
  }
}

}  // namespace

TEST_CASE("builder input errors name the value") {
  integer_model_builder b;
  check_message<shape_error>([&] { b.input(0, 6, 6, {}, {}, input_grid); }, {"layer 0 (input)", "channels = 0", "expected 1.."});
  check_message<shape_error>([&] { b.input(1, 70000, 6, {}, {}, input_grid); }, {"height = 70000"});
  check_message<shape_error>([&] { b.input(2, 6, 6, {0.1f, 0.2f, 0.3f}, {1.0f, 1.0f, 1.0f}, input_grid); },
                             {"3 means and 3 stddevs", "channels = 2", "72"});
  check_message<shape_error>([&] { b.input(1, 6, 6, {0.1f}, {}, input_grid); }, {"1 means and 0 stddevs"});
  check_message<error>([&] { b.input(1, 6, 6, {0.1f}, {0.0f}, input_grid); }, {"stddev 0", "> 0"});
  check_message<error>([&] { b.input(1, 6, 6, {std::nanf("")}, {1.0f}, input_grid); }, {"mean nan"});
  check_message<bit_width_error>([&] { b.input(1, 6, 6, {}, {}, {0.1f, 0.0f, 9}); }, {"input grid bits = 9", "1..8"});
  check_message<error>([&] { b.input(1, 6, 6, {}, {}, {-0.1f, 0.0f, 8}); }, {"input grid scale = -0.1"});
  check_message<error>([&] { b.input(1, 6, 6, {}, {}, {0.1f, INFINITY, 8}); }, {"input grid zero point = inf"});
  b.input(1, 6, 6, {}, {}, input_grid);
  check_message<error>([&] { b.input(1, 6, 6, {}, {}, input_grid); }, {"input() after 1 layers", "once, first"});
}

TEST_CASE("builder layer order errors name the layers") {
  integer_model_builder empty;
  check_message<error>([&] { empty.flatten(); }, {"layer 0 (flatten)", "before input()"});
  check_message<error>([&] { empty.build(); }, {"no layers"});
  check_message<error>([&] { (void)empty.shape(); }, {"no input yet"});

  integer_model_builder b = started();
  check_message<error>([&] { b.build(); }, {"ends with layer 1 (conv2d) giving codes", "float output"});
  b.flatten();
  check_message<shape_error>([&] { b.conv2d(weights(2, 4 * 9), {3, 3, 1, 0}, output_spec::logits({1.0f}, {})); },
                             {"layer 3 (conv2d)", "flat output of layer 2 (flatten)", "N x C x H x W"});
  check_message<shape_error>([&] { b.max_pool2d(2); }, {"flat output of layer 2"});
  b.linear(weights(3, 144), output_spec::logits({1.0f}, {}));
  check_message<error>([&] { b.flatten(); }, {"layer 4 (flatten)", "after the float output (logits) of layer 3"});
  CHECK(b.build().layers().size() == 4);
}

TEST_CASE("builder weight errors name the value") {
  integer_model_builder b = started();
  const output_spec logits = output_spec::logits({1.0f}, {});
  check_message<shape_error>([&] { b.linear(weights(3, 144), logits); }, {"input is 4x6x6", "add flatten() first"});
  b.flatten();
  layer_weights w = weights(3, 144);
  w.codes.pop_back();
  check_message<shape_error>([&] { b.linear(w, logits); }, {"weight codes hold 431 values", "3 x 144 = 432"});
  w = weights(3, 144, 2);
  w.codes[145] = 4;
  check_message<bit_width_error>([&] { b.linear(w, logits); },
                                 {"weight code 4 at index 145 (output channel 1)", "fit in 2 bits", "0..3"});
  w = weights(3, 144, 0);
  check_message<bit_width_error>([&] { b.linear(w, logits); }, {"weight bits = 0", "1..8"});
  w = weights(0, 144);
  check_message<shape_error>([&] { b.linear(w, logits); }, {"out_channels = 0"});
  w = weights(3, 144);
  w.scale = {0.1f, 0.2f};
  check_message<shape_error>([&] { b.linear(w, logits); }, {"weight scale has 2 values", "1 or out_channels = 3"});
  w.scale = {0.1f, 0.0f, 0.3f};
  check_message<error>([&] { b.linear(w, logits); }, {"weight scale[1] = 0", "finite value > 0"});
  w = weights(3, 144);
  w.zero_point = {1.0f, 1.0f, std::nanf("")};
  check_message<error>([&] { b.linear(w, logits); }, {"weight zero point[2] = nan"});
  w = weights(3, 144);
  check_message<shape_error>([&] { b.linear(w, output_spec::logits({1.0f, 2.0f}, {})); },
                             {"output multiplier has 2 values"});
  check_message<shape_error>([&] { b.linear(w, output_spec::logits({1.0f}, {1.0f})); }, {"bias has 1 values", "expected 0 or out_channels = 3"});
  check_message<error>([&] { b.linear(w, output_spec::logits({1.0f}, {0.0f, INFINITY, 0.0f})); }, {"bias[1] = inf"});
  check_message<error>([&] { b.linear(w, output_spec::codes({0.1f, 0.0f, 12}, {1.0f}, {}, false)); }, {"output grid bits = 12"});
  w.scale = {3e38f};
  check_message<error>([&] { b.linear(w, output_spec::logits({1.0f, 10.0f, 1.0f}, {})); },
                       {"output channel 1", "weight scale 3e+38", "multiplier 10", "inf"});
}

TEST_CASE("builder geometry errors name the value") {
  integer_model_builder b;
  b.input(2, 5, 5, {}, {}, input_grid);
  const output_spec out = output_spec::codes(hidden_grid, {1.0f}, {}, true);
  check_message<shape_error>([&] { b.conv2d(weights(4, 2 * 36), {6, 6, 1, 0}, out); },
                             {"kernel 6x6 on a padded input of 5x5"});
  check_message<shape_error>([&] { b.conv2d(weights(4, 2 * 9), {3, 3, 0, 0}, out); }, {"stride = 0"});
  check_message<shape_error>([&] { b.conv2d(weights(4, 2 * 9), {3, 0, 1, 0}, out); }, {"kernel_w = 0"});
  layer_weights one_more = weights(4, 2 * 9);
  one_more.codes.push_back(0);
  check_message<shape_error>([&] { b.conv2d(one_more, {3, 3, 1, 0}, out); },
                             {"weight codes hold 73 values", "in_channels x kernel_h x kernel_w = 2 x 3 x 3", "= 72"});
  check_message<shape_error>([&] { b.max_pool2d(6); }, {"layer 1 (max_pool2d)", "kernel 6 on a 5x5 input"});

  integer_model_builder half;
  half.input(1, 5, 5, {}, {}, {0.1f, 7.5f, 4});
  check_message<error>([&] { half.conv2d(weights(2, 9), {3, 3, 1, 1}, out); },
                       {"zero padding", "input zero point", "7.5", "integer in 0..15"});
  half.conv2d(weights(2, 9), {3, 3, 1, 0}, out);  // no padding: a fractional zero point is fine
  integer_model_builder outside;
  outside.input(1, 5, 5, {}, {}, {0.1f, 16.0f, 4});
  check_message<error>([&] { outside.conv2d(weights(2, 9), {3, 3, 1, 1}, out); }, {"it is 16", "0..15"});
}

TEST_CASE("builder folds output multipliers into per-channel scales, flipping negative channels") {
  // One linear layer of 4 channels on 3 inputs: multipliers 2, -0.5, 0 and 1 (per-tensor scale).
  integer_model_builder b;
  b.input(3, 1, 1, {}, {}, {0.5f, 0.0f, 4});
  layer_weights w;
  w.out_channels = 4;
  w.bits = 3;
  w.codes = {0, 1, 2, 3, 4, 5, 6, 7, 0, 7, 7, 7};
  w.scale = {0.25f};
  w.zero_point = {3.5f};
  b.linear(w, output_spec::logits({2.0f, -0.5f, 0.0f, 1.0f}, {0.0f, 1.0f, 2.0f, 3.0f}));
  const integer_model model = b.build();
  const integer_layer& layer = model.layers()[1];
  CHECK(layer.quant.scale == std::vector<float>{0.5f, 0.125f, 0.25f, 0.25f});
  CHECK(layer.quant.zero_point == std::vector<float>{3.5f, 3.5f, 0.0f, 3.5f});  // 7 - 3.5 flipped
  CHECK(unpack_weight_codes(layer.weights->view()) == std::vector<std::uint8_t>{0, 1, 2, 4, 3, 2, 0, 0, 0, 7, 7, 7});
  CHECK(layer.stage.bias == std::vector<float>{0.0f, 1.0f, 2.0f, 3.0f});
  CHECK(std::isinf(layer.stage.min));  // no ReLU
}
