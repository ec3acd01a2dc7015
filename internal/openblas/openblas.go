// Package openblas loads the system's OpenBLAS shared library at start,
// without cgo (dlopen through purego), and makes Gorgonia, and through it
// every matrix product of this module (package graph's training graphs and
// internal/kernels' inference), use its Sgemm and Dgemm. Importing it, even
// only for its side effect, is enough; package graph re-exports what it
// found (graph.BLASBackend, BLASCore, BLASError).
package openblas

import (
	"os"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// Backend names the implementation of the matrix products, which
// dominate training time: "openblas" when the system's OpenBLAS shared
// library (Debian's libopenblas0) was found and loaded at start, "gonum"
// (gonum's pure-Go BLAS) otherwise. It is set once, before main runs.
//
// The environment variable SPRED_BLAS chooses: unset or "auto" loads
// OpenBLAS when it is installed; "gonum" never loads it; "openblas"
// requires it (Error says why it could not be loaded); any other value
// is the path of the shared library to load.
var Backend = "gonum"

// Core is the name of the kernels OpenBLAS chose for this CPU at load
// (such as "Haswell", "Zen" or "SkylakeX"; the environment variable
// OPENBLAS_CORETYPE, read by OpenBLAS itself, chooses instead), empty
// with gonum or when the library does not say. The products' rounding
// depends on it: the same seed gives the same bytes on machines whose
// OpenBLAS runs the same kernels (Haswell's and Zen's agree, AVX-512
// SkylakeX's differ from them in float64).
var Core string

// Error is why OpenBLAS was not loaded when SPRED_BLAS asked for it by
// name or path; nil otherwise.
var Error error

// blasThreads is the fixed number of OpenBLAS threads, whatever the machine
// and GOMAXPROCS: its rounding depends on how a product is partitioned
// among threads, so a fixed count keeps results the same everywhere.
// (Splitting products in halves on two goroutines over a single-threaded
// OpenBLAS instead was measured too: 15% faster for LeNet-5, whose Go
// loops between products OpenBLAS's spinning threads slow down, but 25%
// slower for LeNet-300-100.)
const blasThreads = 2

func init() {
	choice := os.Getenv("SPRED_BLAS")
	var paths []string
	switch choice {
	case "", "auto", "openblas":
		paths = openBLASNames
	case "gonum":
		return
	default:
		paths = []string{choice}
	}
	lib, err := loadOpenBLAS(paths)
	if err != nil {
		if choice != "" && choice != "auto" {
			Error = err
		}
		return
	}
	lib.setThreads(blasThreads)
	if lib.corename != nil {
		Core = strings.TrimSpace(lib.corename())
	}
	gorgonia.Use(openBLAS{lib: lib})
	Backend = "openblas"
}

// openBLAS routes the matrix products to the system's OpenBLAS; every
// other BLAS routine stays with gonum's pure-Go implementation.
type openBLAS struct {
	gonum.Implementation
	lib *cblas
}

func (o openBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || len(a) == 0 || len(b) == 0 {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	o.lib.sgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

func (o openBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || len(a) == 0 || len(b) == 0 {
		gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	o.lib.dgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

// The CBLAS enumeration values (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTransV   = 112
)

func cblasTrans(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	return cblasTransV
}
