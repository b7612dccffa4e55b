// The integer model against an independent float simulation of the fake-quantized network
// (model_fixtures.hpp), layer by layer and end to end; every gemm path and thread count; batch
// independence; predict; the cost counters against closed forms.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "anybit/deploy/integer_model.hpp"
#include "deploy/model_fixtures.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::deploy;
using namespace anybit::deploy_test;

namespace {

enum class model_type { cnn, mlp, conv_head };

struct model_case {
  model_type type;
  bit_config bits;
  bool zero_channel = false;
};

const char* type_name(model_type t) {
  return t == model_type::cnn ? "cnn" : t == model_type::mlp ? "mlp" : "conv_head";
}

tensor_shape image_shape(model_type t) {
  return t == model_type::cnn ? tensor_shape{2, 10, 10} : t == model_type::mlp ? tensor_shape{1, 6, 6} : tensor_shape{3, 7, 7};
}

recipe make_recipe(const model_case& mc, const std::vector<float>& images, std::size_t batch, std::uint64_t seed) {
  switch (mc.type) {
    case model_type::cnn: return random_cnn(mc.bits, images, batch, seed, mc.zero_channel);
    case model_type::mlp: return random_mlp(mc.bits, images, batch, seed);
    case model_type::conv_head: return random_conv_head(mc.bits, images, batch, seed);
  }
  return {};
}

std::string label(const model_case& mc) {
  std::string s = type_name(mc.type);
  s += " W";
  for (int b : mc.bits.weight_bits) s += std::to_string(b);
  s += " A";
  for (int b : mc.bits.activation_bits) s += std::to_string(b);
  return s;
}

// The bit-widths under test: binary weights, 2, 4 and 8 bits, mixed; activations 2..8 bits.
std::vector<model_case> model_cases() {
  return {
      {model_type::cnn, {{1, 1, 1}, {8, 2, 2}}},      {model_type::cnn, {{2, 2, 2}, {8, 2, 3}}, true},
      {model_type::cnn, {{4, 4, 4}, {8, 4, 4}}},      {model_type::cnn, {{8, 8, 8}, {8, 8, 8}}},
      {model_type::cnn, {{8, 2, 4}, {6, 5, 7}}, true}, {model_type::cnn, {{3, 5, 7}, {4, 6, 3}}},
      {model_type::mlp, {{1, 1, 1}, {8, 2, 2}}},      {model_type::mlp, {{2, 4, 8}, {8, 3, 6}}},
      {model_type::mlp, {{8, 8, 8}, {5, 8, 8}}},      {model_type::conv_head, {{4, 2}, {8, 4}}},
      {model_type::conv_head, {{1, 8}, {7, 2}}},
  };
}

struct run_result {
  std::vector<float> logits;
  std::vector<std::vector<std::uint8_t>> codes;  // per layer, N C H W (empty where not observed)
};

run_result run(integer_model& model, const std::vector<float>& images, std::size_t batch, gemm_context& ctx) {
  run_result r{std::vector<float>(batch * model.output_size()), std::vector<std::vector<std::uint8_t>>(model.layers().size())};
  model.forward(images.data(), batch, r.logits.data(), ctx, [&](const layer_codes& seen) { r.codes[seen.layer] = nchw_of(seen); });
  return r;
}

// Each layer of the simulation fed with the model's own codes of the layer before: hidden codes
// must be equal but at near ties (then off by one), logits equal up to float rounding.
void check_layer_by_layer(const recipe& rec, const run_result& got, const std::vector<float>& images, std::size_t batch,
                          const std::string& what) {
  sim_tensor prev;
  activation_grid grid;
  std::size_t ties = 0;
  for (std::size_t i = 0; i < rec.size(); ++i) {
    const recipe_layer& l = rec[i];
    if (l.kind == layer_kind::input) {
      const std::vector<std::uint8_t> expected = input_codes(l, images.data(), batch);
      REQUIRE_MESSAGE(got.codes[i] == expected, what, ": input codes differ");
      grid = l.grid;
      prev = from_codes(got.codes[i], batch, l.shape, grid);
      continue;
    }
    if (l.kind == layer_kind::flatten) {
      prev.shape = {prev.shape.size(), 1, 1};
      continue;
    }
    sim_tensor y = step(l, prev);
    if (i + 1 == rec.size()) {  // the logits
      REQUIRE(y.values.size() == got.logits.size());
      double largest = 1;
      for (double v : y.values) largest = std::max(largest, std::fabs(v));
      std::size_t off = 0;
      for (std::size_t j = 0; j < y.values.size(); ++j) off += std::fabs(got.logits[j] - y.values[j]) > 1e-5 * largest;
      CHECK_MESSAGE(off == 0, what, ": ", off, " of ", y.values.size(), " logits differ from the simulation");
      break;
    }
    if (l.kind != layer_kind::max_pool2d) grid = *l.out.grid;
    y.pending = grid;
    const std::vector<std::uint8_t> expected = codes_of(y);
    REQUIRE(got.codes[i].size() == expected.size());
    std::size_t bad = 0;
    for (std::size_t j = 0; j < expected.size(); ++j) {
      if (got.codes[i][j] == expected[j]) continue;
      const bool tie = std::abs(int{got.codes[i][j]} - int{expected[j]}) == 1 && near_tie(y.values[j], grid);
      ties += tie;
      bad += !tie;
    }
    CHECK_MESSAGE(bad == 0, what, ": layer ", i, " (", std::string(layer_kind_name(l.kind)), "): ", bad, " of ", expected.size(),
                  " codes differ from the simulation");
    std::vector<bool> used(max_code(grid.bits) + 1, false);
    for (std::uint8_t c : got.codes[i]) used[c] = true;
    const auto distinct = static_cast<std::size_t>(std::count(used.begin(), used.end(), true));
    CHECK_MESSAGE(distinct >= std::min<std::size_t>(used.size(), 3), what, ": layer ", i, " uses only ", distinct, " codes");
    prev = from_codes(got.codes[i], batch, y.shape, grid);
  }
  if (ties != 0) MESSAGE(what, ": ", ties, " hidden codes at near rounding ties (either rounding accepted)");
}

std::size_t argmax(const float* row, std::size_t n) { return static_cast<std::size_t>(std::max_element(row, row + n) - row); }
std::size_t argmax(const double* row, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(row, row + n) - row);
}

}  // namespace

TEST_CASE("integer model equals the float simulation, layer by layer and end to end") {
  const std::size_t batch = 16;
  std::uint64_t seed = 100;
  for (const model_case& mc : model_cases()) {
    ++seed;
    const std::vector<float> images = random_images(batch, image_shape(mc.type), seed);
    const recipe rec = make_recipe(mc, images, batch, seed);
    integer_model model = build(rec);
    gemm_context ctx;
    const run_result got = run(model, images, batch, ctx);
    check_layer_by_layer(rec, got, images, batch, label(mc));

    // End to end: the simulation from the images alone, quantizing where training does.
    const sim_tensor sim = simulate(rec, images.data(), batch);
    const std::size_t n = model.output_size();
    REQUIRE(sim.values.size() == batch * n);
    double largest = 1, worst = 0;
    for (double v : sim.values) largest = std::max(largest, std::fabs(v));
    for (std::size_t j = 0; j < sim.values.size(); ++j) worst = std::max(worst, std::fabs(got.logits[j] - sim.values[j]));
    CHECK_MESSAGE(worst <= 1e-3 * largest, label(mc), ": logits differ by up to ", worst, " (largest ", largest, ")");
    if (mc.type != model_type::conv_head) {  // the conv head's "classes" are not meant for argmax
      for (std::size_t b = 0; b < batch; ++b) {
        CHECK_MESSAGE(argmax(got.logits.data() + b * n, n) == argmax(sim.values.data() + b * n, n), label(mc), ": image ", b,
                      " is predicted differently");
      }
    }
  }
}

TEST_CASE("every gemm path and thread count gives identical logits") {
  const std::size_t batch = 6;
  std::uint64_t seed = 300;
  for (const model_case& mc : model_cases()) {
    ++seed;
    const std::vector<float> images = random_images(batch, image_shape(mc.type), seed);
    integer_model model = build(make_recipe(mc, images, batch, seed));
    gemm_context reference_ctx;
    reference_ctx.allowed = mask_of(path::reference);
    std::vector<float> expected(batch * model.output_size());
    model.forward(images.data(), batch, expected.data(), reference_ctx);
    for (path p : all_path_values) {
      if ((supported_paths() & mask_of(p)) == 0) continue;  // reference and scalar always run
      for (int threads : {1, 2}) {
        gemm_context ctx;
        ctx.allowed = mask_of(p);
        ctx.threads = threads;
        std::vector<float> logits(expected.size(), -1.0f);
        model.forward(images.data(), batch, logits.data(), ctx);
        CHECK(ctx.last_path == p);
        CHECK_MESSAGE(std::memcmp(logits.data(), expected.data(), logits.size() * sizeof(float)) == 0, label(mc), ": path ",
                      path_name(p), ", ", threads, " threads: logits differ from the reference path");
      }
    }
  }
}

TEST_CASE("logits do not depend on the batch, including batches split into chunks") {
  // 60 images of the cnn are 6000 conv1 rows: more than one chunk of gemm rows.
  const model_case mc{model_type::cnn, {{2, 4, 8}, {8, 3, 5}}};
  const std::size_t batch = 60;
  const std::vector<float> images = random_images(batch, image_shape(mc.type), 77);
  integer_model model = build(make_recipe(mc, images, batch, 77));
  gemm_context ctx;
  std::vector<float> together(batch * model.output_size());
  model.forward(images.data(), batch, together.data(), ctx);
  std::vector<float> alone(model.output_size());
  std::size_t differ = 0;
  for (std::size_t b = 0; b < batch; ++b) {
    model.forward(images.data() + b * model.input_size(), 1, alone.data(), ctx);
    differ += std::memcmp(alone.data(), together.data() + b * alone.size(), alone.size() * sizeof(float)) != 0;
  }
  CHECK(differ == 0);
  std::vector<float> again(together.size());
  model.forward(images.data(), batch, again.data(), ctx);  // scratch reuse changes nothing
  CHECK(again == together);
}

TEST_CASE("predict gives the index of the largest logit") {
  const model_case mc{model_type::mlp, {{4, 4, 4}, {8, 4, 4}}};
  const std::size_t batch = 40;
  const std::vector<float> images = random_images(batch, image_shape(mc.type), 5);
  integer_model model = build(make_recipe(mc, images, batch, 5));
  gemm_context ctx;
  std::vector<float> logits(batch * model.output_size());
  model.forward(images.data(), batch, logits.data(), ctx);
  std::vector<std::size_t> classes(batch, 99);
  model.predict(images.data(), batch, classes.data(), ctx);
  std::vector<std::size_t> seen(model.output_size(), 0);
  for (std::size_t b = 0; b < batch; ++b) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < model.output_size(); ++j) {
      if (logits[b * model.output_size() + j] > logits[b * model.output_size() + best]) best = j;
    }
    CHECK(classes[b] == best);
    ++seen[classes[b]];
  }
  CHECK(std::count(seen.begin(), seen.end(), 0u) < static_cast<long>(seen.size()) - 1);  // not one constant class
}

TEST_CASE("MACs, BitOps and model bytes follow the closed forms") {
  const model_case mc{model_type::cnn, {{1, 4, 8}, {8, 2, 3}}};
  const std::vector<float> images = random_images(4, image_shape(mc.type), 9);
  const recipe rec = make_recipe(mc, images, 4, 9);
  const integer_model model = build(rec);
  // conv1: 2 -> 6, 3x3 pad 1 on 10x10; pool -> 5x5; conv2: 6 -> 8, 3x3 on 5x5 -> 3x3; pool(2, 1)
  // -> 2x2; linear 32 -> 10.
  const std::uint64_t conv1 = 10 * 10 * 6 * (2 * 9), conv2 = 3 * 3 * 8 * (6 * 9), fc = 10 * 32;
  CHECK(model.macs() == conv1 + conv2 + fc);
  CHECK(model.bitops() == conv1 * 1 * 8 + conv2 * 4 * 2 + fc * 8 * 3);
  // Codes at their widths, 3 floats per output channel (scale, zero point, bias), 12 bytes per
  // grid (the input's and two hidden ones), and the input's mean and stddev.
  const std::size_t codes = (6 * 18 * 1 + 7) / 8 + (8 * 54 * 4 + 7) / 8 + (10 * 32 * 8 + 7) / 8;
  CHECK(model.model_bytes() == codes + 12 * (6 + 8 + 10) + 3 * 12 + 8);
  const std::vector<layer_cost> costs = model.costs();
  REQUIRE(costs.size() == rec.size());
  CHECK(costs[1].weight_bits == 1);
  CHECK(costs[1].activation_bits == 8);
  CHECK(costs[3].weight_bits == 4);
  CHECK(costs[3].activation_bits == 2);
  CHECK(costs[6].weight_bits == 8);
  CHECK(costs[6].activation_bits == 3);
  CHECK(model.input_size() == 200);
  CHECK(model.output_size() == 10);
  CHECK(model.describe().find("conv2d") != std::string::npos);
}

TEST_CASE("forward rejects null pointers and an empty batch does nothing") {
  const model_case mc{model_type::mlp, {{4, 4, 4}, {8, 4, 4}}};
  const std::vector<float> images = random_images(2, image_shape(mc.type), 3);
  integer_model model = build(make_recipe(mc, images, 2, 3));
  gemm_context ctx;
  std::vector<float> logits(2 * model.output_size(), 7.0f);
  const std::string message = test::thrown_message<shape_error>([&] { model.forward(nullptr, 2, logits.data(), ctx); });
  CHECK(message.find("null images pointer for a batch of 2") != std::string::npos);
  model.forward(nullptr, 0, nullptr, ctx);
  CHECK(logits[0] == 7.0f);
}
