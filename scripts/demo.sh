#!/usr/bin/env bash
# Configures and builds (Release), runs the short bit-serial checks (anybit-demo), then anybit's
# main job: trains the reference CNN on Fashion-MNIST with anybit-train and prints the result.
#
# By default the CNN sees a 15000-image subset for 3 epochs (about half a minute of training on
# one core) and is tested on 2000 images; ANYBIT_DEMO_ARGS replaces those settings, e.g.
#   ANYBIT_DEMO_ARGS="--epochs 10" scripts/demo.sh        # the full run: ~91-92 % test accuracy
# Further arguments are passed to anybit-train (e.g. --threads 2, --json result.json).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_packages cmake ninja-build g++ libxsimd-dev libhwy-dev libcli11-dev nlohmann-json3-dev dataset-fashion-mnist

build="${ANYBIT_BUILD_DIR:-$ANYBIT_ROOT/build}/demo"
cmake -S "$ANYBIT_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DANYBIT_BUILD_TESTS=OFF -DANYBIT_BUILD_BENCHMARKS=OFF -DANYBIT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target anybit-demo anybit-train -j "$ANYBIT_JOBS" >/dev/null

echo "== bit-serial checks (anybit-demo) =="
"$build/examples/anybit-demo"

echo
echo "== main job: train the CNN on Fashion-MNIST (anybit-train) =="
read -r -a demo_args <<<"${ANYBIT_DEMO_ARGS:---epochs 3 --train-limit 15000 --test-limit 2000}"
"$build/examples/anybit-train" --model cnn "${demo_args[@]}" "$@"
