#!/usr/bin/env bash
# Configures and builds (Release), runs the short bit-serial checks (anybit-demo), then anybit's
# main job, the DDQ flow end to end: anybit-train trains the reference CNN on Fashion-MNIST with
# DDQ (bit-widths learned under a 3-bit average weight budget, 4-bit activations), exports the
# integer model to a file; anybit-infer reloads it and runs integer inference; a summary follows.
#
# By default the CNN sees a 15000-image subset for 3 epochs and is tested on 2000 images;
# ANYBIT_DEMO_ARGS replaces those settings, e.g.
#   ANYBIT_DEMO_ARGS="--epochs 10" scripts/demo.sh        # the full run
# Further arguments are passed to anybit-train (e.g. --threads 2).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_packages cmake ninja-build g++ libxsimd-dev libhwy-dev libcli11-dev nlohmann-json3-dev dataset-fashion-mnist

build="${ANYBIT_BUILD_DIR:-$ANYBIT_ROOT/build}/demo"
cmake -S "$ANYBIT_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DANYBIT_BUILD_TESTS=OFF -DANYBIT_BUILD_BENCHMARKS=OFF -DANYBIT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target anybit-demo anybit-train anybit-infer -j "$ANYBIT_JOBS" >/dev/null

echo "== bit-serial checks (anybit-demo) =="
"$build/examples/anybit-demo"

echo
echo "== main job: DDQ on Fashion-MNIST: train, export (anybit-train) =="
out="$build/demo-output"
mkdir -p "$out"
read -r -a demo_args <<<"${ANYBIT_DEMO_ARGS:---epochs 3 --train-limit 15000 --test-limit 2000}"
"$build/examples/anybit-train" --model cnn --method ddq --budget 3 --abits 4 --edge-bits 0 \
  --export "$out/ddq.anybit" --json "$out/ddq.json" "${demo_args[@]}" "$@"

echo
echo "== reload and run the integer model (anybit-infer) =="
"$build/examples/anybit-infer" --model "$out/ddq.anybit" --limit 2000

echo
echo "== summary =="
python3 - "$out/ddq.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_ms"]
print(f"bits per layer (weights/activations): {' '.join(f'{w}/{a}' for w, a in zip(r['wbits'], r['abits']))}"
      f"  (average weight bits {r['avg_wbits']:.2f}, budget {r.get('budget', '-')})")
print(f"fake-quant test accuracy {100 * r['test_accuracy']:.2f} %, integer model {100 * r['int_accuracy']:.2f} %,"
      f" agreement {100 * r['agreement']:.2f} %")
print(f"integer model {r['model_bytes']} bytes, {r['bitops']:.3g} BitOps per image;"
      f" latency batch 1: integer {lat['integer_batch1']:.3f} ms, float {lat['float_batch1']:.3f} ms")
PY
