#!/usr/bin/env bash
# Regenerates the gene-selection results of the README (benchmarks/results/genes/):
# `spred select` on the leukemia table (128 patients × 12,625 genes) for two tasks,
# B against T cell (label bt) and BCR-ABL against NEG (label mol_biol), each with
# spred's gate in front of a linear and an MLP head and with L1-logistic regression,
# 5-fold cross-validation repeated with seeds 1, 2, 3. Every run is timed with
# /usr/bin/time -v (wall time and peak RSS go to runs.md).
#
#   scripts/select-genes.sh [OUTDIR]      (default: benchmarks/results/genes)
#
# The table is found as benchmarks/data/genes/README.md says ($SPRED_GENES,
# ../shared/data/genes/all.csv.gz, or runs/genes/all.csv.gz, regenerated with R).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results/genes}
mkdir -p "$out" bin
go build -o bin/spred ./cmd/spred

csv=${SPRED_GENES:-}
if [ -z "$csv" ]; then
	for c in ../shared/data/genes/all.csv.gz runs/genes/all.csv.gz; do
		if [ -f "$c" ]; then csv=$c; break; fi
	done
fi
if [ -z "$csv" ]; then
	if ! command -v Rscript >/dev/null; then
		echo "select-genes: no all.csv.gz; set SPRED_GENES or install R and r-bioc-all (see benchmarks/data/genes/README.md)" >&2
		exit 1
	fi
	mkdir -p runs/genes
	(cd runs/genes && Rscript ../../benchmarks/data/genes/export-all.R)
	csv=runs/genes/all.csv.gz
fi
want=$(cut -d' ' -f1 benchmarks/data/genes/all.csv.sha256)
got=$(gzip -dc "$csv" | sha256sum | cut -d' ' -f1)
if [ "$want" != "$got" ]; then
	echo "select-genes: warning: $csv is not the table the README's results were measured on (sha256 $got)" >&2
fi

echo "| run | wall time | peak RSS |" >"$out/runs.md"
echo "|---|---:|---:|" >>"$out/runs.md"
# run NAME ARGS...: one timed `spred select`.
run() {
	local name=$1
	shift
	echo "== $name" >&2
	/usr/bin/time -v -o "$out/$name.time" bin/spred select --csv "$csv" --folds 5 --repeats 3 --seed 1 \
		--out "$out/$name.json" "$@" | tee "$out/$name.txt"
	local wall rss
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/$name.time")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/$name.time")
	echo "| $name | $wall | $((rss / 1024)) MB |" >>"$out/runs.md"
	rm "$out/$name.time"
}

bt=(--label bt --ignore mol_biol --features 1,2,5,10)
run bt-l1-logistic "${bt[@]}" --method l1-logistic
run bt-spred-linear "${bt[@]}" --head linear
run bt-spred-mlp "${bt[@]}" --head mlp --compare "$out/bt-l1-logistic.json,$out/bt-spred-linear.json" \
	--plot "$out/bt.png" --markdown "$out/bt.md"

bcr=(--label mol_biol --ignore bt --classes NEG,BCR-ABL --features 1,2,5,10,20,50,100)
run bcr-abl-l1-logistic "${bcr[@]}" --method l1-logistic
run bcr-abl-spred-linear "${bcr[@]}" --head linear
run bcr-abl-spred-mlp "${bcr[@]}" --head mlp --compare "$out/bcr-abl-l1-logistic.json,$out/bcr-abl-spred-linear.json" \
	--plot "$out/bcr-abl.png" --markdown "$out/bcr-abl.md"
cat "$out/runs.md"

# The L1 solutions against scikit-learn (needs Debian's python3-sklearn).
py=${PYTHON:-/usr/bin/python3}
if "$py" -c 'import sklearn' 2>/dev/null; then
	{
		echo "# spred's L1-logistic and gate against scikit-learn"
		echo
		echo 'Written by `scripts/l1logistic_sklearn.py` (see its doc string); `scripts/select-genes.sh` reruns it.'
		echo
		"$py" scripts/l1logistic_sklearn.py --spred bin/spred --csv "$csv" --label mol_biol --ignore bt \
			--classes NEG,BCR-ABL --lambdas 0.2,0.1,0.05
		echo
		"$py" scripts/l1logistic_sklearn.py --spred bin/spred --csv "$csv" --label bt --ignore mol_biol \
			--classes B,T --lambdas 0.2,0.1,0.05
	} >"$out/l1logistic-vs-sklearn.md"
else
	echo "select-genes: no scikit-learn for $py; skipped the check against it" >&2
fi
