// anybit/kernels/reference.hpp — the never-optimised bit-serial oracle.
//
// Every fast kernel is tested bit-exactly against the functions here, so they stay the
// plainest possible transcription of the identity the library rests on:
//
//     sum_k a_k * w_k  =  sum_{i < Ba} sum_{j < Bw} 2^(i+j) * popcount(A_i AND W_j)
//
// where A_i and W_j are bit-planes of unsigned codes. Do not optimise this file.
#pragma once

#include <cstddef>
#include <cstdint>

#include "anybit/core/bitops.hpp"
#include "anybit/core/error.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit::reference {

/// Dot product of row `ar` of `a` and row `wr` of `w`, computed plane pair by plane pair.
inline std::int64_t bitserial_dot(const bitplane_view& a, std::size_t ar, const bitplane_view& w,
                                  std::size_t wr) {
  if (a.cols() != w.cols()) {
    throw shape_error(detail::message("anybit: bitserial_dot of rows with ", a.cols(), " and ", w.cols(),
                                      " codes, expected equal lengths"));
  }
  if (ar >= a.rows() || wr >= w.rows()) {
    throw shape_error(detail::message("anybit: bitserial_dot rows (", ar, ", ", wr, ") out of range, expected < (",
                                      a.rows(), ", ", w.rows(), ")"));
  }
  const std::size_t words = ceil_div(a.cols(), bits_per_word);
  std::int64_t sum = 0;
  for (int i = 0; i < a.bits(); ++i) {
    for (int j = 0; j < w.bits(); ++j) {
      const std::uint64_t* ai = a.plane_row(i, ar);
      const std::uint64_t* wj = w.plane_row(j, wr);
      std::int64_t ones = 0;
      for (std::size_t k = 0; k < words; ++k) ones += popcount64(ai[k] & wj[k]);
      sum += ones << (i + j);
    }
  }
  return sum;
}

/// c[m * ldc + n] = bitserial_dot(a, m, w, n): the GEMM oracle, weights as plain bit-planes.
inline void gemm(const bitplane_view& a, const bitplane_view& w, std::int64_t* c, std::size_t ldc) {
  for (std::size_t m = 0; m < a.rows(); ++m) {
    for (std::size_t n = 0; n < w.rows(); ++n) c[m * ldc + n] = bitserial_dot(a, m, w, n);
  }
}

}  // namespace anybit::reference
