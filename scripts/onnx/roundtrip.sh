#!/usr/bin/env bash
# The ONNX round trips, on all 10,000 MNIST test images, for LeNet-300-100
# (exported by PyTorch at opset 13) and LeNet-5 (opset 14):
#
#   PyTorch → ONNX → spred import → spred eval: the same logits as PyTorch
#   (max |difference| ≤ 1e-4) and the same class for every image;
#   → spred compress → spred export --format onnx, onnx-sparse, thin → ONNX
#   Runtime: the same logits as spred eval of the compressed model (≤ 1e-4)
#   and the same accuracy, to the last image.
#
# Needs Go, Debian's python3-torch, and scripts/onnx/node_modules (npm ci).
# The PyTorch models are trained briefly (LeNet-300-100: 2 epochs; LeNet-5:
# 1 epoch on 20,000 images), and LeNet-5 is compressed with a short run
# (1 epoch on 10,000 images, 1 epoch of fine-tuning), so that the whole
# script takes minutes, not hours. Every step's output is kept in WORKDIR; a
# rerun reuses the PyTorch exports and the compressed models found there.
#
# Usage: scripts/onnx/roundtrip.sh [WORKDIR]      (default runs/onnx-roundtrip)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-runs/onnx-roundtrip}
mkdir -p "$work"
export SPRED_MNIST_DIR="${SPRED_MNIST_DIR:-$(scripts/fetch-mnist.sh)}"
py=/usr/bin/python3
spred="$work/spred"
go build -o "$spred" ./cmd/spred
if [ ! -d scripts/onnx/node_modules/onnxruntime-node ]; then
	(cd scripts/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi
formats="onnx onnx-sparse"
if "$spred" export --help | grep -q '\bthin\b'; then
	formats="$formats thin"
fi

failed=0
# check LABEL A.json B.json: compares two logit files and prints the result.
check() {
	local line
	if line=$("$py" scripts/onnx/compare_logits.py "$2" "$3"); then :; else failed=1; fi
	printf '%-58s %s\n' "$1" "$line" | tee -a "$work/summary.txt"
}
: >"$work/summary.txt"

for arch in lenet-300-100 lenet-5; do
	case $arch in
	lenet-300-100)
		opset=13
		torch_train=(--train-epochs 2)
		compress=() # the defaults: λ 1.5e-4, 10 epochs, 5 of fine-tuning
		;;
	lenet-5)
		opset=14
		torch_train=(--train-epochs 1 --train-samples 20000)
		compress=(--lambda 3e-4 --lr 0.2 --epochs 1 --finetune-epochs 1 --train-samples 10000)
		;;
	esac
	d="$work/$arch"
	mkdir -p "$d"
	echo "== $arch: PyTorch → ONNX (opset $opset)" >&2
	if [ ! -s "$d/torch.json" ]; then # the slow steps are kept for a rerun
		"$py" scripts/onnx/torch_export.py --arch "$arch" --opset "$opset" --out "$d/torch.onnx" \
			"${torch_train[@]}" --logits "$d/torch.json" 2> >(grep -v Warning >&2)
	fi
	"$spred" import "$d/torch.onnx" --out "$d/imported.safetensors"
	"$spred" eval --model "$d/imported.safetensors" --logits "$d/imported.json"
	check "$arch: PyTorch vs spred eval of the import" "$d/torch.json" "$d/imported.json"

	echo "== $arch: spred compress ${compress[*]}" >&2
	if [ ! -s "$d/pruned.safetensors" ]; then
		"$spred" compress --model "$d/imported.safetensors" "${compress[@]}" --seed 1 --quiet \
			--out "$d/pruned.safetensors" --report "$d/pruned.json" 2>"$d/compress.txt"
	fi
	"$spred" eval --model "$d/pruned.safetensors" --logits "$d/pruned-logits.json"
	for format in $formats; do
		out="$d/pruned-$format.onnx"
		if [ "$format" = thin ]; then
			"$spred" export --model "$d/pruned.safetensors" --format thin --out "$d/pruned-thin.safetensors" --onnx "$out"
			"$spred" eval --model "$d/pruned-thin.safetensors" --logits "$d/thin-logits.json"
			check "$arch: spred eval, pruned vs thinned" "$d/pruned-logits.json" "$d/thin-logits.json"
		else
			"$spred" export --model "$d/pruned.safetensors" --format "$format" --out "$out"
		fi
		node scripts/onnx/run_ort.js --model "$out" --count 10000 >"$d/ort-$format.json"
		check "$arch: spred eval vs ONNX Runtime ($format)" "$d/pruned-logits.json" "$d/ort-$format.json"
	done
	"$spred" inspect "$d/pruned.safetensors" | tail -6 >&2
done
echo "summary in $work/summary.txt" >&2
exit $failed
