#!/usr/bin/env bash
# Pruned inference against ONNX Runtime: this toolkit's engine (package
# infer, what spred predict and spred eval run; dense kernels, CSR kernels
# and the per-layer automatic choice) and ONNX Runtime (onnxruntime-node,
# CPU, nproc threads) on the same models, exported to ONNX by spred export's
# code: every prunable layer pruned by magnitude to 0, 90, 95 and 99% zeros,
# and the 99% model thinned. Batch 1 and 100. REPEATS rounds alternate the
# two sides; the table gives medians and the spread. ONNX Runtime then runs
# once more alone per model and batch, and a ratio whose reference median is
# more than 15% off that fresh figure is rejected in the table.
#
#   benchmarks/infer.sh [REPEATS]        (default 3)
#
# INFER_MODELS: the dense models (default: LeNet-300-100 and LeNet-5 trained
# for one short epoch here, whose values do not matter for speed, and the
# committed resnet-8 trained on Fashion-MNIST). Needs Node.js and
# `cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci`. Raw lines go to
# benchmarks/results/infer/runs.jsonl, the table to
# benchmarks/results/infer/infer.md. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
out=benchmarks/results/infer
work=${INFER_WORK:-runs/infer}
mkdir -p "$out" "$work" bin
if [ ! -d scripts/onnx/node_modules/onnxruntime-node ]; then
	echo "infer.sh: needs onnxruntime-node: (cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci)" >&2
	exit 1
fi
go build -o bin/spred ./cmd/spred
go build -o bin/spred-infer ./benchmarks/infer
threads=$(nproc)
export GOMAXPROCS=$threads
load=$(cut -d' ' -f1 /proc/loadavg)
models=${INFER_MODELS:-}
if [ -z "$models" ]; then
	mnist=$(scripts/fetch-mnist.sh)
	for m in lenet-300-100 lenet-5; do
		[ -f "$work/$m.safetensors" ] || bin/spred train --model "$m" --epochs 1 --train-samples 2000 --quiet \
			--data-dir "$mnist" --out "$work/$m.safetensors"
	done
	models="$work/lenet-300-100.safetensors $work/lenet-5.safetensors benchmarks/results/resnet/resnet-8-fashion.safetensors"
fi
files=()
for m in $models; do
	while read -r f; do files+=("$f"); done < <(bin/spred-infer -prepare "$m" -dir "$work")
done
runs=$out/runs.jsonl
: >"$runs"
for r in $(seq "$repeats"); do
	for f in "${files[@]}"; do
		for b in 1 100; do
			echo "[round $r/$repeats] $(basename "$f") batch $b" >&2
			for k in dense sparse auto; do
				bin/spred-infer -time "$f.safetensors" -batch "$b" -kernels "$k" >>"$runs"
			done
			node benchmarks/infer/ort_time.js "$f.onnx" "$b" "$threads" >>"$runs"
		done
	done
done
# The reference once more alone: a ratio whose ONNX Runtime median
# disagrees with this fresh figure by more than 15% is not reported (the
# reference ran slow or fast in the rounds, and the ratio says nothing).
for f in "${files[@]}"; do
	for b in 1 100; do
		echo "[fresh] $(basename "$f") batch $b: ONNX Runtime alone" >&2
		node benchmarks/infer/ort_time.js "$f.onnx" "$b" "$threads" | sed 's/"kernels":"ort"/"kernels":"ort-fresh"/' >>"$runs"
	done
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
/usr/bin/python3 benchmarks/infer/table.py "$runs" "$threads" "$cpu" "$load" "$repeats" >"$out/infer.md"
cat "$out/infer.md"
