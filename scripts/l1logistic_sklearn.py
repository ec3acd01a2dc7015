#!/usr/bin/python3
"""Check `spred select --method l1-logistic` (lasso.Solve on standardised
features) and the two-class linear spred gate against scikit-learn's
LogisticRegression(penalty="l1") on the same standardised table.

    l1logistic_sklearn.py --spred bin/spred --csv all.csv.gz --label mol_biol \
        --ignore bt --classes BCR-ABL,NEG --lambdas 0.2,0.1,0.05

For each λ (on the mean log-loss: L(b, b0) + λ‖b‖₁) it runs spred twice on
all samples: l1-logistic at λ, and the spred gate with the linear head at
λ·√2 (with two classes the gate's group lasso at λ·√2 is the L1 problem at
λ). scikit-learn minimises ‖b‖₁ + C·Σᵢ loss with an unpenalised intercept
(solver liblinear; its intercept is the weight of a constant column of value
1000, whose penalty |b0|/1000 is negligible), so C = 1/(n·λ). The features are standardised as spred does
(float32 values, mean and population standard deviation over all samples,
constant columns set to 0). Prints a Markdown table: the non-zero counts,
whether the supports agree, the largest coefficient difference, and the L1
objective of each solution (the intercept of spred's re-optimised, since the
report does not hold it); the lower objective is the better solution.
Needs numpy and scikit-learn (Debian: apt-get install -y python3-sklearn).
"""
import argparse
import csv
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import LogisticRegression


def read_table(path, label, ignore, classes):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rt") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    li = header.index(label)
    drop = {li} | {header.index(c) for c in ignore}
    feats = [j for j in range(len(header)) if j not in drop]
    X, y = [], []
    for r in rows[1:]:
        if not r:
            continue
        lab = r[li].strip()
        if lab not in classes:
            continue
        X.append([float(r[j]) for j in feats])
        y.append(classes.index(lab))
    X = np.asarray(X, dtype=np.float32).astype(np.float64)  # as spred stores it
    return X, np.asarray(y, dtype=np.float64), [header[j] for j in feats]


def standardise(X):
    mean = X.mean(axis=0)
    std = np.sqrt(((X - mean) ** 2).mean(axis=0))
    std[~(std > 1e-6 * np.maximum(1, np.abs(mean)))] = 0
    Z = np.zeros_like(X)
    ok = std > 0
    Z[:, ok] = (X[:, ok] - mean[ok]) / std[ok]
    return Z


def objective(Z, y, b, b0, lam):
    eta = Z @ b + b0
    return float(np.mean(np.logaddexp(0, eta) - y * eta) + lam * np.abs(b).sum())


def best_intercept(Z, y, b):
    """The intercept minimising the mean log-loss for fixed b (Newton)."""
    m = y.mean()
    b0 = math.log(m / (1 - m))
    off = Z @ b
    for _ in range(100):
        p = 1 / (1 + np.exp(-(off + b0)))
        g, h = np.mean(p - y), np.mean(p * (1 - p))
        step = g / max(h, 1e-300)
        b0 -= step
        if abs(step) < 1e-15:
            break
    return b0


def spred_coef(spred, args, method, lam, names):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        cmd = [spred, "select", "--csv", args.csv, "--label", args.label, "--lambda", repr(lam),
               "--folds", "2", "--quiet", "--out", out] + method
        if args.ignore:
            cmd += ["--ignore", args.ignore]
        cmd += ["--classes", args.classes]
        t = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        secs = time.time() - t
        with open(out) as f:
            rep = json.load(f)
    b = np.zeros(len(names))
    for feat in rep["points"][0]["all"]["features"]:
        b[feat["index"]] = feat["coef"]
    return b, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spred", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--ignore", default="")
    ap.add_argument("--classes", required=True, help="the two classes, negative first")
    ap.add_argument("--lambdas", required=True)
    args = ap.parse_args()
    classes = args.classes.split(",")
    ignore = [c for c in args.ignore.split(",") if c]
    X, y, names = read_table(args.csv, args.label, ignore, classes)
    Z = standardise(X)
    n = len(y)
    print(f"{args.csv}: {n} samples × {Z.shape[1]} features, label {args.label} ({classes[1]} against {classes[0]})\n")
    print("| λ | non-zero (l1-logistic / spred gate / sklearn) | same support | max\\|b − b_sklearn\\| l1-logistic | spred gate | objective l1-logistic | spred gate | sklearn | spred s (l1 / gate, whole CLI run) | sklearn s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for lam in [float(v) for v in args.lambdas.split(",")]:
        b1, t1 = spred_coef(args.spred, args, ["--method", "l1-logistic"], lam, names)
        b2, t2 = spred_coef(args.spred, args, ["--method", "spred", "--head", "linear"], lam * math.sqrt(2), names)
        t = time.time()
        # liblinear (coordinate descent, converges tightly where saga crawls)
        # penalises the intercept too: it is the weight of a constant column
        # of value s, costing |b0|/s, negligible for s = 1000.
        clf = LogisticRegression(penalty="l1", C=1 / (n * lam), solver="liblinear", tol=1e-9,
                                 intercept_scaling=1000, max_iter=100000)
        clf.fit(Z, y)
        ts = time.time() - t
        bs, b0s = clf.coef_[0], float(clf.intercept_[0])
        same = (set(np.flatnonzero(b1)) == set(np.flatnonzero(bs)) == set(np.flatnonzero(b2)))
        d1, d2 = float(np.abs(b1 - bs).max()), float(np.abs(b2 - bs).max())
        o1 = objective(Z, y, b1, best_intercept(Z, y, b1), lam)
        o2 = objective(Z, y, b2, best_intercept(Z, y, b2), lam)
        os_ = objective(Z, y, bs, b0s, lam)
        worst = max(worst, d1, d2)
        print(f"| {lam:g} | {np.count_nonzero(b1)} / {np.count_nonzero(b2)} / {np.count_nonzero(bs)} | {'yes' if same else 'no'} "
              f"| {d1:.1e} | {d2:.1e} | {o1:.10f} | {o2:.10f} | {os_:.10f} | {t1:.2f} / {t2:.2f} | {ts:.2f} |")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
