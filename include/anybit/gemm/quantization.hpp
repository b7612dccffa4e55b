// anybit/gemm/quantization.hpp — what the codes of a GEMM mean, and what to do with the sums.
//
// Every operand is unsigned codes q with an affine meaning  real = scale * (q - zero_point).
// Zero points may be fractional, so binary +-1 (codes 0/1, scale 2, zero point 0.5) and signed
// b-bit values (zero point 2^(b-1)) are exact, as are the nested views of an 8-bit code.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"

namespace anybit {

/// Activations: one scale and zero point for the whole tensor.
struct activation_quant {
  float scale = 1.0f;
  float zero_point = 0.0f;
};

/// Weights: one scale and zero point per tensor (size 1) or per output channel (size N).
struct weight_quant {
  std::vector<float> scale{1.0f};
  std::vector<float> zero_point{0.0f};
};

/// Applied to every output: y = clamp(sum + bias[n], min, max). An empty bias adds nothing.
struct output_stage {
  std::vector<float> bias;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

/// Codes out: q = clamp(round_half_even(fma(y, 1 / scale, zero_point)), 0, 2^bits - 1) in float,
/// quant/affine.hpp's quantize_code of (float) y: what training's fake quantization computes.
struct code_output {
  float scale = 1.0f;
  float zero_point = 0.0f;
  int bits = 8;
};

namespace detail {

inline void check_scale(float s, const char* what) {
  if (!(std::isfinite(s) && s > 0.0f)) {
    throw error(message("anybit: ", what, " = ", s, ", expected a finite value > 0"));
  }
}

inline void check_zero_point(float z, const char* what) {
  if (!std::isfinite(z)) throw error(message("anybit: ", what, " = ", z, ", expected a finite value"));
}

inline void check_quantization(const activation_quant& a, const weight_quant& w, const output_stage& out,
                               std::size_t n) {
  check_scale(a.scale, "activation scale");
  check_zero_point(a.zero_point, "activation zero point");
  for (const auto* v : {&w.scale, &w.zero_point}) {
    if (v->size() != 1 && v->size() != n) {
      throw shape_error(message("anybit: weight ", v == &w.scale ? "scales" : "zero points", " have ", v->size(),
                                " values, expected 1 (per tensor) or N = ", n, " (per channel)"));
    }
  }
  for (float s : w.scale) check_scale(s, "weight scale");
  for (float z : w.zero_point) check_zero_point(z, "weight zero point");
  if (!out.bias.empty() && out.bias.size() != n) {
    throw shape_error(message("anybit: bias has ", out.bias.size(), " values, expected 0 or N = ", n));
  }
  if (!(out.min <= out.max)) throw error(message("anybit: clamp [", out.min, ", ", out.max, "], expected min <= max"));
}

inline void check_code_output(const code_output& q) {
  check_bits(q.bits);
  check_scale(q.scale, "output scale");
  check_zero_point(q.zero_point, "output zero point");
}

}  // namespace detail
}  // namespace anybit
