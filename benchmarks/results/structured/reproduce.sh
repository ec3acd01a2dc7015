#!/bin/sh
# Reruns the structured-spred measurements of the README ("Structured spred"):
# group-lasso compression of LeNet-300-100 (neurons) and LeNet-5 (filters and
# neurons), thinning, forward-pass times, and the sensitivity curves.
# Needs the dense models of `spred train --model lenet-300-100` and
# `spred train --model lenet-5` (seed 1) in the current folder; writes the
# thinned models there and the reports into $OUT.
set -eu
spred=${SPRED:-bin/spred}
out=${OUT:-benchmarks/results/structured}
run() { # name, then compress flags
	name=$1
	shift
	$spred compress --seed 1 --out "$name.safetensors" --report "$out/$name.json" --markdown "$out/$name.md" "$@"
}
for lambda in 1e-3 1.5e-3 1.75e-3 2e-3 5e-3; do
	run lenet-300-100-neuron-$lambda --model lenet-300-100.safetensors --structure neuron --lambda $lambda --lr 0.05
done
for lambda in 2e-3 2.25e-3 2.5e-3 3e-3; do
	run lenet-300-100-neuron-$lambda-ft10 --model lenet-300-100.safetensors --structure neuron --lambda $lambda --lr 0.05 \
		--finetune-epochs 10 --finetune-lr 0.01
done
run lenet-5-mixed-1e-2 --model lenet-5.safetensors --structure mixed --lambda 1e-2 --lr 0.03 --epochs 4 --finetune-epochs 2 \
	--train-samples 30000
run lenet-5-mixed-2e-2-tau5e-2 --model lenet-5.safetensors --structure mixed --lambda 2e-2 --threshold 0.05 --lr 0.03 --epochs 4 --finetune-epochs 2 \
	--train-samples 20000
# The full training set, 6 epochs + 4 of fine-tuning (version 0.2.0's speed makes these minutes).
for lambda in 3e-3 5e-3; do
	run lenet-5-mixed-$lambda-full --model lenet-5.safetensors --structure mixed --lambda $lambda --threshold 0.02 --lr 0.03 \
		--epochs 6 --finetune-epochs 4
done
$spred sensitivity --model lenet-300-100.safetensors --csv "$out/lenet-300-100-sensitivity.csv" --png "$out/lenet-300-100-sensitivity.png"
$spred sensitivity --model lenet-5.safetensors --test-samples 2000 --fractions 0,0.2,0.4,0.6,0.8,0.9,0.95,0.99 \
	--csv "$out/lenet-5-sensitivity.csv" --png "$out/lenet-5-sensitivity.png"
