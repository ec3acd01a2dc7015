#!/usr/bin/env bash
# Reproduces the README's training and compression figures: trains both zoo
# models with their default recipes, sweeps λ for LeNet-300-100 with the
# default `spred compress` settings, and compresses LeNet-5 at the two λ the
# README reports. About an hour and a half on 2 cores, most of it LeNet-5.
# Every step resumes where it stopped when the script is run again.
#
#   scripts/reproduce-compression.sh [OUTDIR]     (default: runs/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/reproduce}
mkdir -p "$out" bin
go build -o bin/spred ./cmd/spred
export SPRED_MNIST_DIR=$(scripts/fetch-mnist.sh)

for m in lenet-300-100 lenet-5; do
	if [ ! -f "$out/$m.safetensors" ]; then
		resume=(); [ -f "$out/$m.safetensors.ckpt" ] && resume=(--resume)
		bin/spred train --model "$m" --seed 1 --out "$out/$m.safetensors" "${resume[@]}"
	fi
done

bin/spred sweep --model "$out/lenet-300-100.safetensors" --lambdas 5e-5,1e-4,1.5e-4,2e-4,3e-4,5e-4 \
	--seed 1 --dir "$out/lenet-300-100-sweep"

for lambda in 3e-4 5e-4; do
	report="$out/lenet-5-lambda$lambda.json"
	[ -f "$report" ] && continue
	resume=(); [ -f "$out/lenet-5-lambda$lambda.safetensors.ckpt" ] && resume=(--resume)
	bin/spred compress --model "$out/lenet-5.safetensors" --lambda "$lambda" --lr 0.2 --epochs 6 \
		--finetune-epochs 3 --seed 1 --out "$out/lenet-5-lambda$lambda.safetensors" \
		--report "$report" --markdown "$out/lenet-5-lambda$lambda.md" "${resume[@]}"
done
