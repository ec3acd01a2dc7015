#!/usr/bin/python3
"""Solve the Lasso reference problems with scikit-learn and compare with glmnet.

For every problem in DIR (default: lasso/testdata of this repository)
and every lambda in its solutions:

  gaussian: sklearn.linear_model.Lasso(alpha=lambda, fit_intercept=False,
            tol=1e-12, max_iter=10**6), which minimises
            1/(2n)||y - Xb||^2 + lambda ||b||_1;
  binomial: LogisticRegression(penalty='l1', C=1/(n lambda), solver='saga',
            fit_intercept=False, tol=1e-12, max_iter=10**5), which minimises
            C sum_i logloss_i + ||b||_1, i.e. n C times the glmnet objective.
            (liblinear does not reach tol 1e-12 in minutes here.)

It prints per problem and lambda: the number of non-zero coefficients, the
largest |b - b_glmnet|, the fit's wall-clock seconds (the fit only, not the
loading), and how far glmnet's own solution is from the exact minimiser on
glmnet's support and signs (Newton's method on the smooth problem there,
certified by the KKT conditions; "-" when the certificate fails).

With --json it prints one JSON object per line instead of a table.
Needs numpy and scikit-learn: Debian's python3-sklearn (apt-get install -y
python3-sklearn) for /usr/bin/python3.
"""
import argparse
import glob
import gzip
import json
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression


def kkt_solution(X, y, family, lam, ref):
    """The exact minimiser on ref's support and signs, and whether it is the
    L1 solution (KKT conditions)."""
    n = X.shape[0]
    S = ref != 0
    sg = np.sign(ref[S])
    b = ref.copy()
    if S.any():
        XS = X[:, S]
        for _ in range(50):
            eta = X @ b
            if family == "binomial":
                p = 1 / (1 + np.exp(-eta))
                r, w = p - y, p * (1 - p)
            else:
                r, w = eta - y, np.ones(n)
            g = XS.T @ r / n + lam * sg
            H = (XS * w[:, None]).T @ XS / n
            step = np.linalg.solve(H, g)
            b[S] -= step
            if np.abs(step).max() < 1e-15:
                break
    eta = X @ b
    r = (1 / (1 + np.exp(-eta)) - y) if family == "binomial" else (eta - y)
    g = X.T @ r / n
    ok = bool(np.all(np.sign(b[S]) == sg)) and (bool((~S).sum() == 0) or float(np.abs(g[~S]).max()) <= lam)
    return b, ok


def fit(X, y, family, lam):
    n = X.shape[0]
    if family == "gaussian":
        m = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=10**6)
        solver = "Lasso (coordinate descent)"
    else:
        m = LogisticRegression(penalty="l1", C=1 / (n * lam), solver="saga",
                               fit_intercept=False, tol=1e-12, max_iter=10**5)
        solver = "LogisticRegression (saga)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        m.fit(X, y)
        seconds = time.perf_counter() - t0
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    n_iter = int(np.max(m.n_iter_))
    return np.asarray(m.coef_, dtype=float).ravel(), seconds, solver, n_iter, converged


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", default=os.path.join(here, "..", "compress", "testdata", "lasso"))
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(args.dir, "*.json.gz")))
    if not paths:
        sys.exit(f"lasso_sklearn.py: no *.json.gz problems in {args.dir}")
    if not args.json:
        print(f"{'problem':16} {'lambda':>7} {'nonzero':>7} {'max|b-b_glmnet|':>15} {'seconds':>9}  "
              f"{'glmnet-vs-KKT':>13}  solver")
    for path in paths:
        with gzip.open(path, "rt") as f:
            p = json.load(f)
        X = np.array(p["X"], dtype=float)
        y = np.array(p["y"], dtype=float)
        for s in p["solutions"]:
            lam = float(s["lambda"])
            ref = np.array(s["coef"], dtype=float)
            coef, seconds, solver, n_iter, converged = fit(X, y, p["family"], lam)
            exact, ok = kkt_solution(X, y, p["family"], lam, ref)
            rec = {
                "problem": p["name"], "family": p["family"], "lambda": lam,
                "nonzero": int(np.count_nonzero(coef)),
                "max_err_glmnet": float(np.abs(coef - ref).max()),
                "max_err_kkt": float(np.abs(coef - exact).max()) if ok else None,
                "glmnet_vs_kkt": float(np.abs(ref - exact).max()) if ok else None,
                "seconds": seconds, "solver": solver, "n_iter": n_iter, "converged": converged,
            }
            if args.json:
                print(json.dumps(rec), flush=True)
            else:
                g = "-" if rec["glmnet_vs_kkt"] is None else f"{rec['glmnet_vs_kkt']:.2e}"
                note = "" if converged else " (not converged)"
                print(f"{p['name']:16} {lam:7g} {rec['nonzero']:7d} {rec['max_err_glmnet']:15.2e} "
                      f"{seconds:9.4f}  {g:>13}  {solver}, {n_iter} iterations{note}", flush=True)


if __name__ == "__main__":
    main()
