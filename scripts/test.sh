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
