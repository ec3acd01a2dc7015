package openblas

import (
	"math"
	"math/rand"
	"os"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestBLASBackend checks that OpenBLAS is loaded whenever it can be: a
// library that loads now but was not loaded at start is a defect of the
// loader, and SPRED_BLAS=openblas (as CI sets it) makes a failure to load
// it a test failure.
func TestBLASBackend(t *testing.T) {
	if Error != nil {
		t.Fatalf("SPRED_BLAS=%s: %v", os.Getenv("SPRED_BLAS"), Error)
	}
	switch Backend {
	case "openblas":
		if os.Getenv("SPRED_BLAS") == "gonum" {
			t.Fatal("SPRED_BLAS=gonum but OpenBLAS was loaded")
		}
	case "gonum":
		if os.Getenv("SPRED_BLAS") == "gonum" {
			return
		}
		if _, err := loadOpenBLAS(openBLASNames); err == nil {
			t.Fatal("OpenBLAS loads but was not loaded at start")
		}
		t.Skip("OpenBLAS is not installed: the gonum backend is in use")
	default:
		t.Fatalf("Backend %q", Backend)
	}
}

// TestOpenBLASGemm compares the loaded library's products with gonum's for
// every transposition, with leading dimensions wider than the matrices and
// a non-zero beta, in both precisions.
func TestOpenBLASGemm(t *testing.T) {
	o := loaded(t)
	rng := rand.New(rand.NewSource(1))
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			m, n, k := 37, 19, 53
			a64, b64, c64, lda, ldb, ldc := operands(rng, tA, tB, m, n, k, 3, 2, 5)
			want64 := append([]float64(nil), c64...)
			gonum.Implementation{}.Dgemm(tA, tB, m, n, k, 0.7, a64, lda, b64, ldb, -0.3, want64, ldc)
			got64 := append([]float64(nil), c64...)
			o.Dgemm(tA, tB, m, n, k, 0.7, a64, lda, b64, ldb, -0.3, got64, ldc)
			if d := maxDiff(got64, want64); d > 1e-12 {
				t.Errorf("dgemm %v %v: max |diff| %g", tA, tB, d)
			}
			a32, b32 := to32(a64), to32(b64)
			want32, got32 := to32(c64), to32(c64)
			gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, want32, ldc)
			o.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, got32, ldc)
			var d float64
			for i := range got32 {
				d = math.Max(d, math.Abs(float64(got32[i]-want32[i])))
			}
			if d > 1e-4 {
				t.Errorf("sgemm %v %v: max |diff| %g", tA, tB, d)
			}
			// The padding between rows of c is never written.
			for i := 0; i < m; i++ {
				for j := n; j < ldc && i*ldc+j < len(c64); j++ {
					if got64[i*ldc+j] != c64[i*ldc+j] {
						t.Fatalf("dgemm %v %v wrote c[%d][%d] outside the product", tA, tB, i, j)
					}
				}
			}
		}
	}
}

func maxDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestLoadOpenBLASErrors checks that a library that cannot be loaded, or
// one without the CBLAS functions, is an error naming it.
func TestLoadOpenBLASErrors(t *testing.T) {
	if len(openBLASNames) == 0 {
		t.Skip("OpenBLAS is not loaded on this platform")
	}
	_, err := loadOpenBLAS([]string{"/nonexistent/libopenblas.so"})
	if err == nil {
		t.Fatal("a missing library loaded")
	}
	if got := err.Error(); !strings.Contains(got, "/nonexistent/libopenblas.so") {
		t.Errorf("error %q does not name the library", got)
	}
	if _, err := loadOpenBLAS([]string{"libc.so.6"}); err == nil {
		t.Error("libc loaded as OpenBLAS")
	}
}

// TestGemmChecksLengths: a product whose slices are too short for its
// shape panics before OpenBLAS is called (OpenBLAS would write past C's
// end), as gonum's does; ones that fit exactly do not.
func TestGemmChecksLengths(t *testing.T) {
	const m, n, k = 3, 4, 5
	fits := func(tA, tB blas.Transpose) (na, lda, nb, ldb int) {
		lda, ldb = k, n
		if tA != blas.NoTrans {
			lda = m
		}
		if tB != blas.NoTrans {
			ldb = k
		}
		return m * k, lda, k * n, ldb
	}
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			na, lda, nb, ldb := fits(tA, tB)
			panics := func(na, lda, nb, ldb, nc, ldc int) (p bool) {
				defer func() { p = recover() != nil }()
				checkGemm(tA, tB, m, n, k, na, lda, nb, ldb, nc, ldc)
				return false
			}
			if panics(na, lda, nb, ldb, m*n, n) {
				t.Errorf("tA %v tB %v: a product that fits panics", tA, tB)
			}
			for i, c := range [][6]int{
				{na - 1, lda, nb, ldb, m * n, n}, {na, lda - 1, nb, ldb, m * n, n},
				{na, lda, nb - 1, ldb, m * n, n}, {na, lda, nb, ldb - 1, m * n, n},
				{na, lda, nb, ldb, m*n - 1, n}, {na, lda, nb, ldb, m * n, n - 1},
			} {
				if !panics(c[0], c[1], c[2], c[3], c[4], c[5]) {
					t.Errorf("tA %v tB %v: case %d (%v) does not panic", tA, tB, i, c)
				}
			}
		}
	}
}

// TestBetterCore checks when the loader loads OpenBLAS again with other
// kernels: only for a generic fallback on a CPU with AVX2 and FMA, and
// never when the user chose with OPENBLAS_CORETYPE.
func TestBetterCore(t *testing.T) {
	avx2 := features{avx2FMA: true}
	avx512 := features{avx2FMA: true, avx512: true}
	for _, c := range []struct {
		core, coretype string
		f              features
		want           string
	}{
		{"Prescott", "", avx512, "SkylakeX"},
		{"prescott", "", avx512, "SkylakeX"},
		{"Prescott", "", avx2, "Haswell"},
		{"Nehalem", "", avx2, "Haswell"},
		{"Sandybridge", "", avx512, "SkylakeX"},
		{"Prescott", "", features{}, ""},
		{"Prescott", "Prescott", avx512, ""},
		{"Prescott", "Haswell", avx512, ""},
		{"Haswell", "", avx512, ""},
		{"Zen", "", avx2, ""},
		{"SkylakeX", "", avx512, ""},
		{"Cooperlake", "", avx512, ""},
		{"", "", avx512, ""},
	} {
		if got := betterCore(c.core, c.coretype, c.f); got != c.want {
			t.Errorf("betterCore(%q, %q, %+v) = %q, want %q", c.core, c.coretype, c.f, got, c.want)
		}
	}
}

// TestCoreMatchesCPU checks that the kernels in use are not a generic
// fallback on a CPU with AVX2 (OpenBLAS 0.3.21 takes some newer Intel
// CPUs for a Prescott) unless the user chose them, and that a library
// loaded again says so.
func TestCoreMatchesCPU(t *testing.T) {
	if Backend != "openblas" || Core == "" {
		t.Skip("OpenBLAS not loaded or does not name its kernels")
	}
	if want := betterCore(Core, os.Getenv("OPENBLAS_CORETYPE"), cpuFeatures()); want != "" {
		t.Fatalf("OpenBLAS runs its %s kernels on a CPU with AVX2 (%+v); want %s", Core, cpuFeatures(), want)
	}
	if Misdetected != "" && betterCore(Misdetected, "", cpuFeatures()) != Core {
		t.Errorf("loaded again with %s kernels after %s, want %s", Core, Misdetected, betterCore(Misdetected, "", cpuFeatures()))
	}
	if v, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok && Misdetected != "" {
		t.Errorf("OPENBLAS_CORETYPE=%q left set by the loader", v)
	}
}

// TestSplitGemm checks that a product split in halves (from splitFrom
// multiply-adds, along C's longer side) gives the same bits on one CPU and
// on two, within rounding of one OpenBLAS call of the whole, for every
// transposition, odd sizes and leading dimensions wider than the matrices,
// in both precisions, and writes nothing between C's rows.
func TestSplitGemm(t *testing.T) {
	o := loaded(t)
	lib := o.lib
	rng := rand.New(rand.NewSource(3))
	for _, sh := range [][3]int{{64, 3136, 144}, {3136, 40, 50}, {33, 1001, 97}, {1001, 33, 97}} {
		m, n, k := sh[0], sh[1], sh[2]
		if m*n*k < splitFrom {
			t.Fatalf("%v is below splitFrom", sh)
		}
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				a, b, c, lda, ldb, ldc := operands(rng, tA, tB, m, n, k, 3, 1, 2)
				want := append([]float64(nil), c...)
				lib.dgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
					0.7, &a[0], int32(lda), &b[0], int32(ldb), -0.3, &want[0], int32(ldc))
				a32, b32, c32 := to32(a), to32(b), to32(c)
				want32 := append([]float32(nil), c32...)
				lib.sgemm(cblasRowMajor, cblasTrans(tA), cblasTrans(tB), int32(m), int32(n), int32(k),
					0.7, &a32[0], int32(lda), &b32[0], int32(ldb), -0.3, &want32[0], int32(ldc))
				var first []float64
				var first32 []float32
				for _, procs := range []int{1, 2} {
					old := runtime.GOMAXPROCS(procs)
					got := append([]float64(nil), c...)
					o.Dgemm(tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, got, ldc)
					got32 := append([]float32(nil), c32...)
					o.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, got32, ldc)
					runtime.GOMAXPROCS(old)
					for i := range got {
						if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
							t.Fatalf("dgemm %v %v %v on %d CPUs: entry %d is %v, one call gives %v", sh, tA, tB, procs, i, got[i], want[i])
						}
						if math.Abs(float64(got32[i]-want32[i])) > 1e-4*(1+math.Abs(float64(want32[i]))) {
							t.Fatalf("sgemm %v %v %v on %d CPUs: entry %d is %v, one call gives %v", sh, tA, tB, procs, i, got32[i], want32[i])
						}
						if i%ldc >= n && (got[i] != c[i] || got32[i] != c32[i]) {
							t.Fatalf("%v %v %v on %d CPUs: wrote c[%d][%d] outside the product", sh, tA, tB, procs, i/ldc, i%ldc)
						}
					}
					if first == nil {
						first, first32 = got, got32
						continue
					}
					for i := range got {
						if got[i] != first[i] || got32[i] != first32[i] {
							t.Fatalf("%v %v %v: entry %d differs between one CPU and two", sh, tA, tB, i)
						}
					}
				}
			}
		}
	}
}

// loaded is the library loaded again for a test, which it skips when
// OpenBLAS is not in use.
func loaded(t *testing.T) openBLAS {
	t.Helper()
	if Backend != "openblas" {
		t.Skip("OpenBLAS not loaded")
	}
	lib, err := loadOpenBLAS(openBLASNames)
	if err != nil {
		t.Fatal(err)
	}
	return openBLAS{lib: lib}
}

// operands draws the row-major operands of an m×n×k product with A and B
// transposed as tA and tB say, each leading dimension wider than its
// matrix by the given padding.
func operands(rng *rand.Rand, tA, tB blas.Transpose, m, n, k, padA, padB, padC int) (a, b, c []float64, lda, ldb, ldc int) {
	ra, ca := m, k
	if tA == blas.Trans {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB == blas.Trans {
		rb, cb = n, k
	}
	lda, ldb, ldc = ca+padA, cb+padB, n+padC
	a, b, c = make([]float64, ra*lda), make([]float64, rb*ldb), make([]float64, m*ldc)
	for _, s := range [][]float64{a, b, c} {
		for i := range s {
			s[i] = rng.NormFloat64()
		}
	}
	return a, b, c, lda, ldb, ldc
}

func to32(s []float64) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(v)
	}
	return r
}
