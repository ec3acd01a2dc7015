package kernels

import (
	"math"
	"math/rand"
	"runtime"
	"testing"
)

// TestPool22MatchesGeneral checks the unrolled 2×2 max-pooling against the
// general loop, values bit for bit and argmaxes, on data with ties (zeros
// of both signs among them), infinities and NaNs (odd sizes drop the last
// row and column in both).
func TestPool22MatchesGeneral(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	in := []int{2, 3, 7, 6}
	x := make([]float32, in[0]*in[1]*in[2]*in[3])
	for i := range x {
		switch rng.Intn(9) {
		case 0:
			x[i] = float32(math.NaN())
		case 1:
			x[i] = 1 // ties
		case 2:
			x[i] = float32(math.Copysign(0, -1)) // ties with +0 of another sign
		case 3:
			x[i] = 0
		case 4:
			x[i] = float32(math.Inf(2*rng.Intn(2) - 1))
		default:
			x[i] = float32(rng.NormFloat64())
		}
	}
	n := in[0] * in[1] * (in[2] / 2) * (in[3] / 2)
	y1, y2 := make([]float32, n), make([]float32, n)
	a1, a2 := make([]int32, n), make([]int32, n)
	pool22(in[2], in[3], in[0]*in[1], x, y1, a1)
	poolAny(2, 2, in[0]*in[1], in[2], in[3], x, y2, a2)
	for i := range y1 {
		if a1[i] != a2[i] || math.Float32bits(y1[i]) != math.Float32bits(y2[i]) {
			t.Fatalf("output %d: unrolled %v at %d, general %v at %d", i, y1[i], a1[i], y2[i], a2[i])
		}
	}
}

// TestPool22Planes checks pool22 against the general loop on planes of
// every width from 2 to 41 (so every count of windows a row, full blocks of
// eight and the masked tails) and a few heights: planes without a NaN (the
// AVX2 loop where the CPU has one) and with one NaN (the plain loop),
// values from a small set so that windows hold ties, zeros of both signs
// and infinities. Values and argmaxes must agree bit for bit, and nothing
// past the outputs may be written.
func TestPool22Planes(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	set := []float32{1, 0, float32(math.Copysign(0, -1)), -1, 2, float32(math.Inf(1)), float32(math.Inf(-1))}
	const guard = 16
	for w := 2; w <= 41; w++ {
		for _, h := range []int{2, 3, 6} {
			planes := 5
			x := make([]float32, planes*h*w)
			for i := range x {
				if rng.Intn(3) == 0 {
					x[i] = float32(rng.NormFloat64())
				} else {
					x[i] = set[rng.Intn(len(set))]
				}
			}
			x[2*h*w+rng.Intn(h*w)] = float32(math.NaN()) // plane 2 holds a NaN (it may fall outside every window)
			n := planes * (h / 2) * (w / 2)
			y1, y2 := make([]float32, n+guard), make([]float32, n)
			a1, a2 := make([]int32, n+guard), make([]int32, n)
			for i := n; i < n+guard; i++ {
				y1[i], a1[i] = 7, 7
			}
			pool22(h, w, planes, x, y1[:n], a1[:n])
			poolAny(2, 2, planes, h, w, x, y2, a2)
			for i := range y2 {
				if a1[i] != a2[i] || math.Float32bits(y1[i]) != math.Float32bits(y2[i]) {
					t.Fatalf("%d×%d, output %d: unrolled %v at %d, general %v at %d", h, w, i, y1[i], a1[i], y2[i], a2[i])
				}
			}
			for i := n; i < n+guard; i++ {
				if y1[i] != 7 || a1[i] != 7 {
					t.Fatalf("%d×%d: written past the outputs at %d", h, w, i)
				}
			}
		}
	}
}

// TestPool22Values checks the maxima-only 2×2 pooling against MaxPool's
// values on data with NaNs (whole windows of them too), ties, infinities
// and zeros of both signs: bit for bit, except that a window of zeros may
// give +0 where MaxPool gives −0.
func TestPool22Values(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	special := []float32{float32(math.NaN()), 1, 0, float32(math.Copysign(0, -1)), float32(math.Inf(-1)), float32(math.Inf(1))}
	h, w, planes := 6, 9, 40
	x := make([]float32, planes*h*w)
	for i := range x {
		if k := rng.Intn(2 * len(special)); k < len(special) {
			x[i] = special[k]
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	for i := 0; i < 2; i++ { // one window of NaNs only
		x[i], x[w+i] = float32(math.NaN()), float32(math.NaN())
	}
	n := planes * (h / 2) * (w / 2)
	want, got := make([]float32, n), make([]float32, n)
	pool22(h, w, planes, x, want, make([]int32, n))
	Pool22Values(h, w, planes, x, got)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] == 0 && want[i] == 0) {
			t.Fatalf("output %d: %v, MaxPool gives %v", i, got[i], want[i])
		}
	}
	if got[0] == got[0] {
		t.Fatalf("the window of NaNs gives %v", got[0])
	}
}

// TestCSRProducts checks both sparse products against the dense product on
// random matrices of several densities (including empty rows and a zero
// matrix).
func TestCSRProducts(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range []struct {
		density float64
		n       int
	}{{0, 5}, {0.05, 5}, {0.5, 5}, {1, 5}, {0, 1}, {0.3, 1}, {0.7, 1}, {1, 1}} {
		density, n := c.density, c.n
		const rows, cols = 11, 13 // rows: not a multiple of the four rows mulVec sums at a time
		a := make([]float64, rows*cols)
		for i := range a {
			if rng.Float64() < density {
				a[i] = rng.NormFloat64()
			}
		}
		m := NewCSR(a, rows, cols)
		nnz := 0
		for _, v := range a {
			if v != 0 {
				nnz++
			}
		}
		if m.NNZ() != nnz {
			t.Fatalf("density %v: %d stored, %d non-zero", density, m.NNZ(), nnz)
		}
		b := make([]float64, cols*n)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		x := make([]float64, n*rows)
		for i := range x {
			if rng.Intn(3) > 0 {
				x[i] = rng.NormFloat64()
			}
		}
		want1, got1 := make([]float64, rows*n), make([]float64, rows*n)
		Gemm(false, false, rows, n, cols, 1, a, cols, b, n, 0, want1, n)
		m.MulDense(b, n, got1)
		if n == 1 {
			// The one-column product rounds as every column of a wider one.
			b2, got2 := make([]float64, cols*2), make([]float64, rows*2)
			for j := range cols {
				b2[2*j], b2[2*j+1] = b[j], -b[j]
			}
			m.MulDense(b2, 2, got2)
			for i := range rows {
				if got1[i] != got2[2*i] {
					t.Fatalf("density %v: one column [%d] %v, first of two %v", density, i, got1[i], got2[2*i])
				}
			}
		}
		want2, got2 := make([]float64, n*cols), make([]float64, n*cols)
		Gemm(false, false, n, cols, rows, 1, x, rows, a, cols, 0, want2, cols)
		m.DenseMul(x, n, got2)
		for name, pair := range map[string][2][]float64{"MulDense": {got1, want1}, "DenseMul": {got2, want2}} {
			for i := range pair[0] {
				if math.Abs(pair[0][i]-pair[1][i]) > 1e-12 {
					t.Fatalf("density %v %s[%d]: %v, dense product %v", density, name, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
}

// TestTranspose: every entry lands at its transposed place, for shapes
// smaller than, equal to and not a multiple of the tile.
func TestTranspose(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, avx := range simdLoops(t) {
		hasAVX2 = avx
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			for _, sh := range [][2]int{{1, 1}, {1, 7}, {5, 1}, {8, 8}, {9, 17}, {32, 32}, {33, 65}, {100, 784}, {300, 100}, {200, 7}} {
				rows, cols := sh[0], sh[1]
				a := make([]float32, rows*cols)
				for i := range a {
					a[i] = float32(i)
				}
				tr := make([]float32, len(a))
				Transpose(tr, a, rows, cols)
				a64, tr64 := float64s(a), make([]float64, len(a))
				Transpose(tr64, a64, rows, cols)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if tr[j*rows+i] != a[i*cols+j] || tr64[j*rows+i] != a64[i*cols+j] {
							t.Fatalf("AVX2 %v, %d CPUs, %d×%d: t[%d,%d] = %v (float64 %v), want %v", avx, procs, rows, cols, j, i, tr[j*rows+i], tr64[j*rows+i], a[i*cols+j])
						}
					}
				}
			}
		}
	}
}

// float64s widens a float32 slice.
func float64s(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// TestCSRMulDense32 checks the float32 CSR product bit for bit against the
// plain loop (each row cleared, then every entry's scaled row of b added
// in order), on widths around the AVX2 blocks' and with empty rows, on
// every loop the CPU has.
func TestCSRMulDense32(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const rows, cols = 9, 23
	a := make([]float32, rows*cols)
	for i := range a {
		if i/cols != 4 && rng.Float64() < 0.3 { // row 4 stays empty
			a[i] = float32(rng.NormFloat64())
		}
	}
	m := NewCSR(a, rows, cols)
	loops := simdLoops(t)
	for _, avx := range loops {
		hasAVX2 = avx
		for _, n := range []int{1, 7, 8, 9, 40, 63, 64, 65, 100, 131, 200} {
			b := randSlice(cols * n)
			want := make([]float32, rows*n)
			for i := range rows {
				for j := range cols {
					if v := a[i*cols+j]; v != 0 {
						for q := range n {
							want[i*n+q] += v * b[j*n+q]
						}
					}
				}
			}
			got := randSlice(rows * n) // stale values must not survive
			m.MulDense(b, n, got)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("AVX2 %v, n %d: c[%d] = %v, want %v", avx, n, i, got[i], want[i])
				}
			}
		}
	}
}

// simdLoops is the loops a test runs through: false (plain Go), and true
// where the CPU has AVX2; the test sets hasAVX2 to each, and it is put
// back when the test ends.
func simdLoops(t *testing.T) []bool {
	v := hasAVX2
	t.Cleanup(func() { hasAVX2 = v })
	if v {
		return []bool{false, true}
	}
	return []bool{false}
}
