#!/usr/bin/env bash
# LeNet-300-100 at 100×: the λ search held at a projected ratio of 100^R
# (--target-reach R), the final τ pruning the rest before 10 epochs of
# fine-tuning; 40 cosine epochs, seeds 1–3, 10% of the training set held out.
# The dense model is ../lr-projection's (spred train --model lenet-300-100 --seed 1).
set -euo pipefail
cd "$(dirname "$0")"
for r in "$@"; do
	../../../../bin/spred-reach sweep --model ../lr-projection/dense-seed1.safetensors --dir reach-$r --target-ratios 100 \
		--method spred --seeds 1,2,3 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --target-reach $r
done
