#!/usr/bin/env bash
# The main job on a small default, for a fresh machine with Go: build spred,
# train a LeNet-300-100 on MNIST for a few epochs (or reuse the one from an
# earlier run), compress it with spred and print the report.
#
#   scripts/quickstart.sh [WORKDIR]      (default WORKDIR: ./runs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-runs/quickstart}
mkdir -p "$work" bin

echo "== building spred" >&2
# shellcheck disable=SC2046
go build -o bin/spred ./cmd/spred

echo "== fetching MNIST (a Go module) into the module cache" >&2
export SPRED_MNIST_DIR=$(scripts/fetch-mnist.sh)

dense=$work/lenet-300-100.safetensors
if [ ! -f "$dense" ]; then
	echo "== training LeNet-300-100 for 4 epochs" >&2
	bin/spred train --model lenet-300-100 --epochs 4 --seed 1 --out "$dense"
fi

echo "== compressing it with spred" >&2
bin/spred compress --model "$dense" --lambda 4e-4 --epochs 4 --finetune-epochs 2 --seed 1 \
	--out "$work/lenet-300-100-pruned.safetensors" --report "$work/report.json" --markdown "$work/report.md" \
	--plot "$work/run.png"
echo "== report: $work/report.json and $work/report.md, plot $work/run.png; pruned model: $work/lenet-300-100-pruned.safetensors" >&2
