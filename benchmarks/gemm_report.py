#!/usr/bin/env python3
"""Issue-3 acceptance ratios from one gemm_bench run (all ratios within that run).

    gemm_bench --benchmark_out=run.json --benchmark_out_format=json [--benchmark_filter=...]
    python3 benchmarks/gemm_report.py run.json [--path avx2]     (the console output works too)

Prints a Markdown table: each line the ratio, the target, and whether it holds. A line whose
benchmarks are missing from the run says so instead of guessing.
"""
import argparse
import json
import re
import sys

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def load_console(text):
    """The console table, for runs made without --benchmark_out (one line per benchmark)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+([\d.]+) (ns|us|ms|s)\s+[\d.]+ (?:ns|us|ms|s)\s+\d+(.*)$", line)
        if not m:
            continue
        rest = m.group(4)
        g = re.search(r"GOPS=([\d.]+)([kMG]?)/s", rest)
        scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[g.group(2)] if g else 1
        label = rest.split()[-1] if rest.split() and "=" not in rest.split()[-1] else ""
        out[m.group(1)] = {"gops": float(g.group(1)) * scale if g else None,
                           "seconds": float(m.group(2)) * UNIT[m.group(3)], "label": label}
    return out


def load(path):
    with open(path) as f:
        text = f.read()
    try:
        runs = json.loads(text)["benchmarks"]
    except ValueError:
        return load_console(text)
    out = {}
    for b in runs:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"] if b.get("run_type") == "aggregate" else b["name"]
        out[name] = {"gops": b.get("GOPS"), "seconds": b["real_time"] * UNIT[b["time_unit"]], "label": b.get("label", "")}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--path", default="avx2", help="bit-serial path of the roofline and nested lines")
    args = ap.parse_args()
    r = load(args.json)
    p = args.path
    cube, mid, gemv = "1024x1024x1024", "64x1024x1024", "1x4096x4096"
    rows = []

    def gops(name):
        return r[name]["gops"] if name in r else None

    def line(what, num, den, target, note=""):
        a, b = gops(num), gops(den)
        if a is None or b is None:
            rows.append((what, "n/a", f">= {target}", "not in this run", note))
            return
        ratio = a / b
        rows.append((what, f"{ratio:.2f}x ({a:.1f} / {b:.1f} GOPS)", f">= {target}", "yes" if ratio >= target else "NO", note))

    roof = next((n for n in r if n.startswith(f"roofline/{p}/")), None)
    if roof:
        line(f"W1A1 {cube} vs {p} roofline", f"bitserial/{p}/W1A1/{cube}", roof, 0.85)
    onednn = {s: next((n for n in r if n.startswith("onednn_int8/") and n.endswith(s)), None) for s in (cube, gemv)}
    for wa, target in (("W1A1", 10.0), ("W2A2", 2.5)):
        line(f"auto {wa} {cube} vs OpenBLAS sgemm", f"auto/auto/{wa}/{cube}", f"openblas_sgemm/openblas/W32A32/{cube}", target)
    if onednn[cube]:
        line(f"auto W1A1 {cube} vs oneDNN int8 ({onednn[cube].split('/')[1]})", f"auto/auto/W1A1/{cube}", onednn[cube], 1.1)
        int8 = next((n for n in r if n.startswith("int8/") and n.endswith(f"W8A8/{cube}")), None)
        if int8:
            line(f"int8 W8A8 {cube} vs oneDNN int8 ({onednn[cube].split('/')[1]})", int8, onednn[cube], 0.8,
                 "target is against AVX512_CORE_VNNI")
    if onednn[gemv]:
        for wa, target in (("W1A8", 4.0), ("W2A8", 2.0), ("W4A8", 1.5)):
            line(f"GEMV auto {wa} vs oneDNN int8", f"auto/auto/{wa}/{gemv}", onednn[gemv], target)
    widths = (1, 2, 3, 4, 8)
    for shape in (cube, gemv):
        worst = None
        for w in widths:
            for a in widths:
                best = [gops(n) for n in r if n.endswith(f"/W{w}A{a}/{shape}") and n.split("/")[0] in ("bitserial", "int8")]
                best = [g for g in best if g]
                auto = gops(f"auto/auto/W{w}A{a}/{shape}")
                if best and auto:
                    ratio = auto / max(best)
                    if worst is None or ratio < worst[0]:
                        worst = (ratio, f"W{w}A{a}")
        if worst:
            rows.append((f"auto vs best of bit-serial and int8, {shape}, worst pair", f"{worst[0]:.2f}x at {worst[1]}",
                         ">= 0.90", "yes" if worst[0] >= 0.9 else "NO", "25 pairs in {1,2,3,4,8}^2"))
    for w in (1, 2, 4):
        for shape in (cube, mid, gemv):
            line(f"nested W{w}A{w} {shape} vs native", f"nested/{p}/W{w}A{w}/{shape}", f"bitserial/{p}/W{w}A{w}/{shape}", 0.9)
    line(f"2 threads vs 1, W1A1 {cube}", f"bitserial/{p}/W1A1/{cube}/threads:2/real_time", f"bitserial/{p}/W1A1/{cube}", 1.7)
    for a in widths:
        pk, mm = f"pack/{p}/A{a}/64x1024", f"auto/auto/W{a}A{a}/{mid}"
        if pk in r and mm in r:
            share = r[pk]["seconds"] / r[mm]["seconds"]
            rows.append((f"packing A{a} / GEMM W{a}A{a} {mid}", f"{100 * share:.1f} %", "<= 3 %", "yes" if share <= 0.03 else "NO", ""))
    print("| measure | measured | target | holds | note |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    sys.exit(main())
