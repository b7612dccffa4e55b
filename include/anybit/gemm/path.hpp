// anybit/gemm/path.hpp — the implementation paths of gemm, as a bit mask.
//
// A path runs only if it is compiled into this build, the CPU can execute it, and the user
// allows it: through gemm_context::allowed or the ANYBIT_PATHS environment variable, a list
// of names such as "scalar,avx2" (tests and benchmarks use it to force each path).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>

#include "anybit/core/cpu_features.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/platform.hpp"

namespace anybit {

enum class path : unsigned {
  reference = 1u << 0,  // the oracle: plain loops, never optimised
  scalar = 1u << 1,     // portable popcount kernel
  avx2 = 1u << 2,
  avx512 = 1u << 3,     // AVX-512 with VPOPCNTDQ
  neon = 1u << 4,
  avx2_int8 = 1u << 5,  // codes as bytes, vpmaddubsw: wins once W * A is large
  neon_int8 = 1u << 6,  // codes as bytes, vmull_u8 + vpadal
  avx512bw = 1u << 7,   // AVX-512 without VPOPCNTDQ: the vpshufb nibble lookup on zmm
  avx512_int8 = 1u << 8,  // codes as bytes, AVX-512 VNNI vpdpbusd: no int16 stage
  avx512_lut = 1u << 9,   // codes as bytes in per-row tables, weight nibbles look them up (vpshufb): GEMV
  avx512_vbmi_lut = 1u << 10,  // the same tables, looked up by vpermb and summed by vpdpbusd (VBMI, VNNI)
  neon_dot = 1u << 11,         // codes as bytes, the ARMv8.2 dot product (udot)
};

using path_mask = unsigned;
inline constexpr path_mask all_paths = 0xFFFu;
inline constexpr path all_path_values[] = {path::reference, path::scalar,    path::avx2,      path::avx512,
                                           path::neon,      path::avx2_int8, path::neon_int8, path::avx512bw,
                                           path::avx512_int8, path::avx512_lut, path::avx512_vbmi_lut, path::neon_dot};
inline constexpr path bitserial_path_values[] = {path::reference, path::scalar, path::avx2,
                                                 path::avx512,    path::neon,   path::avx512bw};

constexpr path_mask mask_of(path p) noexcept { return static_cast<path_mask>(p); }

/// The int8 paths (codes as bytes, multiplied); with the lookup paths, the paths that read
/// activations as bytes. The others are bit-serial.
inline constexpr path_mask int8_paths =
    mask_of(path::avx2_int8) | mask_of(path::avx512_int8) | mask_of(path::neon_int8) | mask_of(path::neon_dot);
inline constexpr path_mask lut_paths = mask_of(path::avx512_lut) | mask_of(path::avx512_vbmi_lut);
inline constexpr path_mask byte_paths = int8_paths | lut_paths;

inline const char* path_name(path p) noexcept {
  switch (p) {
    case path::reference: return "reference";
    case path::scalar: return "scalar";
    case path::avx2: return "avx2";
    case path::avx512: return "avx512";
    case path::neon: return "neon";
    case path::avx2_int8: return "avx2_int8";
    case path::neon_int8: return "neon_int8";
    case path::avx512bw: return "avx512bw";
    case path::avx512_int8: return "avx512_int8";
    case path::avx512_lut: return "avx512_lut";
    case path::avx512_vbmi_lut: return "avx512_vbmi_lut";
    case path::neon_dot: return "neon_dot";
  }
  return "unknown";
}

/// Paths whose code is in this build.
constexpr path_mask compiled_paths() noexcept {
  path_mask m = mask_of(path::reference) | mask_of(path::scalar);
#if ANYBIT_X86_KERNELS
  m |= mask_of(path::avx2) | mask_of(path::avx512) | mask_of(path::avx512bw) | mask_of(path::avx2_int8) |
       mask_of(path::avx512_int8) | lut_paths;
#endif
#if ANYBIT_ARCH_AARCH64
  m |= mask_of(path::neon) | mask_of(path::neon_int8);
#endif
#if ANYBIT_NEON_DOT_KERNEL
  m |= mask_of(path::neon_dot);
#endif
  return m;
}

/// Paths this build has and this CPU can run.
inline path_mask supported_paths() {
  path_mask m = mask_of(path::reference) | mask_of(path::scalar);
  if (cpu().avx2) m |= mask_of(path::avx2) | mask_of(path::avx2_int8);
  if (cpu().avx512_vpopcntdq) m |= mask_of(path::avx512);
  if (cpu().avx512bw) m |= mask_of(path::avx512bw);
  // avx2 too: the int8 driver's byte work around the kernel (unpacking, row sums) uses AVX2.
  if (cpu().avx512_vnni && cpu().avx2) m |= mask_of(path::avx512_int8);  // with AVX-512 F, BW, VL
  if (cpu().avx512bw && cpu().avx2) m |= mask_of(path::avx512_lut);
  if (cpu().avx512_vbmi && cpu().avx512_vnni && cpu().avx2) m |= mask_of(path::avx512_vbmi_lut);  // with AVX-512 F, BW, VL
  if (cpu().neon) m |= mask_of(path::neon) | mask_of(path::neon_int8);
  if (cpu().neon_dotprod) m |= mask_of(path::neon_dot);
  return m & compiled_paths();
}

/// Parses a comma-separated list of path names ("all" for every path).
inline path_mask parse_paths(const std::string& text) {
  path_mask m = 0;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string name = text.substr(begin, end - begin);
    bool known = name == "all";
    if (known) m |= all_paths;
    for (path p : all_path_values) {
      if (name == path_name(p)) {
        m |= mask_of(p);
        known = true;
      }
    }
    if (!known) {
      std::string names;
      for (path p : all_path_values) names += std::string(path_name(p)) + ", ";
      throw error(detail::message("anybit: unknown gemm path '", name, "' in '", text,
                                  "', expected a comma-separated list of ", names, "all"));
    }
    begin = end + 1;
  }
  return m;
}

/// The mask ANYBIT_PATHS allows (every path when it is unset or empty).
inline path_mask environment_paths() {
  const char* text = std::getenv("ANYBIT_PATHS");
  return text == nullptr || *text == '\0' ? all_paths : parse_paths(text);
}

}  // namespace anybit
