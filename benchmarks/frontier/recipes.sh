#!/usr/bin/env bash
# Compares spred recipes on a validation split (the first 50,000 MNIST
# training images train, the last 10,000 are scored; the test set is never
# read): one dense model trained on the 50,000, then one `spred compress` per
# recipe and λ. Reports go to benchmarks/results/frontier/MODEL-val/; runs
# already done are skipped, so a rerun resumes.
#
#   benchmarks/frontier/recipes.sh MODEL RECIPE...
#
# A RECIPE is NAME:LAMBDA:FLAGS, FLAGS the compress flags with commas for
# spaces, e.g. ft20:3e-4:--epochs,40,--schedule,cosine,--finetune-epochs,20
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$1
shift
out=benchmarks/results/frontier/$model-val
split=runs/mnist-val
mkdir -p "$out" bin runs
go build -o bin/spred ./cmd/spred
[ -f "$split/t10k-labels-idx1-ubyte.gz" ] || /usr/bin/python3 benchmarks/frontier/valsplit.py "$(scripts/fetch-mnist.sh)" "$split"
dense=runs/$model-val-dense-seed1.safetensors
[ -f "$dense" ] || bin/spred train --model "$model" --data-dir "$split" --seed 1 --out "$dense" --quiet
for r in "$@"; do
	IFS=: read -r name lambda flags <<<"$r"
	IFS=, read -r -a f <<<"$flags"
	run=$name-l$lambda-seed1
	[ -f "$out/$run.json" ] && { echo "skip $run"; continue; }
	start=$(date +%s)
	bin/spred compress --model "$dense" --data-dir "$split" --lambda "$lambda" --seed 1 "${f[@]}" \
		--out "runs/$model-val-$run.safetensors" --report "$out/$run.json" --quiet 2>"$out/$run.log"
	echo "$run: $(($(date +%s) - start)) s"
done
