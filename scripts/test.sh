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
go test -count=1 -timeout 30m ./...  # cmd/spred alone takes 3–7 minutes on 2 cores
# The numerical packages again on gonum's pure-Go matrix products, the
# fallback when OpenBLAS is not installed (go test ./... above uses OpenBLAS
# when it is: spred version says which).
if [ "$(SPRED_BLAS=auto go run ./cmd/spred version | awk '$1 == "blas" {print $2}')" = openblas ]; then
	# A machine with neither library: gonum's products, our own convolutions.
	SPRED_BLAS=gonum SPRED_CONV=go go test -count=1 -timeout 30m ./graph ./train ./compress ./cmd/spred
else
	echo "test.sh: OpenBLAS not installed (apt-get install libopenblas0): only gonum's matrix products were tested" >&2
fi
