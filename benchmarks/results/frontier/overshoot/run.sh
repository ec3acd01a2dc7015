#!/usr/bin/env bash
# LeNet-300-100 at 100×, the default λ search (continuation) with the
# overshoot factor 1.2 (bin/spred-ov12: d5e73d6 with
# ../../resnet/resnet-8-full/variants/overshoot/overshoot-1.2.patch) against
# 2 (bin/spred built at d5e73d6), 40 cosine epochs + 10 of fine-tuning, seeds 1–3, 10%
# held out; the dense model is `spred train --model lenet-300-100 --seed 1`
# (runs/frontier/dense-seed1.safetensors, the command of ../lr-projection/).
# One core a run, two at a time.
set -euo pipefail
cd "$(dirname "$0")"
m=../../../../runs/frontier/dense-seed1.safetensors
for b in ov12 base; do
	bin=../../../../bin/spred-$b
	[ $b = base ] && bin=../../../../bin/spred
	mkdir -p $b
	$bin sweep --model $m --dir $b --target-ratios 100 --method spred --seeds 1,2,3 \
		--epochs 40 --schedule cosine --finetune-epochs 10 --val-fraction 0.1 --list-jobs |
		sed "s|^spred |GOMAXPROCS=1 OPENBLAS_NUM_THREADS=1 $bin |"
done > jobs.txt
parallel -j 2 --joblog joblog.txt < jobs.txt
