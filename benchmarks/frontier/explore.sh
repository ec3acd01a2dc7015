#!/usr/bin/env bash
# Explores longer spred recipes on LeNet-300-100 (issue: the compression
# frontier): one compress run per λ from the same dense model, each with a
# long cosine spred phase and masked fine-tuning. Writes one JSON report per
# run under benchmarks/results/frontier/MODEL/ and skips runs already done.
#
#   benchmarks/frontier/explore.sh [MODEL] [EPOCHS] [LAMBDAS...]
#
# Figures are final test accuracies of fixed recipes (nothing is chosen on
# the test set here).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-lenet-300-100}
epochs=${2:-40}
lambdas=("${@:3}")
[ ${#lambdas[@]} -gt 0 ] || lambdas=(2e-4 3e-4 4e-4 5e-4)
out=benchmarks/results/frontier/$model
mkdir -p "$out" bin
# shellcheck disable=SC2046
go build -o bin/spred ./cmd/spred
dense=$out/dense-seed1.safetensors
[ -f "$dense" ] || bin/spred train --model "$model" --seed 1 --out "$dense" --quiet
extra=()
[ "$model" = lenet-5 ] && extra=(--lr 0.2)
for l in "${lambdas[@]}"; do
	name=spred-l$l-e$epochs-cos-ft10-seed1
	[ -f "$out/$name.json" ] && { echo "skip $name"; continue; }
	start=$(date +%s)
	bin/spred compress --model "$dense" --lambda "$l" --epochs "$epochs" --schedule cosine \
		--finetune-epochs 10 --seed 1 "${extra[@]}" --out "$out/$name.safetensors" \
		--report "$out/$name.json" --quiet 2> "$out/$name.log"
	echo "$name: $(( $(date +%s) - start )) s"
done
