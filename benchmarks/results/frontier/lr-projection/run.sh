#!/usr/bin/env bash
# LeNet-300-100 at 100×: the target's λ search with the step-count projection
# (bin/spred-old, built at 507c827) against the learning-rate-weighted one
# (bin/spred-new, dc9a041), 40 cosine epochs + 10 of fine-tuning, seeds 1–3,
# 10% of the training set held out for validation.
set -euo pipefail
cd "$(dirname "$0")"
[ -f dense-seed1.safetensors ] || ../../../../bin/spred-new train --model lenet-300-100 --seed 1 --out dense-seed1.safetensors
for b in new old; do
	../../../../bin/spred-$b sweep --model dense-seed1.safetensors --dir $b --target-ratios 100 --method spred \
		--seeds 1,2,3 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1
done
