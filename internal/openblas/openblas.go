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

	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/par"
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

// Misdetected is the name of the kernels OpenBLAS chose for this CPU at
// first when they were a generic fallback far below what the CPU runs
// (OpenBLAS 0.3.21, Debian 12's, takes Intel's Emerald Rapids for a
// Prescott and multiplies at a fifth of the speed), in which case the
// library was loaded again with OPENBLAS_CORETYPE set to the kernels the
// CPU's features call for (see betterCore) and Core names those; empty
// otherwise.
var Misdetected string

// Error is why OpenBLAS was not loaded when SPRED_BLAS asked for it by
// name or path; nil otherwise.
var Error error

// blasThreads is the fixed number of OpenBLAS threads, whatever the machine
// and GOMAXPROCS: one. Products from splitFrom multiply-adds are split in
// halves instead (see split), which run at once on package par's workers,
// the same workers that run the loops between products. With OpenBLAS's
// own second thread, which spins between products, the two kinds of work
// took each other's CPU: on a 2-core machine resnet-20's step was no
// faster on two CPUs than on one. The rounding of a product depends on how
// it is partitioned, so the split is fixed by the shape alone: the same
// bits for any number of CPUs.
const blasThreads = 1

// splitFrom is the least number of multiply-adds (m·n·k) of a product that
// is split in halves.
const splitFrom = 1 << 21

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
	if lib.corename != nil {
		Core = strings.TrimSpace(lib.corename())
		if want := betterCore(Core, os.Getenv("OPENBLAS_CORETYPE"), cpuFeatures()); want != "" {
			first := Core
			if again, err := reloadAs(lib, want); err == nil {
				lib = again
				// The same kernels again would mean the library was not
				// unloaded: then there is no misdetection to report.
				if !strings.EqualFold(strings.TrimSpace(lib.corename()), first) {
					Misdetected = first
				}
			} else if lib, err = loadOpenBLAS([]string{lib.path}); err != nil {
				if choice != "" && choice != "auto" {
					Error = err
				}
				Core = ""
				return
			}
			Core = strings.TrimSpace(lib.corename())
		}
	}
	lib.setThreads(blasThreads)
	gorgonia.Use(openBLAS{lib: lib})
	Backend = "openblas"
}

// features are the CPU's vector extensions that decide OpenBLAS's kernels.
type features struct {
	avx2FMA bool // AVX2 and FMA, with the OS saving their registers
	avx512  bool // AVX-512 F, CD, BW, DQ and VL, likewise
}

func cpuFeatures() features {
	return features{
		avx2FMA: cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		avx512: cpu.X86.HasAVX512F && cpu.X86.HasAVX512CD && cpu.X86.HasAVX512BW &&
			cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL,
	}
}

// genericCores are OpenBLAS's kernels for x86 CPUs without AVX2, the
// fallbacks it takes for a CPU it does not know.
var genericCores = []string{"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Sandybridge",
	"Katmai", "Coppermine", "Northwood", "Banias", "Atom", "Athlon", "Opteron", "Opteron(SSE3)",
	"Barcelona", "Bobcat", "Nano"}

// betterCore is the kernels to load OpenBLAS with instead of core, the
// ones it chose, or "" to keep them: only when the user did not choose
// (coretype, OPENBLAS_CORETYPE, is empty) and core is a generic fallback
// on a CPU with AVX2 and FMA ("Haswell") or with AVX-512 ("SkylakeX", the
// kernels OpenBLAS picks for Intel's AVX-512 servers it knows). Kernels it
// chose itself are kept even where others might be faster, so that the
// rounding stays that of every other machine of the same kind.
func betterCore(core, coretype string, f features) string {
	if coretype != "" || !f.avx2FMA {
		return ""
	}
	generic := false
	for _, g := range genericCores {
		generic = generic || strings.EqualFold(core, g)
	}
	switch {
	case !generic:
		return ""
	case f.avx512:
		return "SkylakeX"
	}
	return "Haswell"
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
	split(tA, tB, m, n, k, lda, ldb, ldc, func(m, n, ao, bo, co int) {
		o.lib.sgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
			alpha, &a[ao], int32(lda), &b[bo], int32(ldb), beta, &c[co], int32(ldc))
	})
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
	split(tA, tB, m, n, k, lda, ldb, ldc, func(m, n, ao, bo, co int) {
		o.lib.dgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
			alpha, &a[ao], int32(lda), &b[bo], int32(ldb), beta, &c[co], int32(ldc))
	})
}

// split runs the row-major product C (m×n) = op(A)·op(B) as gemm calls
// of an m×n block whose A, B and C start at offsets ao, bo and co: one
// call below splitFrom multiply-adds, else two halves of C's longer side
// (rows of op(A), or columns of op(B)) on package par's workers at once.
// The halves are the same calls on one CPU or on two, so the bits do not
// depend on the CPUs; they may differ in the last place from one call of
// the whole (OpenBLAS's Haswell sgemm rounds some entries of a 64×3136×144
// product differently at n = 1568 and n = 3136).
func split(tA, tB blas.Transpose, m, n, k, lda, ldb, ldc int, gemm func(m, n, ao, bo, co int)) {
	if m*n*k < splitFrom || max(m, n) < 2 {
		gemm(m, n, 0, 0, 0)
		return
	}
	par.For(2, 1, func(h0, h1 int) {
		for h := h0; h < h1; h++ {
			if m >= n {
				r0, r1 := m*h/2, m*(h+1)/2
				ao := r0 * lda // op(A)'s row r0: a row of A, or a column of Aᵀ
				if tA != blas.NoTrans {
					ao = r0
				}
				gemm(r1-r0, n, ao, 0, r0*ldc)
				continue
			}
			c0, c1 := n*h/2, n*(h+1)/2
			bo := c0 // op(B)'s column c0: a column of B, or a row of Bᵀ
			if tB != blas.NoTrans {
				bo = c0 * ldb
			}
			gemm(m, c1-c0, 0, bo, c0)
		}
	})
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
