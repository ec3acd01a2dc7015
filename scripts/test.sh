#!/usr/bin/env bash
# Runs every check a change must pass: formatting, go vet, and the tests
# (which use the real MNIST files: scripts/fetch-mnist.sh puts them in the Go
# module cache, and the tests find them there).
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" $unformatted >&2
	exit 1
fi
go vet ./...
export SPRED_MNIST_DIR="${SPRED_MNIST_DIR:-$(scripts/fetch-mnist.sh)}"
go test -count=1 ./...
# The same numerical packages again with OpenBLAS's matrix products, when
# this machine can build them (scripts/blas-tags.sh).
tags=$(scripts/blas-tags.sh)
if [ -n "$tags" ]; then
	# shellcheck disable=SC2086
	go vet $tags ./graph ./benchmarks/perf
	# shellcheck disable=SC2086
	go test -count=1 $tags ./graph ./train ./compress ./cmd/spred
else
	echo "test.sh: OpenBLAS not available (apt-get install libopenblas-dev): only the pure-Go build was tested" >&2
fi
