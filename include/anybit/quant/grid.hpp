// anybit/quant/grid.hpp — the affine grid every quantizer policy reduces to.
//
// At a given parameter value and bit-width, every policy is a grid {scale, zero_point, bits}:
//
//     encode(x) = quantize_code(x, 1 / scale, zero_point, 2^bits - 1)    (quant/affine.hpp)
//     decode(c) = scale * (c - zero_point)
//
// Fake quantization in training is decode(encode(x)), and the integer GEMM consumes exactly
// these numbers (gemm/quantization.hpp), so an exported model reproduces what training simulated.
#pragma once

#include <cmath>
#include <cstdint>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"
#include "anybit/quant/affine.hpp"

namespace anybit {

/// Which codes a b-bit grid spends on which side of zero; fixes the zero point.
enum class code_range {
  unsigned_codes,  // zero point 0: levels 0, s, ..., (2^b - 1) s (post-ReLU activations)
  signed_codes,    // zero point 2^(b-1): levels -2^(b-1) s .. (2^(b-1) - 1) s (weights, b >= 2)
  symmetric,       // zero point (2^b - 1) / 2: levels +-s/2, +-3s/2, ... (b = 1: binary +-s/2)
};

inline const char* code_range_name(code_range r) {
  switch (r) {
    case code_range::unsigned_codes: return "unsigned_codes";
    case code_range::signed_codes: return "signed_codes";
    case code_range::symmetric: return "symmetric";
  }
  return "unknown code_range";
}

/// The zero point of range r at `bits` bits. Throws bit_width_error for bits outside 1..8, and
/// for signed_codes at 1 bit (levels {-s, 0} have no positive side: use symmetric for +-1).
inline float range_zero_point(code_range r, int bits) {
  check_bits(bits);
  switch (r) {
    case code_range::unsigned_codes: return 0.0f;
    case code_range::signed_codes:
      if (bits < 2) {
        throw bit_width_error(detail::message("anybit: signed_codes at ", bits,
                                              " bit, expected 2..8 bits (binary +-1 is code_range::symmetric)"));
      }
      return static_cast<float>(1u << (bits - 1));
    case code_range::symmetric: return static_cast<float>(max_code(bits)) * 0.5f;  // exact in float
  }
  throw error(detail::message("anybit: code_range value ", static_cast<int>(r), ", expected one of the three ranges"));
}

struct affine_grid {
  float scale = 1.0f;
  float zero_point = 0.0f;
  int bits = 8;

  /// 2^bits - 1 (bits is assumed valid: policies build grids from checked configurations).
  std::uint8_t max_code() const { return static_cast<std::uint8_t>(anybit::max_code(bits)); }

  /// The code of x: round half to even, clamped to [0, max_code]; NaN gives 0.
  std::uint8_t encode(float x) const {
    return quantize_code(x, quantization_inverse_scale(scale), zero_point, static_cast<float>(max_code()));
  }

  float decode(std::uint8_t c) const { return scale * (static_cast<float>(c) - zero_point); }

  float lowest() const { return decode(0); }
  float highest() const { return decode(max_code()); }

  /// Throws unless bits is in 1..8, scale is finite and > 0 and zero_point is finite.
  void check() const {
    check_bits(bits, "grid bits");
    if (!(std::isfinite(scale) && scale > 0.0f)) {
      throw error(detail::message("anybit: grid scale = ", scale, ", expected a finite value > 0"));
    }
    if (!std::isfinite(zero_point)) {
      throw error(detail::message("anybit: grid zero point = ", zero_point, ", expected a finite value"));
    }
  }
};

}  // namespace anybit
