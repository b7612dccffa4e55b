// anybit/core/platform.hpp — which architecture this translation unit is compiled for.
// Macros are always defined, as 0 or 1, so that #if on them is checked by -Wundef.
#pragma once

#if defined(__x86_64__) || defined(_M_X64)
#define ANYBIT_ARCH_X86_64 1
#else
#define ANYBIT_ARCH_X86_64 0
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
#define ANYBIT_ARCH_AARCH64 1
#else
#define ANYBIT_ARCH_AARCH64 0
#endif

// GCC and Clang take per-function target attributes, which is how one header-only build holds
// AVX2 and AVX-512 code next to baseline code.
#if ANYBIT_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
#define ANYBIT_X86_KERNELS 1
#else
#define ANYBIT_X86_KERNELS 0
#endif

// The NEON dot-product kernel (udot) beside baseline NEON: GCC declares its intrinsics for a
// function target (armv8.2-a+dotprod); Clang 14 only when the whole build targets dotprod.
#if ANYBIT_ARCH_AARCH64 && ((defined(__GNUC__) && !defined(__clang__)) || defined(__ARM_FEATURE_DOTPROD))
#define ANYBIT_NEON_DOT_KERNEL 1
#else
#define ANYBIT_NEON_DOT_KERNEL 0
#endif

// Fully unrolls the loop that follows, whose trip count is a compile-time constant (tile rows,
// weight panels, accumulators). GCC at -O2 (CMake's RelWithDebInfo) keeps such loops and their
// arrays of vectors in memory: the bit-serial tiles ran 1.5-2.9x slower than at -O3 without it.
#if defined(__clang__)
#define ANYBIT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define ANYBIT_UNROLL _Pragma("GCC unroll 64")
#else
#define ANYBIT_UNROLL
#endif
