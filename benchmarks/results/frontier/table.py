"""Writes the table of every frontier run under this folder (one JSON report
per run, as benchmarks/frontier/explore.sh writes them) to stdout as Markdown.

    python3 benchmarks/results/frontier/table.py > benchmarks/results/frontier/lenet-300-100.md
"""
import glob
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
model = sys.argv[1] if len(sys.argv) > 1 else "lenet-300-100"
rows = []
for path in sorted(glob.glob(os.path.join(here, model, "*.json"))):
    r = json.load(open(path))
    s, t, a = r["settings"], r["totals"], r["accuracy"]
    rows.append((s["lambda"], s["epochs"], s["schedule"], s["finetune_epochs"], s["seed"],
                 t["compression_ratio"], 100 * (1 - a["trained"]), 100 * (1 - a["thresholded"]),
                 100 * (1 - a["finetuned"]), r["wall_seconds"], os.path.basename(path)))
print("| λ | spred epochs | schedule | fine-tuning epochs | seed | ratio | error trained | error thresholded | error final | wall s | report |")
print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
for row in sorted(rows):
    print("| %g | %d | %s | %d | %d | %.1f× | %.2f%% | %.2f%% | **%.2f%%** | %.0f | `%s` |" % row)
