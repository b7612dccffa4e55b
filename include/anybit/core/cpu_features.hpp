// anybit/core/cpu_features.hpp — what the CPU running this program can execute.
//
// Read once (CPUID and XGETBV on x86-64, getauxval on Linux/aarch64) and cached. An ISA counts
// only if the operating system also saves its registers (XGETBV), as a hypervisor may hide them.
#pragma once

#include "anybit/core/platform.hpp"

#if ANYBIT_X86_KERNELS
#include <cpuid.h>
#endif
#if ANYBIT_ARCH_AARCH64 && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace anybit {

struct cpu_features {
  bool popcnt = false;            // the scalar POPCNT instruction
  bool avx2 = false;
  bool fma = false;               // FMA3 (float GEMM, activation quantization)
  bool avx512bw = false;          // AVX-512 F, BW and VL
  bool avx512_vpopcntdq = false;  // with AVX-512 F, BW and VL
  bool avx512_vnni = false;
  bool avx512_vbmi = false;       // vpermb, vpermi2b (with AVX-512 F, BW and VL)
  bool avx_vnni = false;
  bool neon = false;
  bool neon_dotprod = false;
  bool amd = false;  // an AMD x86 CPU: the gemm cost model's int8 rate differs (cost_model.hpp)
};

namespace detail {

#if ANYBIT_X86_KERNELS
inline unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

inline cpu_features detect_cpu_features() {
  cpu_features f;
#if ANYBIT_X86_KERNELS
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
  f.amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "AuthenticAMD"
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.popcnt = (c >> 23) & 1u;
  const bool osxsave = (c >> 27) & 1u;
  if (!osxsave) return f;
  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  f.fma = ymm_state && ((c >> 12) & 1u);
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx512 = zmm_state && ((b >> 16) & 1u) && ((b >> 30) & 1u) && ((b >> 31) & 1u);  // F, BW, VL
  f.avx2 = ymm_state && ((b >> 5) & 1u);
  f.avx512bw = avx512;
  f.avx512_vpopcntdq = avx512 && ((c >> 14) & 1u);
  f.avx512_vnni = avx512 && ((c >> 11) & 1u);
  f.avx512_vbmi = avx512 && ((c >> 1) & 1u);
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx_vnni = f.avx2 && ((a1 >> 4) & 1u);
#elif ANYBIT_ARCH_AARCH64
  f.neon = true;  // Advanced SIMD is part of the aarch64 baseline
#if defined(__linux__)
  f.neon_dotprod = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
#endif
#endif
  return f;
}

}  // namespace detail

/// The features of the running CPU, detected on first use.
inline const cpu_features& cpu() {
  static const cpu_features features = detail::detect_cpu_features();
  return features;
}

}  // namespace anybit
