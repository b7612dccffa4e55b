// anybit/kernels/int8_args.hpp — the contract between the GEMM driver and the int8 micro-kernels.
//
// Operands, with K padded with zero bytes to k_groups * 4:
//   A: activation codes as unsigned bytes, row r at a + r * a_row_stride (a_row_stride >= 4 * k_groups
//      and a multiple of 8: kernels may read two groups at once, past an odd last one).
//   W: signed bytes in panels of 8 output columns; group g (4 consecutive k) of column 8 * panel + l
//      is the 4 bytes at w + panel * w_panel_stride + g * 32 + l * 4 (w_panel_stride = 32 * k_groups);
//      for kernels that read group pairs, at w + panel * w_panel_stride + (g / 2) * 64 + l * 8 +
//      (g % 2) * 4, with K padded with zero bytes to whole pairs. chunk_groups is even.
// Result (overwritten, int64): c[r * c_row_stride + x] = sum_k A[r][k] * W[x][k], for r < rows,
// x < 8 * panels, plus row_add[r] when row_add is not null (the driver's exact correction for
// offset weight bytes, added at the store instead of in a pass of its own). The kernel accumulates in int32 for at most chunk_groups groups at a time (the
// driver sizes chunks so no int32 sum can overflow), and with `split` multiplies the low and
// high nibbles of A separately, so vpmaddubsw's 16-bit pair sums cannot saturate. Without
// split, up to i16_groups groups of pair sums may be added in int16 before widening (the
// driver's bound keeps them below 2^15), saving a vpmaddwd per group for narrow codes.
// (split and i16_groups concern vpmaddubsw only: vpdpbusd has no int16 stage and ignores them.)
#pragma once

#include <cstddef>
#include <cstdint>

namespace anybit::kernels {

struct int8_tile_args {
  const std::uint8_t* a;
  std::size_t a_row_stride;
  const std::int8_t* w;
  std::size_t w_panel_stride;
  std::size_t k_groups;
  std::size_t chunk_groups;
  bool split;
  std::size_t i16_groups;  // >= 1
  int rows;    // >= 1: the kernel walks them mr at a time
  int panels;  // 1 .. the kernel's np
  std::int64_t* c;
  std::size_t c_row_stride;
  const std::int64_t* row_add;  // null, or one value per row added to each of its sums
};

/// The largest |byte| of w_bits-bit weight codes in signed-byte panels (8-bit codes are q - 128).
constexpr int signed_weight_max(int w_bits) noexcept { return w_bits == 8 ? 128 : (1 << w_bits) - 1; }

/// How many groups of vpmaddubsw pair sums, each at most pair_bound = 2 * max(A) * max|W|, int16
/// can add before widening; 0 means even one may saturate, so A's nibbles must be split.
constexpr long long int16_groups(long long pair_bound) noexcept { return 32767 / pair_bound; }

}  // namespace anybit::kernels
