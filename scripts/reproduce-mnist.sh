#!/usr/bin/env bash
# Reproduces the README's MNIST tables and plots from scratch: trains both
# zoo models with their default recipes, then for each a sweep of spred over
# λ and the two baselines (magnitude pruning, subgradient L1) under the same
# epoch budget, merged into sweep.csv, sweep.md and sweep.png. The README's
# section "Reproducing the tables" gives the time each step took.
# Every step resumes where it stopped when the script is run again.
#
#   scripts/reproduce-mnist.sh [OUTDIR]     (default: runs/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/reproduce}
mkdir -p "$out" bin
# shellcheck disable=SC2046
go build -o bin/spred ./cmd/spred
export SPRED_MNIST_DIR=$(scripts/fetch-mnist.sh)

for m in lenet-300-100 lenet-5; do
	if [ ! -f "$out/$m.safetensors" ]; then
		resume=(); [ -f "$out/$m.safetensors.ckpt" ] && resume=(--resume)
		bin/spred train --model "$m" --seed 1 --out "$out/$m.safetensors" "${resume[@]}"
	fi
done

sweep="$out/lenet-300-100-sweep"
bin/spred sweep --model "$out/lenet-300-100.safetensors" --lambdas 5e-5,1e-4,1.5e-4,2e-4,3e-4,5e-4 \
	--seed 1 --dir "$sweep"
bin/spred sweep --model "$out/lenet-300-100.safetensors" --method magnitude --target-sparsities 0.9,0.95,0.97 \
	--seed 1 --dir "$sweep"
bin/spred sweep --model "$out/lenet-300-100.safetensors" --method l1 --lambdas 2e-4,5e-4,1e-3 \
	--seed 1 --dir "$sweep"
bin/spred sweep merge --title "LeNet-300-100: spred and the baselines, same epoch budget" \
	--model-name lenet-300-100 "$sweep"

# LeNet-5: a shorter budget (6 epochs + 3 of fine-tuning), spred at lr 0.2.
sweep5="$out/lenet-5-sweep"
common=(--model "$out/lenet-5.safetensors" --epochs 6 --finetune-epochs 3 --seed 1 --dir "$sweep5")
bin/spred sweep "${common[@]}" --lr 0.2 --lambdas 1.5e-4,2e-4,2.5e-4,3e-4,5e-4,1e-3
bin/spred sweep "${common[@]}" --method magnitude --target-sparsities 0.9,0.97,0.99
bin/spred sweep "${common[@]}" --method l1 --lambdas 2e-4,1e-3
bin/spred sweep merge --title "LeNet-5: spred and the baselines, same epoch budget" \
	--model-name lenet-5 "$sweep5"
