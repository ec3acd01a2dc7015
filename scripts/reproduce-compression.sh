#!/usr/bin/env bash
# Reproduces the README's training and compression figures: trains both zoo
# models with their default recipes and compresses them with the settings the
# README reports. Takes about an hour and a half on 2 cores (LeNet-5 is most
# of it).
#
#   scripts/reproduce-compression.sh [OUTDIR]     (default: runs/reproduce)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/reproduce}
mkdir -p "$out" bin
go build -o bin/spred ./cmd/spred
export SPRED_MNIST_DIR=$(scripts/fetch-mnist.sh)

for m in lenet-300-100 lenet-5; do
	[ -f "$out/$m.safetensors" ] || bin/spred train --model "$m" --seed 1 --out "$out/$m.safetensors"
done

bin/spred compress --model "$out/lenet-300-100.safetensors" --lambda 1.5e-4 --lr 0.3 --schedule constant \
	--epochs 10 --threshold 3e-3 --finetune-epochs 5 --seed 1 \
	--out "$out/lenet-300-100-pruned.safetensors" --report "$out/lenet-300-100-report.json" \
	--markdown "$out/lenet-300-100-report.md"
bin/spred compress --model "$out/lenet-5.safetensors" --lambda LENET5_LAMBDA --lr LENET5_LR --schedule constant \
	--epochs LENET5_EPOCHS --threshold 3e-3 --finetune-epochs LENET5_FT --seed 1 \
	--out "$out/lenet-5-pruned.safetensors" --report "$out/lenet-5-report.json" \
	--markdown "$out/lenet-5-report.md"
