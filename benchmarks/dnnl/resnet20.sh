#!/usr/bin/env bash
# Times oneDNN's convolutions over every convolution of one resnet-20
# training step (batch 100, 1×28×28 input: Fashion-MNIST's), forward and
# both backward passes, in the three layouts of probe.c, and prints the
# sum per layout with the multiplicities of the network (the first
# convolution's input gradient is not needed and not counted), the median
# of ROUNDS rounds. Needs gcc and Debian's libdnnl-dev; run on a quiet
# machine.
#
#   benchmarks/dnnl/resnet20.sh [THREADS [ROUNDS]]     (default 2 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bin
gcc -O2 -Wall benchmarks/dnnl/probe.c -o bin/dnnl-probe -ldnnl
threads=${1:-2}
rounds=${2:-3}
# count (forward and weight gradient), count of the input gradient, N C H W K R STRIDE PAD
shapes="1 0 100 1 28 28 16 3 1 1
6 6 100 16 28 28 16 3 1 1
1 1 100 16 28 28 32 3 2 1
1 1 100 16 28 28 32 1 2 0
5 5 100 32 14 14 32 3 1 1
1 1 100 32 14 14 64 3 2 1
1 1 100 32 14 14 64 1 2 0
5 5 100 64 7 7 64 3 1 1"
for r in $(seq "$rounds"); do
	while read -r count dcount shape; do
		# shellcheck disable=SC2086
		OMP_NUM_THREADS=$threads bin/dnnl-probe $shape | sed "s/^{/{\"round\":$r,\"count\":$count,\"dcount\":$dcount,/"
	done <<<"$shapes"
done | /usr/bin/python3 -c '
import json, statistics, sys
tot = {}
for line in sys.stdin:
    d = json.loads(line)
    t = tot.setdefault(d["layout"], {}).setdefault(d["round"], [0.0, 0.0, 0.0])
    for i, (k, c) in enumerate((("forward_ms", "count"), ("backward_data_ms", "dcount"), ("backward_weights_ms", "count"))):
        t[i] += d[c] * d[k]
    if d["round"] == 1:
        print(d["layout"], d["shape"], "x%d" % d["count"], d["forward_impl"], d["backward_data_impl"], d["backward_weights_impl"])
for lay, rs in tot.items():
    med = [statistics.median(r[i] for r in rs.values()) for i in range(3)]
    alls = sorted(sum(r) for r in rs.values())
    print("%-10s forward %.1f ms  input gradient %.1f ms  weight gradient %.1f ms  all %.1f ms a step (rounds %s)" % (
        lay, med[0], med[1], med[2], statistics.median(alls), ", ".join("%.1f" % a for a in alls)))
'
