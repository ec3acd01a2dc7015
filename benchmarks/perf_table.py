#!/usr/bin/env python3
"""Renders benchmarks/perf.sh's runs.jsonl as perf.md; exits 3 when a fresh
PyTorch run disagrees with the rounds' median by more than 15% (the ratio is
then rejected), 0 otherwise.

    perf_table.py RUNS THREADS CPU LOAD REPEATS
"""
import json
import os
import statistics
import sys

runs = [json.loads(l) for l in open(sys.argv[1])]
threads, cpu, load, repeats = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
models = []
for r in runs:
    if r.get("phase") == "round" and r["model"] not in models:
        models.append(r["model"])


def pick(model, phase, go):
    return [r for r in runs if r.get("model") == model and r.get("phase") == phase and (r["impl"] == "go") == go]


def med(rs, key):
    v = [r[key] for r in rs if key in r]
    return statistics.median(v) if v else float("nan")


def spread(rs, key):
    v = [r[key] for r in rs if key in r]
    return f"{min(v):.2f}–{max(v):.2f}" if v else ""


rejected = []
print(f"Machine: {threads} cores (nproc), {cpu}; load average {load} at the start. "
      f"Medians (and min–max) over {repeats} alternating rounds of `benchmarks/perf.sh {repeats}`; "
      "PyTorch in the fastest setting found by calibration (threads/OMP_WAIT_POLICY/layout), "
      "then alone once more (fresh)."
      + (f" OpenBLAS took this CPU for a generic one ({os.environ['PERF_TORCH_CORE_FIRST']}): spred loaded it "
         f"again with {os.environ['PERF_TORCH_CORE']} kernels, and PyTorch, whose dense layers use the same "
         f"OpenBLAS, ran with OPENBLAS_CORETYPE={os.environ['PERF_TORCH_CORE']}."
         if os.environ.get("PERF_TORCH_CORE") else "")
      + "\n")
print("| model | Go s/epoch | Go convolutions | PyTorch s/epoch | Go/PyTorch | PyTorch fresh | PyTorch setting | Go, own convolutions s/epoch | pure Go s/epoch | Go peak RSS | PyTorch peak RSS | Go allocs/step | epoch GFLOP | Go GFLOP/s |")
print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for m in models:
    g, t = pick(m, "round", True), pick(m, "round", False)
    fresh = pick(m, "fresh", False)
    gonum = pick(m, "gonum", True)
    own = pick(m, "goconv", True)
    conv = g[0].get("conv", "go") if g else ""
    owns = f"{med(own, 'seconds_per_epoch'):.2f} ({spread(own, 'seconds_per_epoch')})" if own else ""
    gs, ts = med(g, "seconds_per_epoch"), med(t, "seconds_per_epoch")
    fs = med(fresh, "seconds_per_epoch")
    ok = abs(fs / ts - 1) <= 0.15
    if not ok:
        rejected.append(f"{m}: fresh PyTorch {fs:.2f} s/epoch against the rounds' {ts:.2f}")
    fl = med(g, "epoch_gflop")
    ratio = f"**{gs / ts:.2f}**" if ok else f"~~{gs / ts:.2f}~~ (rejected)"
    setting = t[0].get("setting", "") if t else ""
    print(f"| {m} | {gs:.2f} ({spread(g, 'seconds_per_epoch')}) | {conv} | {ts:.2f} ({spread(t, 'seconds_per_epoch')}) | {ratio} | "
          f"{fs:.2f} | {setting} | {owns} | {med(gonum, 'seconds_per_epoch'):.2f} | {med(g, 'peak_rss_mb'):.0f} MB | "
          f"{med(t, 'peak_rss_mb'):.0f} MB | {med(g, 'allocs_per_step'):.0f} | {fl:.0f} | {fl / gs:.1f} |")
calib = [r for r in runs if r.get("phase") == "calibrate"]
if calib:
    print("\nPyTorch calibration (seconds per step of a short run, per setting):\n")
    print("| model | " + " | ".join(sorted({r["setting"] for r in calib})) + " |")
    settings = sorted({r["setting"] for r in calib})
    print("|---|" + "---:|" * len(settings))
    for m in models:
        cells = []
        for s in settings:
            v = [r["seconds_per_step"] for r in calib if r["model"] == m and r["setting"] == s]
            cells.append(f"{v[0]:.3f}" if v else "")
        print(f"| {m} | " + " | ".join(cells) + " |")
gm = [r for r in runs if r.get("phase") == "gemm"]
g = next((r for r in gm if r["impl"] == "go"), None)
t = next((r for r in gm if r["impl"] != "go"), None)
if g and t:
    print(f"\nPeak float32 matrix product ({g['model']}): Go ({g['blas']}) {g['gflop_per_s']:.0f} GFLOP/s, "
          f"PyTorch {t['gflop_per_s']:.0f} GFLOP/s.")
if rejected:
    print("\n**REJECTED** (do not commit these ratios): " + "; ".join(rejected))
    sys.exit(3)
