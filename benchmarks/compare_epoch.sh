#!/usr/bin/env bash
# Times one training epoch of anybit-train and of PyTorch CPU (benchmarks/torch_epoch.py) side by
# side: same model, batch size, thread count, optimizer and data. Runs alternate between the two
# so that a change in machine load hits both. Prints every run, the medians and the ratio
# anybit / torch (below 1 means anybit is faster), with the load average after each run.
# torch also gets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS = --threads (Debian's torch runs its
# linear layers on OpenBLAS, which need not follow torch.set_num_threads) and
# OMP_WAIT_POLICY=PASSIVE: on a shared 2-vCPU guest, spinning OpenMP workers made torch's
# 2-thread MLP epoch 25x slower (43-52 s instead of 1.8 s), which would flatter anybit.
#
#   benchmarks/compare_epoch.sh --model cnn --threads 2 --runs 3 [--batch 128] [--build DIR]
#
# Needs anybit-train built (default: build/native, as scripts/test.sh builds it; else set
# ANYBIT_BUILD or pass --build) and Debian's python3-torch (installed with apt-get as root).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
model=mlp threads=1 batch=128 runs=3 build="${ANYBIT_BUILD:-$root/build/native}"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    *) echo "compare_epoch.sh: unknown argument '$1' (expected --model, --threads, --batch, --runs, --build)" >&2; exit 2 ;;
  esac
done

trainer="$build/examples/anybit-train"
[ -x "$trainer" ] || { echo "compare_epoch.sh: $trainer not found; build the anybit-train target first" >&2; exit 1; }
# Debian's torch lives in the system interpreter, not in a pyenv or venv one.
python=/usr/bin/python3
if ! "$python" -c "import torch" 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
  else
    echo "compare_epoch.sh: PyTorch missing; install it with: sudo apt-get install python3-torch" >&2
    exit 1
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "model $model, batch $batch, threads $threads, $runs runs each; load average before: $(load)"
: >"$tmp/anybit" && : >"$tmp/torch"
for run in $(seq "$runs"); do
  "$trainer" --model "$model" --epochs 1 --batch "$batch" --threads "$threads" --quiet --json "$tmp/a.json"
  a=$("$python" -c "import json, sys; print(json.load(open(sys.argv[1]))['epoch_seconds'][0])" "$tmp/a.json")
  t=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE "$python" "$root/benchmarks/torch_epoch.py" --model "$model" --threads "$threads" \
        --batch "$batch" 2>/dev/null | awk '/^seconds/ { print $2 }')
  echo "$a" >>"$tmp/anybit"
  echo "$t" >>"$tmp/torch"
  printf 'run %d: anybit %.3f s, torch %.3f s (load %s)\n' "$run" "$a" "$t" "$(load)"
done
a=$(median <"$tmp/anybit")
t=$(median <"$tmp/torch")
printf 'median epoch: anybit %.3f s, torch %.3f s, ratio anybit/torch %.3f\n' "$a" "$t" "$(awk -v a="$a" -v t="$t" 'BEGIN { print a / t }')"
