// Path masks: parsing ANYBIT_PATHS-style lists, and choosing among allowed, supported paths.
#include <cstdlib>
#include <string>

#include "anybit/gemm/bitserial_gemm.hpp"
#include "support/test_support.hpp"

using namespace anybit;

TEST_CASE("path lists parse into masks and unknown names are rejected by name") {
  CHECK(parse_paths("scalar") == mask_of(path::scalar));
  CHECK(parse_paths("avx2,neon") == (mask_of(path::avx2) | mask_of(path::neon)));
  CHECK(parse_paths("all") == all_paths);
  CHECK(parse_paths("avx512_int8,avx2_int8") == (mask_of(path::avx512_int8) | mask_of(path::avx2_int8)));
  CHECK(std::string(path_name(path::avx512_int8)) == "avx512_int8");
  CHECK(parse_paths("avx512_lut,avx512_vbmi_lut") == lut_paths);
  path_mask every = 0;
  for (path p : all_path_values) {
    CHECK_MESSAGE(parse_paths(path_name(p)) == mask_of(p), path_name(p));  // names round-trip
    every |= mask_of(p);
  }
  CHECK(every == all_paths);
  const std::string msg = test::thrown_message<error>([] { (void)parse_paths("scalar,avx3"); });
  CHECK(msg.find("'avx3'") != std::string::npos);
  CHECK_THROWS_AS((void)parse_paths(""), error);
}

TEST_CASE("the chosen path is allowed and supported and the fastest such kernel wins") {
  gemm_context ctx;
  const path best = choose_bitserial_path(ctx);
  CHECK((supported_paths() & mask_of(best)) != 0);
  CHECK(best != path::reference);  // some kernel beats the oracle everywhere
  ctx.allowed = mask_of(path::scalar);
  CHECK(choose_bitserial_path(ctx) == path::scalar);
  ctx.allowed = mask_of(path::reference);
  CHECK(choose_bitserial_path(ctx) == path::reference);
  ctx.allowed = 0;
  CHECK_THROWS_AS((void)choose_bitserial_path(ctx), error);
}

TEST_CASE("this build compiles the kernels of its architecture") {
  CHECK((compiled_paths() & mask_of(path::scalar)) != 0);
#if ANYBIT_ARCH_AARCH64
  CHECK((supported_paths() & mask_of(path::neon)) != 0);  // baseline on aarch64: must run under qemu
  CHECK(((compiled_paths() & mask_of(path::neon_dot)) != 0) == (ANYBIT_NEON_DOT_KERNEL == 1));
  CHECK(((supported_paths() & mask_of(path::neon_dot)) != 0) == (ANYBIT_NEON_DOT_KERNEL && cpu().neon_dotprod));
#endif
#if ANYBIT_X86_KERNELS
  CHECK((compiled_paths() & mask_of(path::avx2)) != 0);
  CHECK((compiled_paths() & mask_of(path::avx512)) != 0);
  CHECK((compiled_paths() & mask_of(path::avx512bw)) != 0);
  CHECK((compiled_paths() & mask_of(path::avx2_int8)) != 0);
  CHECK((compiled_paths() & mask_of(path::avx512_int8)) != 0);
  // avx512_int8 runs exactly where the CPU has AVX-512 F, BW, VL and VNNI (and AVX2).
  CHECK(((supported_paths() & mask_of(path::avx512_int8)) != 0) == (cpu().avx512_vnni && cpu().avx2));
  CHECK((compiled_paths() & lut_paths) == lut_paths);
  // avx512_vbmi_lut needs VBMI (vpermb) and VNNI (vpdpbusd) beside AVX-512 F, BW, VL and AVX2.
  CHECK(((supported_paths() & mask_of(path::avx512_vbmi_lut)) != 0) ==
        (cpu().avx512_vbmi && cpu().avx512_vnni && cpu().avx2));
#endif
  MESSAGE("supported paths mask: ", supported_paths());
}

TEST_CASE("from_environment reads ANYBIT_PATHS and ANYBIT_NUM_THREADS and rejects bad values") {
  ::setenv("ANYBIT_PATHS", "scalar,reference", 1);
  ::setenv("ANYBIT_NUM_THREADS", "2", 1);
  gemm_context ctx = gemm_context::from_environment();
  CHECK(ctx.allowed == (mask_of(path::scalar) | mask_of(path::reference)));
  CHECK(ctx.threads == 2);
  CHECK(choose_bitserial_path(ctx) == path::scalar);
  ::setenv("ANYBIT_NUM_THREADS", "0", 1);
  const std::string msg = test::thrown_message<error>([] { (void)gemm_context::from_environment(); });
  CHECK(msg.find("ANYBIT_NUM_THREADS = '0'") != std::string::npos);
  ::setenv("ANYBIT_NUM_THREADS", "3x", 1);
  CHECK_THROWS_AS((void)gemm_context::from_environment(), error);
  ::unsetenv("ANYBIT_NUM_THREADS");
  ::unsetenv("ANYBIT_PATHS");
  ctx = gemm_context::from_environment();
  CHECK(ctx.allowed == all_paths);
  CHECK(ctx.threads == 1);
}
