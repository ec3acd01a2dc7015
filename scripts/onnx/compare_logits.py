#!/usr/bin/python3
"""Compares two logit files ({"logits": [[...], ...], "labels": [...]}, as
spred eval --logits, torch_export.py --logits and run_ort.js write them) and
prints one JSON line: the number of images, the largest absolute logit
difference, each file's accuracy, and the number of images the two classify
differently. Exits 1 if the difference exceeds --tol (default 1e-4), the
labels differ, or any image is classified differently.

Usage: compare_logits.py A.json B.json [--tol 1e-4]
"""
import json
import sys


def argmax(row):
    best = 0
    for i, v in enumerate(row):
        if v > row[best]:
            best = i
    return best


def main(args):
    tol = 1e-4
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = (json.load(open(p)) for p in args)
    la, lb = a["logits"], b["logits"]
    if len(la) != len(lb) or a["labels"] != b["labels"]:
        print(json.dumps({"error": "different images: %d and %d rows, labels equal: %s" % (len(la), len(lb), a["labels"] == b["labels"])}))
        sys.exit(1)
    worst = 0.0
    disagree = correct_a = correct_b = 0
    for ra, rb, y in zip(la, lb, a["labels"]):
        worst = max(worst, max(abs(x - z) for x, z in zip(ra, rb)))
        pa, pb = argmax(ra), argmax(rb)
        disagree += pa != pb
        correct_a += pa == y
        correct_b += pb == y
    n = len(la)
    row = {"images": n, "max_abs_diff": worst, "accuracy_a": correct_a / n, "accuracy_b": correct_b / n, "different_predictions": disagree, "tol": tol}
    row["ok"] = worst <= tol and disagree == 0
    print(json.dumps(row))
    sys.exit(0 if row["ok"] else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
