#!/usr/bin/env bash
# Checks `spred compress --target-ratio` on real data: a LeNet-300-100
# trained for 2 epochs on MNIST, compressed with --target-ratio 20 under a
# 4-epoch budget, must land within 15% of 20× ([17×, 23×]). It prints the
# ratio reached, the λ schedule and the accuracies, and exits 1 outside.
#
# Usage: benchmarks/target/check.sh [WORKDIR] (default: a temporary folder;
# the trained model there is reused when it exists). The MNIST files come
# from $SPRED_MNIST_DIR, else scripts/fetch-mnist.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
export SPRED_MNIST_DIR=${SPRED_MNIST_DIR:-$(scripts/fetch-mnist.sh)}
go build -o bin/spred ./cmd/spred
dense=$work/lenet-300-100-e2.safetensors
if [ ! -f "$dense" ]; then
	bin/spred train --model lenet-300-100 --epochs 2 --out "$dense" --quiet
fi
bin/spred compress --model "$dense" --target-ratio 20 --epochs 4 \
	--out "$work/lenet-300-100-r20.safetensors" --report "$work/r20.json" --markdown "$work/r20.md" --quiet
/usr/bin/python3 - "$work/r20.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t, acc = r["target"], r["accuracy"]
ratio = t["reached"]
print(f"asked {t['ratio']}x, reached {ratio:.2f}x; lambda from {t['lambda_start']:g} x{t['growth']:.4g} "
      f"every {t['every_steps']} steps, {t['raises']} raises and {t['lowers']} lowers to {t['lambda']:.4g}, first held at epoch {t.get('held_epoch', 0)} "
      f"step {t.get('held_step', 0)}; final tau {t['threshold']:.4g}")
print("test accuracy: dense {:.2%}, trained {:.2%}, thresholded {:.2%}, fine-tuned {:.2%}".format(
    acc["dense"], acc["trained"], acc["thresholded"], acc["finetuned"]))
sys.exit(0 if 17 <= ratio <= 23 else 1)
PY
