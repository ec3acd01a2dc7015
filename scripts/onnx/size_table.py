#!/usr/bin/python3
"""Prints the Markdown file-size table of the README for model files: the
size of each one's dense safetensors, native sparse safetensors, dense ONNX,
ONNX with sparse weights and (when spred inspect reports it) thinned
forms, as `spred inspect --json` measures them by encoding the model.

Usage: size_table.py SPRED_BINARY LABEL=MODEL.safetensors...
"""
import json
import subprocess
import sys


def kb(n):
    return "%.1f kB" % (n / 1000)


def main(spred, pairs):
    rows = []
    for pair in pairs:
        label, path = pair.split("=", 1)
        info = json.loads(subprocess.check_output([spred, "inspect", "--json", path]))
        s = info["sizes"]
        ratio = info["prunable_params"] / max(1, info["prunable_nonzero"])
        cells = [label, "%.1f×" % ratio, "%d / %d" % (info["prunable_nonzero"], info["prunable_params"])]
        forms = [s["dense_safetensors"], s["sparse_safetensors"], s["onnx"], s["onnx_sparse"]]
        if "thinned_safetensors" in s:
            forms += [s["thinned_safetensors"], s["thinned_onnx"]]
        for n in forms:
            cells.append("%s (%.1f×)" % (kb(n), s["dense_safetensors"] / n))
        rows.append(cells)
    head = ["model", "compression", "prunable non-zero", "dense safetensors", "native sparse", "ONNX", "ONNX sparse"]
    if any(len(r) > 7 for r in rows):
        head += ["thinned safetensors", "thinned ONNX"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for r in rows:
        r += [""] * (len(head) - len(r))
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
