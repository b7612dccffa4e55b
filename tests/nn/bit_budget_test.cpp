// The DDQ weight bit budget: finds the DDQ layers of a model, averages their bits by weight
// count, adds the hinge's gate gradient only while over budget, and repair / freeze behave.
#include <cmath>
#include <vector>

#include "anybit/nn/bit_budget.hpp"
#include "anybit/nn/models.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

nn::network_quantization ddq_mlp_quantization() {
  nn::quantizer_spec ddq;
  ddq.method = nn::quant_method::ddq;
  ddq.bits = 8;
  nn::quantizer_spec lsq8;
  lsq8.method = nn::quant_method::lsq;
  lsq8.bits = 8;
  nn::network_quantization q;
  q.first = {ddq, {}};
  q.middle = {ddq, lsq8};
  q.last = {lsq8, lsq8};  // not budgeted
  return q;
}

// Quantizers initialise on their first forward: run one.
void initialise(nn::module& model, std::size_t inputs) {
  tape t;
  dense_tensor x(dense_shape{2, inputs});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) * 0.25f;
  (void)model.forward(t, t.input(x));
}

}  // namespace

TEST_CASE("the budget averages the DDQ layers' bits by weight count and pushes gates only when over") {
  xoshiro256ss rng(1);
  const nn::network_quantization q = ddq_mlp_quantization();
  auto model = nn::make_mlp({10, 6, 4, 3}, rng, &q);  // DDQ: 10x6 (60) and 6x4 (24) weights
  initialise(*model, 10);
  nn::weight_bit_budget budget(*model, 5.0, 2.0);
  REQUIRE(budget.layer_count() == 2);
  CHECK(budget.average_bits() == 8.0);
  CHECK(budget.penalty() == doctest::Approx(2.0 * 3.0));

  model->zero_grad();
  budget.add_gradient();
  // Only the next gate of each layer (gate 0, all bits kept) moves: -lambda * numel / total.
  const auto params = model->named_parameters();
  std::vector<float*> theta_grads;
  for (const auto& p : params) {
    if (p.name.find("weight_quantizer") == std::string::npos) continue;
    if (p.value->value.size() < 8) continue;
    theta_grads.push_back(p.value->grad.data() + (p.value->value.size() - 8));
  }
  REQUIRE(theta_grads.size() == 2);
  CHECK(theta_grads[0][0] == doctest::Approx(-2.0 * 60 / 84));
  CHECK(theta_grads[1][0] == doctest::Approx(-2.0 * 24 / 84));
  for (int k = 1; k < 8; ++k) CHECK(theta_grads[0][k] == 0.0f);

  // repair() merges gates until the average is within the target, preferring the gate closest
  // to merging; freeze() keeps the bits.
  const int merges = budget.repair();
  CHECK(budget.average_bits() <= 5.0);
  CHECK(merges >= 3);
  const std::vector<int> before = budget.bits();
  budget.freeze();
  CHECK(budget.bits() == before);
  model->zero_grad();
  budget.add_gradient();  // within budget now: no push
  for (float* g : theta_grads) {
    for (int k = 0; k < 8; ++k) CHECK(g[k] == 0.0f);
  }
}

TEST_CASE("a budget needs DDQ layers and a usable target") {
  xoshiro256ss rng(2);
  auto plain = nn::make_mlp({4, 3}, rng);
  CHECK_THROWS_AS(nn::weight_bit_budget(*plain, 3.0, 1.0), error);
  const nn::network_quantization q = ddq_mlp_quantization();
  auto model = nn::make_mlp({10, 6, 4, 3}, rng, &q);
  CHECK_THROWS_AS(nn::weight_bit_budget(*model, 0.0, 1.0), error);
  CHECK_THROWS_AS(nn::weight_bit_budget(*model, 3.0, -1.0), error);
}
