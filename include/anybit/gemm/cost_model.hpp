// anybit/gemm/cost_model.hpp — which path is fastest for a (W, A) pair: a small cost model
// calibrated by gemm_bench (docs/performance.md has the runs behind these numbers).
//
// Bit-serial time grows with the W * A plane pairs; int8 time depends only on how many int16
// pair sums fit before widening (AVX2), or not on the widths at all (VNNI). Rates are effective
// GOPS at 1024^3, 1 thread. On AVX2 this puts the crossover at about 3 plane pairs (W1A2 and
// W2A1 bit-serial, W2A2 int8), as research/perf-anchors.md section 3 predicts (P* ~ 3.3); with
// AVX-512 (VPOPCNTDQ against VNNI) at about 5 on AMD Zen 5 (W2A2, W4A1, W1A4 bit-serial;
// W2A3 int8) and 3.5 on an Intel Xeon (W2A2, W4A1, W1A4 int8; W1A3, W3A1 bit-serial).
#pragma once

#include <cstddef>

#include "anybit/core/cpu_features.hpp"
#include "anybit/gemm/path.hpp"
#include "anybit/kernels/int8_args.hpp"

namespace anybit::detail {

/// The rate of avx512_int8 against avx512 popcounts depends on the core: W1A1 popcounts run
/// 5.2x faster than vpdpbusd on AMD Zen 5, 3.5x on an Intel Xeon (0xA7). The rates below are
/// Zen 5's; on other CPUs avx512_int8's is scaled to the Xeon's ratio (measured 2026-12-03 with
/// the group-pair panels, 3 runs: bitserial/avx512/W1A1 1215-1352 GOPS, int8/avx512_int8/W4A4
/// 293-424 at 1024^3; W2A2 and W4A1 ran 1.2x and 1.15x faster on int8 in auto_vs_best).
struct vnni_profile {
  double rate;       // avx512_int8's rate at 1024^3
  double half_rows;  // rows at which a GEMM runs at half that rate (a GEMV's weight bytes stream)
};
inline vnni_profile vnni_rates() {
  // Xeon: int8/avx512_int8/W8A8/1x4096x4096 42 GOPS (9x slower than 1024^3; Zen 5 5.5x).
  return cpu().amd ? vnni_profile{650.0, 4.5} : vnni_profile{3400.0 / 3.5, 6.5};
}

/// Effective GOPS of one plane pair (W1A1) for a bit-serial path, or of the int8 path.
inline double calibrated_rate(path p) {
  switch (p) {
    case path::avx512: return 3400.0;  // gemm_bench bitserial/avx512/W1A1/1024x1024x1024, AMD EPYC Zen 5 (3389-3534)
    case path::avx512bw: return 955.0;  // research/perf-anchors.md, AVX-512BW lookup probe (Gbinop/s / 2)
    case path::avx2: return 560.0;     // gemm_bench bitserial/avx2/W1A1/1024x1024x1024, AMD EPYC
    case path::neon: return 100.0;     // not yet measured on hardware: a guess, ordering only
    case path::avx512_int8: return vnni_rates().rate;  // gemm_bench int8/avx512_int8/W4A4/1024x1024x1024, Zen 5: 650
    case path::avx2_int8: return 200.0;  // gemm_bench int8/avx2_int8/W4A4/1024x1024x1024, AMD EPYC (int16 sums)
    case path::neon_int8: return 25.0;   // not yet measured on hardware: a guess, ordering only
    // Not measured on hardware either: research/perf-anchors.md section 6 estimates the udot
    // crossover with NEON bit-serial at about 2.7 plane pairs on a 2-pipe Cortex-A76-class core.
    case path::neon_dot: return 100.0 / 2.7;
    case path::avx512_lut: return 780.0;  // A <= 4 (see estimated_cost), scaled as below
    case path::avx512_vbmi_lut: return 910.0;  // A <= 4: 1.17 x avx512_lut on the same machine (below)
    case path::scalar: return 40.0;
    case path::reference: return 1.0;
  }
  return 1.0;
}

/// Relative time of one MAC at widths (w_bits, a_bits) on path p, for a GEMM of `rows` rows.
/// The int8 paths slow down for a GEMV (bytes of weights and per-call unpacking are no longer
/// amortised over rows: measured 67-100 vs 200-240 GOPS on AVX2, 90-127 vs 650 with VNNI).
/// So does bit-serial avx512: each weight plane is streamed for a single row.
///
/// The avx512_lut and the avx512 GEMV terms were measured on an Intel Xeon (2026-12-02, AMX
/// machine: bitserial/avx512 W1A1 1024^3 1096 GOPS) and are scaled here to the rates above
/// (x 3400 / 1096): lut W1..W8 at 1x4096x4096 gave 250 per plane for A <= 4, 200 for A = 8,
/// about the same at 64 rows; bit-serial GEMVs fit W * (A * 1.3 / 1096 + 1 / 769).
/// avx512_vbmi_lut was measured against avx512_lut on the same Xeon (2026-12-03, interleaved
/// runs at 1x4096x4096, geometric means over W): 1.13-1.18x for A <= 4 (rate 780 x 1.17), and
/// its own A = 8 lines 1.16x slower than A <= 4: it streams the weights at about the L3 rate
/// already, so the high-nibble tables cost less extra than on avx512_lut.
inline double estimated_cost(path p, int w_bits, int a_bits, std::size_t rows) {
  const double row_factor = static_cast<double>(rows) / (static_cast<double>(rows) + 1.7);
  const auto r = static_cast<double>(rows);
  if (p == path::neon_int8 || p == path::neon_dot) return 1.0 / (calibrated_rate(p) * row_factor);
  // Streaming weight planes costs more per plane as W grows: at 1x4096x4096 the first plane
  // (2 MiB) stays in L2 and the others come from L3 (per-plane time 1.4x at W2, 1.6x at W4,
  // 1.7x at W8 for both avx512 and the lookup paths, Xeon, 2026-12-03). The int8 bytes stream
  // from L3 at every W, so without this the W8A1 GEMV went bit-serial at 24 GOPS where
  // avx512_int8 ran 29.
  const double plane_stream = 1.0 + 0.1 * (w_bits - 1);
  if (p == path::avx512_lut || p == path::avx512_vbmi_lut) {
    // One lookup per weight plane and k-group per table (two tables when A > 4); rows share
    // none of it, and many rows' tables no longer stay in L1 (64 rows lost to avx512_int8).
    const double high_nibbles = p == path::avx512_lut ? 1.25 : 1.16;
    return w_bits * plane_stream * (a_bits > 4 ? high_nibbles : 1.0) * (1.0 + r / 64) / calibrated_rate(p);
  }
  if (p == path::avx512) {
    // A GEMV streams every weight plane for one row, and its A passes over the plane no longer
    // share the tile's weight loads.
    const double stream = 3400.0 / 1096 * 769;
    const double streamed = 1 + (plane_stream - 1) / r;  // whole planes stream for few rows only
    return w_bits * streamed * (a_bits * (1 + 0.3 / r) / calibrated_rate(p) + 1 / (stream * r));
  }
  if (p == path::avx512_int8) {
    // vpdpbusd has no int16 stage, so the widths do not matter; a GEMV is bound by the weight
    // bytes it streams: int8/avx512_int8/W*/1x4096x4096 measured 90-127 GOPS.
    const double vnni_row_factor = static_cast<double>(rows) / (static_cast<double>(rows) + vnni_rates().half_rows);
    return 1.0 / (calibrated_rate(p) * vnni_row_factor);
  }
  if (p == path::avx2_int8) {
    // vpmaddubsw pair sums: int16 may hold several groups (fast), one (a vpmaddwd per group),
    // or must be split into nibbles (A = 8, W >= 7); measured 200 / 150 / 110 / 77 GOPS.
    const long long groups = kernels::int16_groups(2 * ((1LL << a_bits) - 1) * kernels::signed_weight_max(w_bits));
    const double slowdown = groups == 0 ? 200.0 / 77 : groups == 1 ? 200.0 / 110 : groups < 8 ? 200.0 / 150 : 1.0;
    return slowdown / (calibrated_rate(p) * row_factor);
  }
  return static_cast<double>(w_bits * a_bits) / calibrated_rate(p);
}

}  // namespace anybit::detail
