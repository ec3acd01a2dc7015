#!/bin/sh
# Reruns the structured-spred measurements of the README ("Structured spred"):
# group-lasso compression of LeNet-300-100 (neurons) and LeNet-5 (filters and
# neurons), thinning, forward-pass times, and the sensitivity curves.
# Needs the dense models of `spred train --model lenet-300-100` and
# `spred train --model lenet-5` (seed 1) in the current folder.
set -eu
spred=${SPRED:-bin/spred}
out=${OUT:-benchmarks/results/structured}
for lambda in 1e-3 1.5e-3 2e-3 5e-3; do
	$spred compress --model lenet-300-100.safetensors --structure neuron --lambda $lambda --lr 0.05 --seed 1 \
		--out "lenet-300-100-neuron-$lambda.safetensors" --report "$out/lenet-300-100-neuron-$lambda.json" \
		--markdown "$out/lenet-300-100-neuron-$lambda.md"
done
$spred compress --model lenet-5.safetensors --structure mixed --lambda 5e-3 --lr 0.03 --epochs 3 --finetune-epochs 2 --seed 1 \
	--out "lenet-5-mixed-5e-3.safetensors" --report "$out/lenet-5-mixed-5e-3.json" --markdown "$out/lenet-5-mixed-5e-3.md"
$spred sensitivity --model lenet-300-100.safetensors --csv "$out/lenet-300-100-sensitivity.csv" --png "$out/lenet-300-100-sensitivity.png"
$spred sensitivity --model lenet-5.safetensors --test-samples 2000 --csv "$out/lenet-5-sensitivity.csv" --png "$out/lenet-5-sensitivity.png"
