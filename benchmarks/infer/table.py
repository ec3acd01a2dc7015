#!/usr/bin/env python3
"""Builds benchmarks/results/infer/infer.md from benchmarks/infer.sh's runs.jsonl.

    table.py RUNS THREADS CPU LOAD REPEATS
"""
import json
import re
import statistics
import sys
from collections import defaultdict

# A ratio is rejected when its reference median is further than this from
# the reference's fresh run alone.
FRESH_LIMIT = 0.15


def main():
    runs, threads, cpu, load, repeats = sys.argv[1:6]
    times = defaultdict(list)
    csr = {}
    for line in open(runs):
        r = json.loads(line)
        key = (r["file"].rsplit(".", 1)[0], r["batch"], r["kernels"])
        times[key].append(r["ms_per_batch"])
        if r["impl"] == "go":
            csr[key] = r.get("csr_layers", 0)
    files = []
    for f, _, _ in times:
        if f not in files:
            files.append(f)

    def cell(key):
        ts = times.get(key)
        if not ts:
            return "", None
        m = statistics.median(ts)
        return (f"{m:.3f} ({min(ts):.3f}–{max(ts):.3f})" if len(ts) > 1 else f"{m:.3f}"), m

    print(f"Machine: {threads} threads ({cpu}); one-minute load average {load} before the rounds. Milliseconds per batch, "
          f"median (min–max) over {repeats} alternating rounds of `benchmarks/infer.sh {repeats}`; each figure is "
          "itself the median of 5 timings. Ours: package infer (what `spred predict` and `spred eval` run) with "
          "dense kernels, sparse kernels (CSR products for dense layers, the direct sparse convolution for conv "
          "layers), and the automatic per-layer choice (its count of sparse layers in brackets). "
          f"ONNX Runtime: onnxruntime-node, CPU, {threads} intra-op threads, all graph optimisations, on the "
          "same model exported to dense ONNX. `sNN`: every prunable layer pruned by magnitude to NN% zeros; "
          "`thin`: that model with its dead units removed.\n")
    rejected = 0
    print("| model | batch | ours dense | ours sparse | ours auto | ONNX Runtime | ORT / ours best |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for f in files:
        for b in (1, 100):
            d, dm = cell((f, b, "dense"))
            s, sm = cell((f, b, "sparse"))
            a, am = cell((f, b, "auto"))
            o, om = cell((f, b, "ort"))
            if a:
                a += f" [{csr.get((f, b, 'auto'), 0)}]"
            best = min(x for x in (dm, sm, am) if x is not None) if any(x is not None for x in (dm, sm, am)) else None
            ratio = f"**{om / best:.2f}**" if om and best else ""
            fresh = times.get((f, b, "ort-fresh"))
            if ratio and fresh:
                off = abs(statistics.median(fresh) - om) / om
                if off > FRESH_LIMIT:
                    ratio = f"rejected (fresh ORT {statistics.median(fresh):.3f}, {off:.0%} off)"
                    rejected += 1
            print(f"| {f} | {b} | {d} | {s} | {a} | {o} | {ratio} |")
    checked = any(k[2] == "ort-fresh" for k in times)
    if checked:
        print(f"\nEvery ONNX Runtime median was checked against a fresh run of it alone after the rounds: "
              f"{rejected} ratio(s) rejected for a reference more than {FRESH_LIMIT:.0%} off.")
    else:
        print("\nNo fresh ONNX Runtime run was recorded: the ratios are unchecked.")
    print("\nA ratio above 1 means this toolkit's engine is faster than ONNX Runtime on that model and batch.")


if __name__ == "__main__":
    main()
