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
    rows.append((s["lambda"], s.get("lr", 0), s["epochs"], s["schedule"], s["finetune_epochs"], s.get("finetune_lr", 0), s["seed"],
                 t["compression_ratio"], 100 * (1 - a["trained"]), 100 * (1 - a["thresholded"]),
                 100 * (1 - a["finetuned"]), r["wall_seconds"], os.path.basename(path)))
# In a MODEL-val folder (benchmarks/frontier/recipes.sh) the "test" images
# are the validation split: the last 10,000 training images.
scored = "validation" if model.endswith("-val") else "test"
print(f"Errors on the {scored} images.\n")
print("| λ | lr | spred epochs | schedule | fine-tuning epochs | fine-tuning lr | seed | ratio | error trained | error thresholded | error final | wall s | report |")
print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for row in sorted(rows, key=lambda r: (r[-1],)):
    print("| %g | %g | %d | %s | %d | %g | %d | %.1f× | %.2f%% | %.2f%% | **%.2f%%** | %.0f | `%s` |" % row)
