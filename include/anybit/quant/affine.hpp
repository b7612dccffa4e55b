// anybit/quant/affine.hpp — the one definition of "the code of a real value", shared by training
// (fake quantization) and inference (activation packing), so the two agree bit for bit.
//
//     code = clamp(round_half_even(fma(x, inv_scale, zero_point)), 0, max_code)
//
// Our choices, for determinism across ISAs: multiply by inv_scale = 1 / scale (computed once, in
// float) rather than divide, and fuse the multiply-add (std::fma; AVX2 and NEON have it), so no
// compiler contraction can change a result. NaN maps to code 0.
#pragma once

#include <cmath>
#include <cstdint>

namespace anybit {

inline float quantization_inverse_scale(float scale) { return 1.0f / scale; }

inline std::uint8_t quantize_code(float x, float inv_scale, float zero_point, float max_code) {
  const float r = std::nearbyint(std::fma(x, inv_scale, zero_point));  // default mode: half to even
  const float lo = r > 0.0f ? r : 0.0f;                                 // NaN fails the test: 0
  return static_cast<std::uint8_t>(lo < max_code ? lo : max_code);
}

}  // namespace anybit
