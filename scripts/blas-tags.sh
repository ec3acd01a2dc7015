#!/usr/bin/env bash
# Prints the go build flags that select the fastest matrix products this
# machine can build: "-tags openblas" when cgo and Debian's OpenBLAS
# (apt-get install libopenblas-dev) are there, nothing otherwise (gonum's
# pure-Go BLAS). Usage: go build $(scripts/blas-tags.sh) ./cmd/spred
set -euo pipefail
if [ "${SPRED_BLAS:-auto}" = gonum ]; then exit 0; fi
if [ "$(go env CGO_ENABLED)" = 1 ] && command -v gcc >/dev/null &&
	printf '#include <cblas.h>\nint main(void){float a=1;cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1,&a,1,&a,1,0,&a,1);return 0;}\n' |
	gcc -x c - -o /dev/null -lopenblas 2>/dev/null; then
	echo "-tags openblas"
elif [ "${SPRED_BLAS:-auto}" = openblas ]; then
	echo "SPRED_BLAS=openblas but cgo, gcc or libopenblas-dev is missing" >&2
	exit 1
fi
