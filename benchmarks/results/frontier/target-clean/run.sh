#!/usr/bin/env bash
# ../target-fixed/'s recipe at 100× (λ 2e-4 held, the final τ set to the
# ratio, 40 cosine epochs + 10 of fine-tuning, 10% held out) and its best
# per-layer variant (--layer-lambda fc2/W=0.7,fc3/W=0.2), each seed from a
# dense model trained without that seed's validation images (spred train
# --val-fraction 0.1 --seed S draws the same 6,000 as compress --seed S), so
# that the validation error can choose between them. Prints one job line
# per seed (dense model, then the two variants); run them with
#   ./run.sh | parallel -j 1
# The dense models go to runs/target-clean/ (not committed).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../../../.. && pwd)
bin=${SPRED_BIN:-$root/bin/spred}
dense=$root/runs/target-clean
mkdir -p "$dense" uniform layer-07-02
for s in 1 2 3; do
	common="--lambda 2e-4 --target-ratio 100 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --seed $s --quiet"
	echo "cd $PWD && export GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 && $bin train --model lenet-300-100 --val-fraction 0.1 --seed $s --out $dense/dense-seed$s.safetensors 2> dense-seed$s.log && $bin compress --model $dense/dense-seed$s.safetensors $common --out uniform/seed$s.safetensors --report uniform/seed$s.json && $bin compress --model $dense/dense-seed$s.safetensors $common --layer-lambda fc2/W=0.7,fc3/W=0.2 --out layer-07-02/seed$s.safetensors --report layer-07-02/seed$s.json"
done
