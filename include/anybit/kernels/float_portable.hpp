// anybit/kernels/float_portable.hpp — float GEMM micro-kernel at the translation unit's ISA.
//
// Written once with xsimd::batch<float> (NEON on aarch64, SSE2 on plain x86-64, wider if the
// translation unit is built for more); without xsimd, a 4-lane struct the compiler vectorises.
// Always compiled: the float kernel for every CPU without a hand-written one. A tile is mr rows
// by nr_vectors vectors of accumulators; layouts: float_pack.hpp.
#pragma once

#include <cstddef>

#include "anybit/core/platform.hpp"
#include "anybit/kernels/float_pack.hpp"

#if defined(ANYBIT_HAS_XSIMD) && ANYBIT_HAS_XSIMD
#include <xsimd/xsimd.hpp>
#endif

// The tile is arrays of vectors; they stay in registers only when every loop over them is fully
// unrolled, which GCC does not do at -O2 unless asked.
#if defined(__GNUC__)
#define ANYBIT_DETAIL_UNROLL _Pragma("GCC unroll 8")
#else
#define ANYBIT_DETAIL_UNROLL
#endif

namespace anybit::kernels::float_portable {

// The kernel is a template on the vector ISA, so translation units built for different ISAs
// instantiate differently named kernels instead of sharing one name with different bodies.
#if defined(ANYBIT_HAS_XSIMD) && ANYBIT_HAS_XSIMD
using default_arch = xsimd::default_arch;

template <class Arch>
struct simd {
  using vec = xsimd::batch<float, Arch>;
  static vec load(const float* p) { return vec::load_aligned(p); }
  static vec load_unaligned(const float* p) { return vec::load_unaligned(p); }
  static void store_unaligned(float* p, vec v) { v.store_unaligned(p); }
  static vec fma(vec x, vec y, vec z) { return xsimd::fma(x, y, z); }
};
#else
struct plain_arch {};  // no xsimd: plain loops the optimiser may vectorise
using default_arch = plain_arch;

template <class Arch>
struct simd {
  struct vec {  // just enough of a vector for the kernel
    static constexpr std::size_t size = 4;
    float v[size];
    vec() = default;
    vec(float x) {  // implicit, like a broadcasting xsimd::batch
      for (float& e : v) e = x;
    }
    friend vec operator*(const vec& x, const vec& y) {
      vec r;
      for (std::size_t i = 0; i < size; ++i) r.v[i] = x.v[i] * y.v[i];
      return r;
    }
  };
  static vec load(const float* p) {
    vec r;
    for (std::size_t i = 0; i < vec::size; ++i) r.v[i] = p[i];
    return r;
  }
  static vec load_unaligned(const float* p) { return load(p); }
  static void store_unaligned(float* p, vec x) {
    for (std::size_t i = 0; i < vec::size; ++i) p[i] = x.v[i];
  }
  static vec fma(vec x, vec y, vec z) {
    vec r;
    for (std::size_t i = 0; i < vec::size; ++i) r.v[i] = x.v[i] * y.v[i] + z.v[i];
    return r;
  }
};
#endif

/// The portable kernel for vector ISA Arch: register tile, cache blocks, and the generic
/// packing of float_pack.hpp.
template <class Arch>
struct micro_kernel_for {
  using ops = simd<Arch>;
  using vec = typename ops::vec;

  // The register tile: accumulators + B vectors + one broadcast must fit the register file.
#if ANYBIT_ARCH_AARCH64
  static constexpr int mr = 6;  // NEON has 32: 18 accumulators, 3 of B, 2 of A (8 x 12 spills)
  static constexpr int nr_vectors = 3;
#else
  static constexpr int mr = 4;  // SSE2 has 16: 8 accumulators, 2 of B, 1 of A, temporaries
  static constexpr int nr_vectors = 2;
#endif
  static constexpr int nr = nr_vectors * static_cast<int>(vec::size);

  // Cache blocks: an nr-column panel of B over kc stays in L1, the mc x kc block of A in L2.
  static constexpr std::size_t kc = 256;
  static constexpr std::size_t mc = 128;
  static constexpr std::size_t nc = 3072;

  static void pack_a(bool transposed, const float* a, std::size_t lda, std::size_t rows, std::size_t depth,
                     float* out) {
    float_pack::pack_a<mr>(transposed, a, lda, rows, depth, out);
  }
  static void pack_b(bool transposed, const float* b, std::size_t ldb, std::size_t depth, std::size_t cols,
                     float* out) {
    float_pack::pack_b<nr>(transposed, b, ldb, depth, cols, out);
  }

  /// c[i * ldc + j] = alpha * sum_p a[p * mr + i] * b[p * nr + j] + beta * c[i * ldc + j] for
  /// i < rows (<= mr), j < nr; b is aligned to the vector size (packed panels are). beta == 0
  /// does not read c.
  template <int rows>
  static void tile(std::size_t depth, const float* a, const float* b, float alpha, float beta, float* c,
                   std::size_t ldc) {
    static_assert(rows >= 1 && rows <= mr, "a tile has 1..mr rows");
    constexpr std::size_t w = vec::size;
    vec acc[static_cast<std::size_t>(rows)][nr_vectors];
    ANYBIT_DETAIL_UNROLL
    for (int i = 0; i < rows; ++i) {
      ANYBIT_DETAIL_UNROLL
      for (int v = 0; v < nr_vectors; ++v) acc[i][v] = vec(0.0f);
    }
    for (std::size_t p = 0; p < depth; ++p, a += mr, b += nr) {
      vec bv[nr_vectors];
      ANYBIT_DETAIL_UNROLL
      for (int v = 0; v < nr_vectors; ++v) bv[v] = ops::load(b + static_cast<std::size_t>(v) * w);
      ANYBIT_DETAIL_UNROLL
      for (int i = 0; i < rows; ++i) {
        const vec x(a[i]);
        ANYBIT_DETAIL_UNROLL
        for (int v = 0; v < nr_vectors; ++v) acc[i][v] = ops::fma(x, bv[v], acc[i][v]);
      }
    }
    const vec va(alpha), vb(beta);
    const bool read_c = beta != 0.0f;
    ANYBIT_DETAIL_UNROLL
    for (int i = 0; i < rows; ++i) {
      float* row = c + static_cast<std::size_t>(i) * ldc;
      ANYBIT_DETAIL_UNROLL
      for (int v = 0; v < nr_vectors; ++v) {
        float* out = row + static_cast<std::size_t>(v) * w;
        const vec scaled = va * acc[i][v];
        ops::store_unaligned(out, read_c ? ops::fma(vb, ops::load_unaligned(out), scaled) : scaled);
      }
    }
  }
};

/// The portable kernel at this translation unit's ISA.
using micro_kernel = micro_kernel_for<default_arch>;

}  // namespace anybit::kernels::float_portable

#undef ANYBIT_DETAIL_UNROLL
