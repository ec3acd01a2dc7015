#!/usr/bin/env bash
# Times spred training (u⊙v on every prunable weight, SGD with momentum and
# decay, batch 100, float32) in this toolkit and in PyTorch, side by side,
# fairly:
#   1. PyTorch's setting is calibrated per model first: threads (nproc or 1),
#      OMP_WAIT_POLICY (PASSIVE or ACTIVE) and, for the CNNs, channels-last;
#      the fastest is the reference.
#   2. REPEATS rounds alternate the Go harness (benchmarks/perf) and the
#      reference; medians and the spread (min–max) are reported.
#   3. The reference runs once more alone afterwards: when that fresh figure
#      disagrees with the rounds' median by more than 15%, the ratio is
#      rejected (perf.md says so and the script exits 3), because a reference
#      that ran slow makes a ratio worthless.
#   4. The Go side once more on gonum's pure-Go products and our own
#      convolutions (SPRED_BLAS=gonum SPRED_CONV=go, what a machine without
#      OpenBLAS and oneDNN runs). For the CNNs, each round also runs the Go
#      side on OpenBLAS with our own convolutions (SPRED_CONV=go) beside the
#      default (oneDNN's where libdnnl2 is installed).
#   5. Where OpenBLAS takes the CPU for a generic one and spred loads it again
#      with the kernels the CPU calls for (`spred version` says so), PyTorch,
#      whose dense layers use the same library, runs with OPENBLAS_CORETYPE
#      set to those kernels (unless the caller set OPENBLAS_CORETYPE).
# Also the peak float32 GFLOP/s of a 2048³ matrix product on each side.
# (Pruned inference, against ONNX Runtime: benchmarks/infer.sh.)
#
#   benchmarks/perf.sh [REPEATS]          (default 3; needs Debian python3-torch)
#
# PERF_MODELS chooses the models (default: lenet-300-100 lenet-5 resnet-20;
# resnet-20 at Fashion-MNIST's 1×28×28). Raw JSON lines go to
# benchmarks/results/perf/runs.jsonl, the table to benchmarks/results/perf/perf.md;
# PERF_NAME=NAME writes runs-NAME.jsonl and perf-NAME.md instead (for a run of
# some models, which should not replace the table of all three).
# Run it on a quiet machine: the load average at the start is recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
models=${PERF_MODELS:-lenet-300-100 lenet-5 resnet-20}
name=${PERF_NAME:+-$PERF_NAME}
if [[ ! $name =~ ^[-A-Za-z0-9_.]*$ ]]; then
	echo "perf.sh: PERF_NAME may hold letters, digits, '-', '_' and '.', got '$PERF_NAME'" >&2
	exit 2
fi
py=/usr/bin/python3
if ! $py -c 'import torch' 2>/dev/null; then
	echo "perf.sh: needs Debian's python3-torch (apt-get install python3-torch)" >&2
	exit 1
fi
out=benchmarks/results/perf
mkdir -p "$out" bin
go build -o bin/spred-perf ./benchmarks/perf
threads=$(nproc)
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
	echo "perf.sh: warning: load average $load at the start; the machine is not quiet" >&2
fi
export GOMAXPROCS=$threads
# PyTorch (Debian's) multiplies its dense layers with the same OpenBLAS. Where
# OpenBLAS takes the CPU for a generic one and spred loads it again with the
# kernels the CPU calls for, PyTorch gets those kernels too (OPENBLAS_CORETYPE),
# or the reference would be slowed by what spred works around.
torch_core="" core_first=""
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
	read -r torch_core core_first < <(bin/spred-perf -gemm 64 | $py -c 'import json,sys; r=json.load(sys.stdin); print(r.get("blas_core", "-") if r.get("blas_misdetected") else "-", r.get("blas_misdetected") or "-")')
	[ "$torch_core" = - ] && torch_core="" core_first=""
fi
if [ -n "$torch_core" ]; then
	echo "perf.sh: OpenBLAS takes this CPU for a generic one; PyTorch runs with OPENBLAS_CORETYPE=$torch_core, the kernels spred loads" >&2
fi
export PERF_TORCH_CORE=$torch_core PERF_TORCH_CORE_FIRST=$core_first
steps_for() {
	case $1 in
	lenet-300-100) echo "${STEPS_MLP:-200}" ;;
	resnet-*) echo "${STEPS_RESNET:-12}" ;;
	*) echo "${STEPS_CNN:-60}" ;;
	esac
}
# torch_run MODEL STEPS SETTING: SETTING is threads/policy/layout.
torch_run() {
	local t p l
	IFS=/ read -r t p l <<<"$3"
	local cl=()
	[ "$l" = cl ] && cl=(--channels-last)
	env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" OMP_WAIT_POLICY="$p" ${torch_core:+OPENBLAS_CORETYPE="$torch_core"} \
		$py benchmarks/torch_ref.py --model "$1" --steps "$2" --threads "$t" "${cl[@]}"
}
runs=$out/runs$name.jsonl
table=$out/perf$name.md
: >"$runs"
for model in $models; do
	steps=$(steps_for "$model")
	calib=$((steps / 3 > 3 ? steps / 3 : 3))
	layouts=(nchw)
	[ "$model" != lenet-300-100 ] && layouts=(nchw cl)
	best="" bestt=""
	for t in "$threads" 1; do
		for p in PASSIVE ACTIVE; do
			for l in "${layouts[@]}"; do
				s="$t/$p/$l"
				echo "[$model calibrate pytorch $s]" >&2
				line=$(torch_run "$model" "$calib" "$s")
				echo "$line" | $py -c 'import json,sys; r=json.load(sys.stdin); r["phase"]="calibrate"; r["setting"]=sys.argv[1]; print(json.dumps(r))' "$s" >>"$runs"
				sec=$(echo "$line" | $py -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_step"])')
				if [ -z "$bestt" ] || awk -v a="$sec" -v b="$bestt" 'BEGIN { exit !(a < b) }'; then
					best=$s bestt=$sec
				fi
			done
		done
	done
	echo "[$model] PyTorch reference setting: $best" >&2
	tag() { $py -c 'import json,sys; r=json.load(sys.stdin); r["phase"]=sys.argv[1]; r["setting"]=sys.argv[2]; print(json.dumps(r))' "$1" "$2"; }
	for r in $(seq "$repeats"); do
		echo "[$model round $r/$repeats] go" >&2
		bin/spred-perf -model "$model" -steps "$steps" | tag round go >>"$runs"
		if [ "$model" != lenet-300-100 ]; then
			echo "[$model round $r/$repeats] go, own convolutions" >&2
			SPRED_CONV=go bin/spred-perf -model "$model" -steps "$steps" | tag goconv go >>"$runs"
		fi
		echo "[$model round $r/$repeats] pytorch" >&2
		torch_run "$model" "$steps" "$best" | tag round "$best" >>"$runs"
	done
	echo "[$model] pytorch alone, fresh" >&2
	torch_run "$model" "$steps" "$best" | tag fresh "$best" >>"$runs"
	echo "[$model] go on gonum's products and its own convolutions" >&2
	SPRED_BLAS=gonum SPRED_CONV=go bin/spred-perf -model "$model" -steps "$(((steps + 2) / 3))" | tag gonum go >>"$runs"
done
bin/spred-perf -gemm 2048 | $py -c 'import json,sys; r=json.load(sys.stdin); r["phase"]="gemm"; print(json.dumps(r))' >>"$runs"
env OPENBLAS_NUM_THREADS="$threads" ${torch_core:+OPENBLAS_CORETYPE="$torch_core"} $py benchmarks/torch_ref.py --gemm 2048 --threads "$threads" | $py -c 'import json,sys; r=json.load(sys.stdin); r["phase"]="gemm"; print(json.dumps(r))' >>"$runs"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
set +e
$py benchmarks/perf_table.py "$runs" "$threads" "$cpu" "$load" "$repeats" >"$table"
verdict=$?
set -e
cat "$table"
exit $verdict
