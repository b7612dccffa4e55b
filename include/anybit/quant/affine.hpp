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
#include <cstring>
#include <limits>

namespace anybit {

inline float quantization_inverse_scale(float scale) { return 1.0f / scale; }

inline std::uint8_t quantize_code(float x, float inv_scale, float zero_point, float max_code) {
  const float r = std::nearbyint(std::fma(x, inv_scale, zero_point));  // default mode: half to even
  const float lo = r > 0.0f ? r : 0.0f;                                 // NaN fails the test: 0
  return static_cast<std::uint8_t>(lo < max_code ? lo : max_code);
}

/// For 1-bit codes (inv_scale > 0): the float t with quantize_code(x, inv_scale, zero_point, 1)
/// == (x > t) for every x, NaN included (0 both ways), so a packer compares instead of
/// quantizing. The fma rounds monotonically, so the code steps from 0 to 1 once along the floats
/// (at +0 when inv_scale is infinite: 0 * inf is NaN, code 0); t is the last float before the
/// step. The fma's result exceeds 0.5 once x * inv_scale + zero_point passes the midpoint
/// 0.5 + 2^-25 (the midpoint itself rounds to even, 0.5), so that real x, computed in double,
/// lands within an ulp or two of t; the walk checks it with quantize_code itself. Where it does
/// not land (overflow), bisection over the floats in order finds t (32 steps, ~1 us).
inline float binary_threshold(float inv_scale, float zero_point) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const auto one = [&](float x) { return quantize_code(x, inv_scale, zero_point, 1.0f) != 0; };
  float t = static_cast<float>((0.5 + 0x1p-25 - static_cast<double>(zero_point)) / static_cast<double>(inv_scale));
  for (int step = 0; step < 8 && std::isfinite(t); ++step) {
    const bool at_t = one(t);
    const float next = std::nextafter(t, inf);
    if (!at_t && one(next)) return t;
    t = at_t ? std::nextafter(t, -inf) : next;
  }
  // Floats in order as integers: -inf .. -0 are -0x7F800000 .. 0, +0 .. +inf are 0 .. 0x7F800000.
  const auto float_at = [](std::int64_t order) {
    const std::uint32_t bits = order >= 0 ? static_cast<std::uint32_t>(order) : 0x80000000u | static_cast<std::uint32_t>(-order);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  };
  std::int64_t lo = -0x7F800000, hi = 0x7F800000;  // -inf gives 0 whenever inv_scale > 0
  if (!one(inf)) return inf;                      // never 1 (inv_scale is 0 or NaN)
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    (one(float_at(mid)) ? hi : lo) = mid;
  }
  return float_at(lo);
}

}  // namespace anybit
