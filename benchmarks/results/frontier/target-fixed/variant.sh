#!/usr/bin/env bash
# run.sh's recipe (final τ at 100×, 40 cosine epochs + 10 of fine-tuning,
# 10% held out, seeds 1–3) with λ held at LAMBDA and extra flags, to choose
# on the validation split: prints one job line per seed (feed them to
# `parallel -j 2`); each writes DIR/seedS.json. The variants run:
#
#   ./variant.sh lambda-1.5e-4 1.5e-4
#   ./variant.sh lambda-2.5e-4 2.5e-4
#   ./variant.sh ftlr-0.01 2e-4 --finetune-lr 0.01
#   ./variant.sh layer-07-02 2e-4 --layer-lambda fc2/W=0.7,fc3/W=0.2
set -euo pipefail
cd "$(dirname "$0")"
dir=$1 lambda=$2
shift 2
mkdir -p "$dir"
for s in 1 2 3; do
	echo "cd $PWD && GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 ../../../../bin/spred-s7 compress --model ../lr-projection/dense-seed1.safetensors --lambda $lambda --target-ratio 100 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --seed $s $* --out $dir/seed$s.safetensors --report $dir/seed$s.json --quiet"
done
