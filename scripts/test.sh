#!/usr/bin/env bash
# Builds and runs every test suite, and exits non-zero if any fails:
#   native       GCC Release, plus the find_package / add_subdirectory consumer projects
#   sanitizers   AddressSanitizer + UndefinedBehaviorSanitizer
#   aarch64      cross-compiled with g++-aarch64-linux-gnu, run under qemu-aarch64 (the suites
#                with ISA-specific code: core, tensor, kernels, gemm, quant)
#   fuzz         Clang + libFuzzer with both sanitizers: each reader of outside bytes (model and
#                parameter files, gzip, IDX, ANYBIT_PATHS) fuzzed for 30 s from seed files
# Compile-fail tests run in every suite. A test of a path this CPU cannot run is reported as
# skipped (say, AVX-512 on an AVX2-only machine), never as passed. Set ANYBIT_SUITES="native aarch64" to run a subset.
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
set -e
require_packages cmake ninja-build g++ libxsimd-dev libhwy-dev doctest-dev libbenchmark-dev \
  g++-aarch64-linux-gnu qemu-user dataset-fashion-mnist libcli11-dev nlohmann-json3-dev clang libclang-rt-14-dev
set +e

build_root="${ANYBIT_BUILD_DIR:-$ANYBIT_ROOT/build}"
suites=${ANYBIT_SUITES:-"native sanitizers aarch64 fuzz"}
common=(-G Ninja -DANYBIT_WERROR=ON)
sanitize="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
total_passed=0 total_failed=0 total_skipped=0 failed_suites=()

# run_suite NAME CMAKE-ARGS...: configure, build, ctest; adds to the totals; fails if anything did.
run_suite() {
  local name=$1 dir="$build_root/$1" log line passed failed count skipped
  shift
  echo
  echo "=== suite: $name ==="
  if ! cmake -S "$ANYBIT_ROOT" -B "$dir" "${common[@]}" "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; echo "suite $name: configure FAILED"; return 1
  fi
  if ! cmake --build "$dir" -j "$ANYBIT_JOBS" >"$dir.build.log" 2>&1; then
    tail -n 60 "$dir.build.log"; echo "suite $name: build FAILED"; return 1
  fi
  log="$dir.ctest.log"
  (cd "$dir" && ctest -j "$ANYBIT_JOBS" --output-on-failure) 2>&1 | tee "$log" | grep -vE '^ +Start '
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  [ -n "$line" ] || { echo "suite $name: ctest printed no summary"; return 1; }
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  count=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  skipped=$(grep -c '(Skipped)$' "$log")
  passed=$((count - failed - skipped))
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  echo "suite $name: $passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ] && [ "$count" -gt 0 ]
}

run_named_suite() {
  case "$1" in
    native) run_suite native -DCMAKE_BUILD_TYPE=Release ;;
    sanitizers) run_suite sanitizers -DCMAKE_BUILD_TYPE=Debug -DANYBIT_BUILD_BENCHMARKS=OFF \
      -DANYBIT_TEST_CONSUMERS=OFF "-DCMAKE_CXX_FLAGS=$sanitize" ;;
    # aarch64: the suites with ISA-specific code (NEON kernels and paths), not the model,
    # training and file layers above them, which native and sanitizers cover: cross builds
    # and qemu are slow, and CI has 40 minutes.
    aarch64) run_suite aarch64 -DCMAKE_BUILD_TYPE=Release -DANYBIT_BUILD_BENCHMARKS=OFF -DANYBIT_BUILD_EXAMPLES=OFF \
      "-DANYBIT_TEST_FOLDERS=core;tensor;kernels;gemm;quant" \
      --toolchain "$ANYBIT_ROOT/cmake/toolchains/aarch64-linux-gnu.cmake" \
      -Dxsimd_DIR=/usr/lib/x86_64-linux-gnu/cmake/xsimd -DANYBIT_HWY_HEADER_ONLY=ON ;;
    # fuzz: only the fuzzers (the doctest folders ran in the suites above).
    fuzz) run_suite fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DANYBIT_BUILD_BENCHMARKS=OFF \
      -DANYBIT_BUILD_EXAMPLES=OFF -DANYBIT_TEST_CONSUMERS=OFF -DANYBIT_TEST_FOLDERS=fuzz -DANYBIT_BUILD_FUZZERS=ON \
      "-DCMAKE_CXX_FLAGS=$sanitize" ;;
    *) echo "unknown suite '$1', expected native, sanitizers, aarch64 or fuzz"; return 1 ;;
  esac
}

mkdir -p "$build_root"
for s in $suites; do
  run_named_suite "$s" || failed_suites+=("$s")
done

echo
echo "=== summary ==="
echo "suites run: $suites"
[ ${#failed_suites[@]} -eq 0 ] || echo "suites FAILED: ${failed_suites[*]}"
echo "tests: $total_passed passed, $total_failed failed, $total_skipped skipped"
[ ${#failed_suites[@]} -eq 0 ]
