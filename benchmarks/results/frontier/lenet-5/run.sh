#!/usr/bin/env bash
# LeNet-5 at 300× under one long budget (40 cosine epochs + 10 of masked
# fine-tuning, 10% of the training images held out, seed 1): spred with λ
# held at 5e-4 (lr 0.2) and the final τ set to the ratio (also with the
# size rule of λ per layer, and with conv1's λ at a tenth, with and
# without τ scaled per layer as λ is; and at λ 3e-4 and 4e-4 with
# conv1's λ at a tenth), and
# magnitude pruning (its own default rate) with the same epochs. Prints one job line per run (feed them to
# `parallel -j 2`); each writes NAME.json beside this script and skips runs
# already done.
#
#   ./run.sh | parallel -j 2 --line-buffer
set -euo pipefail
cd "$(dirname "$0")"
bin=../../../../bin/${SPRED_BIN:-spred-s9} # spred-s7 (71169c2) for the first three runs
[ -f dense-seed1.safetensors ] || echo "missing dense-seed1.safetensors: spred train --model lenet-5 --seed 1 --out dense-seed1.safetensors" >&2
common="--model dense-seed1.safetensors --target-ratio 300 --epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --seed 1 --quiet"
job() {
	local name=$1; shift
	[ -f "$name.json" ] && return
	echo "cd $PWD && GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 $bin compress $common $* --out $name.safetensors --report $name.json --checkpoint $name.ckpt 2> $name.log"
}
job spred-fixed-l5e-4 --lr 0.2 --lambda 5e-4
job magnitude --method magnitude
job spred-fixed-l5e-4-size --lr 0.2 --lambda 5e-4 --layer-lambda size
job spred-fixed-l5e-4-conv1-tau --lr 0.2 --lambda 5e-4 --layer-lambda conv1/W=0.1 --layer-threshold
job spred-fixed-l5e-4-conv1 --lr 0.2 --lambda 5e-4 --layer-lambda conv1/W=0.1
job spred-fixed-l3e-4-conv1 --lr 0.2 --lambda 3e-4 --layer-lambda conv1/W=0.1
job spred-fixed-l4e-4-conv1 --lr 0.2 --lambda 4e-4 --layer-lambda conv1/W=0.1
