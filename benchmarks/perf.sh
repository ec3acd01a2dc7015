#!/usr/bin/env bash
# Times spred training (u⊙v on every prunable weight, SGD with momentum and
# decay, batch 100, float32) in this toolkit and in PyTorch, side by side:
# for each model, REPEATS rounds that run the Go harness and then
# benchmarks/torch_ref.py, then the medians and the ratio Go/PyTorch.
# Also the peak float32 GFLOP/s of a 2048³ matrix product on each side.
#
#   benchmarks/perf.sh [REPEATS]          (default 3; needs Debian python3-torch)
#
# Raw JSON lines go to benchmarks/results/perf/runs.jsonl, the table to
# benchmarks/results/perf/perf.md. STEPS_MLP and STEPS_CNN set the timed steps.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
steps_mlp=${STEPS_MLP:-200}
steps_cnn=${STEPS_CNN:-60}
py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
	echo "perf.sh: needs Debian's python3-torch (apt-get install python3-torch)" >&2
	exit 1
fi
out=benchmarks/results/perf
mkdir -p "$out" bin
# shellcheck disable=SC2046
go build -o bin/spred-perf ./benchmarks/perf
threads=$(nproc)
# PyTorch's OpenMP threads otherwise spin and fight on a small machine.
export OPENBLAS_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE GOMAXPROCS=$threads
runs=$out/runs.jsonl
: >"$runs"
for model in lenet-300-100 lenet-5; do
	steps=$steps_mlp
	[ "$model" = lenet-5 ] && steps=$steps_cnn
	for r in $(seq "$repeats"); do
		echo "[$model round $r/$repeats] go" >&2
		bin/spred-perf -model "$model" -steps "$steps" >>"$runs"
		echo "[$model round $r/$repeats] pytorch" >&2
		$py benchmarks/torch_ref.py --model "$model" --steps "$steps" --threads "$threads" >>"$runs"
	done
done
bin/spred-perf -gemm 2048 >>"$runs"
# Pruned inference: dense against CSR kernels, from the dense models given
# in INFER_MODELS (space-separated .safetensors files), if any.
for f in ${INFER_MODELS:-}; do
	echo "[inference $f]" >&2
	bin/spred-perf -infer "$f" >>"$runs"
done
$py benchmarks/torch_ref.py --gemm 2048 --threads "$threads" >>"$runs"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
$py - "$runs" "$threads" "$cpu" >"$out/perf.md" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
threads, cpu = sys.argv[2], sys.argv[3]
def med(model, go, key):
    v = [r[key] for r in runs if r["model"] == model and (r["impl"] == "go") == go and key in r]
    return statistics.median(v) if v else float("nan")
print(f"Machine: {threads} cores (nproc), {cpu}. Medians over the rounds of `benchmarks/perf.sh`.\n")
print("| model | Go s/epoch | PyTorch s/epoch | Go/PyTorch | Go peak RSS | PyTorch peak RSS | Go allocs/step | epoch GFLOP | Go GFLOP/s |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for m in ("lenet-300-100", "lenet-5"):
    g, t = med(m, True, "seconds_per_epoch"), med(m, False, "seconds_per_epoch")
    fl = med(m, True, "epoch_gflop")
    print(f"| {m} | {g:.2f} | {t:.2f} | **{g/t:.2f}** | {med(m, True, 'peak_rss_mb'):.0f} MB | "
          f"{med(m, False, 'peak_rss_mb'):.0f} MB | {med(m, True, 'allocs_per_step'):.0f} | {fl:.0f} | {fl/g:.1f} |")
g = next(r for r in runs if r["impl"] == "go" and r["model"].startswith("sgemm"))
t = next(r for r in runs if r["impl"] != "go" and r["model"].startswith("sgemm"))
inf = [r for r in runs if "sparsity" in r]
if inf:
    print("\nPruned inference (`spred eval`'s engine), every prunable layer pruned to the sparsity by magnitude; "
          "time per batch, best of 5, and the speed-up of CSR kernels over dense ones:\n")
    print("| model | sparsity | batch | dense | CSR | speed-up | auto picks CSR for |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for m in sorted({r["model"] for r in inf}):
        for sp in sorted({r["sparsity"] for r in inf if r["model"] == m}):
            for b in (1, 100):
                d = [r for r in inf if r["model"] == m and r["sparsity"] == sp and r["batch"] == b]
                dn = next(r for r in d if r["kernels"] == "dense")
                cs = next(r for r in d if r["kernels"] == "sparse")
                print(f"| {m} | {sp:.0%} | {b} | {dn['ms_per_batch']:.3f} ms | {cs['ms_per_batch']:.3f} ms | "
                      f"{dn['ms_per_batch']/cs['ms_per_batch']:.2f}× | {dn['auto_csr_layers']} layers |")
print(f"\nPeak float32 matrix product ({g['model']}): Go ({g['blas']}) {g['gflop_per_s']:.0f} GFLOP/s, "
      f"PyTorch {t['gflop_per_s']:.0f} GFLOP/s.")
PY
cat "$out/perf.md"
