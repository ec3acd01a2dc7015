// Package openblas loads the system's OpenBLAS shared library at start,
// without cgo (dlopen through purego), and makes Gorgonia, and through it
// every matrix product of this module (package graph's training graphs and
// internal/kernels' inference), use its Sgemm and Dgemm. Importing it, even
// only for its side effect, is enough; package graph re-exports what it
// found (graph.BLASBackend, BLASCore, BLASError).
package openblas

import (
	"fmt"
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
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
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
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	o.lib.dgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
		alpha, &a[0], int32(lda), &b[0], int32(ldb), beta, &c[0], int32(ldc))
}

// checkGemm panics, as gonum's products do, when a row-major product of
// an m×k by a k×n matrix (each transposed as tA, tB say) would read or
// write past its slices or has a leading dimension too short: OpenBLAS
// checks neither, and writes past c's end where gonum stops.
func checkGemm(tA, tB blas.Transpose, m, n, k, na, lda, nb, ldb, nc, ldc int) {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("openblas: gemm of %d×%d by %d×%d", m, k, k, n))
	case lda < max(1, ac) || na < lda*(ar-1)+ac:
		panic(fmt.Sprintf("openblas: gemm's A is %d×%d with lda %d in %d values", ar, ac, lda, na))
	case ldb < max(1, bc) || nb < ldb*(br-1)+bc:
		panic(fmt.Sprintf("openblas: gemm's B is %d×%d with ldb %d in %d values", br, bc, ldb, nb))
	case ldc < max(1, n) || nc < ldc*(m-1)+n:
		panic(fmt.Sprintf("openblas: gemm's C is %d×%d with ldc %d in %d values", m, n, ldc, nc))
	}
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
