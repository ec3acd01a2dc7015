#!/usr/bin/env bash
# The path a PyTorch user takes, end to end: train a CIFAR ResNet on
# Fashion-MNIST in PyTorch and export it to ONNX (batch norms kept), import
# it, compress it with spred, export the pruned model to ONNX and run it in
# ONNX Runtime next to spred's own engine. Writes everything to
# runs/pytorch-user/ (or $1).
#
#   scripts/pytorch-user.sh [DIR]
#
# Budget knobs (environment): TORCH_EPOCHS (2), LAMBDA (2e-4), EPOCHS (1),
# FINETUNE (1), SAMPLES (training images per spred epoch, 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/pytorch-user}
data=${DATA:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out" bin
# shellcheck disable=SC2046
go build -o bin/spred ./cmd/spred
export OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
echo "== PyTorch: train and export"
/usr/bin/python3 scripts/torch/train_fashion.py --out "$out/resnet8-torch.onnx" --data "$data" --epochs "${TORCH_EPOCHS:-2}"
echo "== spred import, eval"
bin/spred import "$out/resnet8-torch.onnx" --out "$out/resnet8-torch.safetensors"
bin/spred eval --model "$out/resnet8-torch.safetensors" --data-dir "$data"
echo "== spred compress"
bin/spred compress --model "$out/resnet8-torch.safetensors" --data-dir "$data" --lambda "${LAMBDA:-2e-4}" --lr 0.05 \
	--epochs "${EPOCHS:-1}" --finetune-epochs "${FINETUNE:-1}" --train-samples "${SAMPLES:-20000}" \
	--out "$out/resnet8-pruned.safetensors" --report "$out/report.json" --quiet
echo "== spred export, ONNX Runtime"
bin/spred export --model "$out/resnet8-pruned.safetensors" --format onnx --out "$out/resnet8-pruned.onnx"
bin/spred eval --model "$out/resnet8-pruned.safetensors" --data-dir "$data" --logits "$out/spred-logits.json" > /dev/null
(cd scripts/onnx && node run_ort.js --model "$OLDPWD/$out/resnet8-pruned.onnx" --mnist "$data") > "$out/ort-logits.json"
/usr/bin/python3 scripts/onnx/compare_logits.py "$out/spred-logits.json" "$out/ort-logits.json"
