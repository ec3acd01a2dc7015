//go:build openblas && cgo

package graph

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// openBLAS routes the matrix products, which dominate training time, to
// the system's OpenBLAS (Debian's libopenblas-dev); every other BLAS
// routine stays with gonum's pure-Go implementation.
type openBLAS struct{ gonum.Implementation }

// OpenBLAS runs single-threaded: its own worker threads spin while the Go
// code between two products runs and take the CPU from it. Large products
// are split in two halves (rows or columns of the result) computed on two
// goroutines instead, always the same two halves, so that the result does
// not depend on GOMAXPROCS.
func init() {
	C.openblas_set_num_threads(1)
	gorgonia.Use(openBLAS{})
}

// splitWork is the number of multiply-adds above which a product is split.
const splitWork = 1 << 18

// BLASBackend names the implementation of the matrix products.
const BLASBackend = "openblas"

func trans(t blas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == blas.NoTrans {
		return C.CblasNoTrans
	}
	return C.CblasTrans
}

func (openBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || len(a) == 0 || len(b) == 0 {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m*n*k >= splitWork && max(m, n) >= 2 {
		split(m, n, func(i0, i1, j0, j1 int) {
			sgemm(tA, tB, i1-i0, j1-j0, k, alpha, a[offA(tA, i0, lda):], lda, b[offB(tB, j0, ldb):], ldb, beta, c[i0*ldc+j0:], ldc)
		})
		return
	}
	sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func (openBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || len(a) == 0 || len(b) == 0 {
		gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m*n*k >= splitWork && max(m, n) >= 2 {
		split(m, n, func(i0, i1, j0, j1 int) {
			dgemm(tA, tB, i1-i0, j1-j0, k, alpha, a[offA(tA, i0, lda):], lda, b[offB(tB, j0, ldb):], ldb, beta, c[i0*ldc+j0:], ldc)
		})
		return
	}
	dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	C.cblas_dgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.double)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// split runs f on the two halves of an m×n result, halving the longer side,
// concurrently when more than one CPU is available. The halves are the
// same either way: OpenBLAS's rounding depends on where a block falls in
// the product, so the partition must not depend on GOMAXPROCS.
func split(m, n int, f func(i0, i1, j0, j1 int)) {
	if runtime.GOMAXPROCS(0) == 1 {
		if m >= n {
			f(0, m/2, 0, n)
			f(m/2, m, 0, n)
		} else {
			f(0, m, 0, n/2)
			f(0, m, n/2, n)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	if m >= n {
		go func() { defer wg.Done(); f(m/2, m, 0, n) }()
		f(0, m/2, 0, n)
	} else {
		go func() { defer wg.Done(); f(0, m, n/2, n) }()
		f(0, m, 0, n/2)
	}
	wg.Wait()
}

// offA is the offset of row i of op(A); offB that of column j of op(B).
func offA(t blas.Transpose, i, lda int) int {
	if t == blas.NoTrans {
		return i * lda
	}
	return i
}

func offB(t blas.Transpose, j, ldb int) int {
	if t == blas.NoTrans {
		return j
	}
	return j * ldb
}
