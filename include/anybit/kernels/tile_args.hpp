// anybit/kernels/tile_args.hpp — the contract between the GEMM driver and every bit-serial
// micro-kernel. Only plain pointers and sizes cross it.
//
// Operands.
//   A: activation bit-planes as in tensor/bitplane_view.hpp: word k of row r in plane i is
//      a[i * a_plane_stride + r * a_row_stride + k].
//   W: weights packed in panels of 8 output columns, interleaved so that one 64-bit word of
//      each of the 8 columns sits side by side (one 512-bit vector): word k of lane l (column
//      8 * panel + l) in plane j is w[j * w_plane_stride + panel * w_panel_stride + k * 8 + l].
// Result: for rows r < rows and columns x < 8 * panels (overwritten, 64-bit per lane, so no sum
// of K <= 2^32 codes can overflow):
//   c[r * c_row_stride + x] = sum_{i < a_bits} sum_{j < w_bits} 2^(i+j) *
//                             sum_{k < k_words} popcount(A_i[r][k] AND W_j[x][k])
// Padding bits past K are zero in both operands, so whole words may be counted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace anybit::kernels {

inline constexpr int panel_width = 8;  // output columns per packed weight panel

struct tile_args {
  const std::uint64_t* a;
  std::size_t a_row_stride;
  std::size_t a_plane_stride;
  int a_bits;
  const std::uint64_t* w;
  std::size_t w_panel_stride;
  std::size_t w_plane_stride;
  int w_bits;
  std::size_t k_words;
  int rows;    // >= 1: the kernel walks them mr at a time
  int panels;  // 1 .. the kernel's np
  std::int64_t* c;
  std::size_t c_row_stride;
};

}  // namespace anybit::kernels
