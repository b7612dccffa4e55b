// anybit/kernels/reference_float_gemm.hpp — the float GEMM oracle: never optimised.
//
//     C = alpha * op(A) * op(B) + beta * C        (row-major; op = identity or transpose)
//
// op(A) is M x K, op(B) is K x N, C is M x N. beta == 0 overwrites C (NaNs in C do not leak).
#pragma once

#include <cstddef>

namespace anybit {

/// Whether a float GEMM operand is read as stored or transposed.
enum class transpose : bool { no = false, yes = true };

namespace reference {

inline void float_gemm(transpose ta, transpose tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                       const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                       std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0;  // double: the oracle should not share the fast path's rounding
      for (std::size_t p = 0; p < k; ++p) {
        const float x = ta == transpose::no ? a[i * lda + p] : a[p * lda + i];
        const float y = tb == transpose::no ? b[p * ldb + j] : b[j * ldb + p];
        sum += static_cast<double>(x) * y;
      }
      float& out = c[i * ldc + j];
      out = alpha * static_cast<float>(sum) + (beta == 0.0f ? 0.0f : beta * out);
    }
  }
}

}  // namespace reference
}  // namespace anybit
