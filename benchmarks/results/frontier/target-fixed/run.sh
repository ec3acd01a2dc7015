#!/usr/bin/env bash
# LeNet-300-100 at 100× with λ given and held (2e-4, the final λ of the best
# target runs in ../lr-projection/old/), the final τ set to the ratio; 40 cosine
# epochs + 10 of fine-tuning, 10% held out, seeds 1–3, two at a time.
set -euo pipefail
cd "$(dirname "$0")"
for s in 1 2 3; do
	echo "GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 ../../../../bin/spred-fixed compress --model ../lr-projection/dense-seed1.safetensors --lambda 2e-4 --target-ratio 100 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --seed $s --out seed$s.safetensors --report seed$s.json --quiet"
done | parallel -j 2
