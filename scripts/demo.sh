#!/usr/bin/env bash
# Configures, builds (Release) and runs anybit's main job: anybit-demo.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_packages cmake ninja-build g++ libxsimd-dev libhwy-dev

build="${ANYBIT_BUILD_DIR:-$ANYBIT_ROOT/build}/demo"
cmake -S "$ANYBIT_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DANYBIT_BUILD_TESTS=OFF -DANYBIT_BUILD_BENCHMARKS=OFF -DANYBIT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target anybit-demo -j "$ANYBIT_JOBS" >/dev/null
"$build/examples/anybit-demo" "$@"
