// anybit/gemm/cost_model.hpp — which path is fastest for a (W, A) pair: a small cost model
// calibrated by gemm_bench (docs/performance.md has the runs behind these numbers).
//
// Bit-serial time grows with the W * A plane pairs; int8 time does not (x1.55 measured when
// vpmaddubsw needs A's nibbles split, at A = 8 with W >= 7). Rates are effective GOPS at 1024^3,
// 1 thread. On AVX2 this puts the crossover between 4 and 6 plane pairs (W2A2 bit-serial,
// W3A2 int8), as research/perf-anchors.md section 3 predicts (P* ~ 3.3).
#pragma once

#include "anybit/gemm/path.hpp"

namespace anybit::detail {

/// Effective GOPS of one plane pair (W1A1) for a bit-serial path, or of the int8 path.
inline double calibrated_rate(path p) {
  switch (p) {
    case path::avx512: return 2300.0;  // research/perf-anchors.md, Intel AVX-512 VPOPCNTDQ probe
    case path::avx2: return 560.0;     // gemm_bench bitserial/avx2/W1A1/1024x1024x1024, AMD EPYC
    case path::neon: return 100.0;     // not yet measured on hardware: a guess, ordering only
    case path::avx2_int8: return 120.0;  // gemm_bench int8/avx2_int8/W4A4/1024x1024x1024, AMD EPYC
    case path::neon_int8: return 25.0;   // not yet measured on hardware: a guess, ordering only
    case path::scalar: return 40.0;
    case path::reference: return 1.0;
  }
  return 1.0;
}

/// Relative time of one MAC at widths (w_bits, a_bits) on path p.
inline double estimated_cost(path p, int w_bits, int a_bits) {
  if (p == path::neon_int8) return 1.0 / calibrated_rate(p);
  if (p == path::avx2_int8) {
    const bool split = a_bits == 8 && w_bits >= 7;
    return (split ? 1.55 : 1.0) / calibrated_rate(p);
  }
  return static_cast<double>(w_bits * a_bits) / calibrated_rate(p);
}

}  // namespace anybit::detail
