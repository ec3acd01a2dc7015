#!/usr/bin/env bash
# Compare `spred lasso` with scikit-learn on the Lasso reference problems
# (glmnet solutions, lasso/testdata or the folder given as $1) and
# print one Markdown table.
#
#   scripts/lasso-vs-sklearn.sh [DIR]
#
# Needs Go, and for scripts/lasso_sklearn.py a Python with numpy and
# scikit-learn ($PYTHON, default /usr/bin/python3 with Debian's
# python3-sklearn: apt-get install -y python3-sklearn).
#
# spred's seconds are the wall-clock time of the whole `spred lasso` process
# (start-up and reading the CSV included); scikit-learn's are the fit only.
# Each problem is written as CSV (columns x1..xd, y) to a temporary folder
# and fitted without intercept, as glmnet was.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(cd "${1:-$root/lasso/testdata}" && pwd)
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$root"
# shellcheck disable=SC2046
go build -o "$tmp/spred" ./cmd/spred

# Write each problem as CSV, and list "name family lambda" jobs.
"$py" - "$dir" "$tmp" <<'PY'
import glob, gzip, json, os, sys
src, out = sys.argv[1], sys.argv[2]
with open(os.path.join(out, "jobs"), "w") as jobs:
    for path in sorted(glob.glob(os.path.join(src, "*.json.gz"))):
        with gzip.open(path, "rt") as f:
            p = json.load(f)
        with open(os.path.join(out, p["name"] + ".csv"), "w") as f:
            f.write(",".join(f"x{j+1}" for j in range(p["d"])) + ",y\n")
            for row, y in zip(p["X"], p["y"]):
                f.write(",".join(repr(float(v)) for v in row) + "," + repr(float(y)) + "\n")
        for i, s in enumerate(p["solutions"]):
            jobs.write(f"{p['name']} {p['family']} {i} {float(s['lambda'])!r}\n")
PY

while read -r name family i lambda; do
  t0=$(date +%s.%N)
  "$tmp/spred" lasso --csv "$tmp/$name.csv" --label y --family "$family" --lambda "$lambda" \
    --intercept=false >"$tmp/spred-$name-$i.json"
  t1=$(date +%s.%N)
  echo "$name $i $t0 $t1" >>"$tmp/times"
done <"$tmp/jobs"

"$py" "$root/scripts/lasso_sklearn.py" --json "$dir" >"$tmp/sklearn.jsonl"

"$py" - "$dir" "$tmp" <<'PY'
import glob, gzip, json, os, sys
src, tmp = sys.argv[1], sys.argv[2]
times = {}
for line in open(os.path.join(tmp, "times")):
    name, i, t0, t1 = line.split()
    times[(name, int(i))] = float(t1) - float(t0)
sk = {}
for line in open(os.path.join(tmp, "sklearn.jsonl")):
    r = json.loads(line)
    sk[(r["problem"], r["lambda"])] = r
print("| problem | λ | nonzero (glmnet) | nonzero spred | nonzero sklearn | max\\|b−b_glmnet\\| spred | max\\|b−b_glmnet\\| sklearn | max\\|b_glmnet−b_KKT\\| | spred s | sklearn s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(src, "*.json.gz"))):
    with gzip.open(path, "rt") as f:
        p = json.load(f)
    for i, s in enumerate(p["solutions"]):
        lam = float(s["lambda"])
        ref = s["coef"]
        with open(os.path.join(tmp, f"spred-{p['name']}-{i}.json")) as f:
            r = json.load(f)
        err = max(abs(a - b) for a, b in zip(r["coef"], ref))
        k = sk[(p["name"], lam)]
        g = "-" if k["glmnet_vs_kkt"] is None else f"{k['glmnet_vs_kkt']:.1e}"
        conv = "" if r["converged"] else " (not converged)"
        kconv = "" if k["converged"] else " (not converged)"
        print(f"| {p['name']} | {lam:g} | {sum(1 for v in ref if v != 0)} | {r['nonzero']}{conv} | {k['nonzero']}{kconv} | "
              f"{err:.1e} | {k['max_err_glmnet']:.1e} | {g} | {times[(p['name'], i)]:.3f} | {k['seconds']:.3f} |")
PY
