#!/usr/bin/env bash
# Reproduces the README's training and compression figures: trains both zoo
# models with their default recipes, sweeps λ for LeNet-300-100 with the
# default `spred compress` settings and the two baselines under the same
# budget, and compresses LeNet-5 at the two λ the README reports. About an hour and a half on 2 cores, most of it LeNet-5.
# Every step resumes where it stopped when the script is run again.
#
#   scripts/reproduce-compression.sh [OUTDIR]     (default: runs/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/reproduce}
mkdir -p "$out" bin
# shellcheck disable=SC2046
go build $(scripts/blas-tags.sh) -o bin/spred ./cmd/spred
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

for lambda in 3e-4 5e-4; do
	report="$out/lenet-5-lambda$lambda.json"
	[ -f "$report" ] && continue
	resume=(); [ -f "$out/lenet-5-lambda$lambda.safetensors.ckpt" ] && resume=(--resume)
	bin/spred compress --model "$out/lenet-5.safetensors" --lambda "$lambda" --lr 0.2 --epochs 6 \
		--finetune-epochs 3 --seed 1 --out "$out/lenet-5-lambda$lambda.safetensors" \
		--report "$report" --markdown "$out/lenet-5-lambda$lambda.md" "${resume[@]}"
done
