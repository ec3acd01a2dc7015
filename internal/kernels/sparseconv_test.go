package kernels

import (
	"math"
	"math/rand"
	"runtime"
	"testing"
)

// naiveConv is a grouped convolution from the column matrix of
// naiveIm2Col: y[b,f,o] = bias[f] + Σ w[f,r]·cols[group(f)·rows+r, b,o].
func naiveConv(g Conv, groups int, x, w, bias []float64) []float64 {
	cols := naiveIm2Col(g, x)
	fg, rows, plane := g.Filters/groups, g.Rows()/groups, g.OH*g.OW
	y := make([]float64, g.Batch*g.Filters*plane)
	for b := 0; b < g.Batch; b++ {
		for f := 0; f < g.Filters; f++ {
			for o := 0; o < plane; o++ {
				var sum float64
				if bias != nil {
					sum = bias[f]
				}
				for r := 0; r < rows; r++ {
					sum += w[f*rows+r] * cols[(f/fg*rows+r)*g.Cols()+b*plane+o]
				}
				y[(b*g.Filters+f)*plane+o] = sum
			}
		}
	}
	return y
}

// TestSparseConv checks the direct sparse convolution against its
// definition for strides 1 to 3, kernels 1 to 5, symmetric, one-sided and
// no padding (the input read in place), groups, without bias, on weights
// that are mostly zero, with 1 and 2 CPUs, with and without the relu, on
// batches that Forward sums in one run of images, in several, and with a
// shorter last run.
func TestSparseConv(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, c := range []struct {
		b, ch, h, w, f, k, s, groups int
		pads                         [4]int
		bias                         bool
	}{
		{2, 3, 6, 6, 4, 3, 1, 1, [4]int{1, 1, 1, 1}, true},
		{2, 3, 7, 7, 4, 3, 2, 1, [4]int{1, 1, 1, 1}, true},
		{3, 4, 8, 8, 6, 1, 2, 1, [4]int{0, 0, 0, 0}, false},
		{2, 2, 12, 12, 3, 5, 1, 1, [4]int{0, 0, 0, 0}, true}, // read in place
		{1, 4, 6, 5, 4, 3, 1, 4, [4]int{1, 1, 1, 1}, true},   // depthwise
		{2, 4, 6, 6, 6, 3, 1, 2, [4]int{0, 1, 2, 0}, false},
		{1, 2, 9, 10, 3, 5, 3, 1, [4]int{2, 2, 2, 2}, true},
		{2, 2, 5, 5, 2, 1, 1, 1, [4]int{0, 0, 0, 0}, true},
		{37, 2, 6, 6, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, true},   // runs of 16, 16 and 5 images
		{70, 2, 9, 9, 3, 3, 2, 1, [4]int{1, 1, 1, 1}, false},  // runs of 28, 28 and 14
		{9, 2, 12, 12, 3, 5, 1, 1, [4]int{0, 0, 0, 0}, false}, // in place: one image a run
	} {
		g := NewConvPads(c.b, c.ch, c.h, c.w, c.f, c.k, c.s, c.pads)
		x := make([]float64, c.b*c.ch*c.h*c.w)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		w := make([]float64, c.f*c.ch/c.groups*c.k*c.k)
		for i := range w {
			if rng.Float64() < 0.3 {
				w[i] = rng.NormFloat64()
			}
		}
		var bias []float64
		if c.bias {
			bias = make([]float64, c.f)
			for i := range bias {
				bias[i] = rng.NormFloat64()
			}
		}
		want := naiveConv(g, c.groups, x, w, bias)
		s := NewSparseConv(g, c.groups, f32(w))
		if s.NNZ() != nonZeros(w) {
			t.Fatalf("%v: %d non-zeros kept, want %d", g, s.NNZ(), nonZeros(w))
		}
		for _, procs := range []int{1, 2} {
			for _, relu := range []bool{false, true} {
				old := runtime.GOMAXPROCS(procs)
				y := make([]float32, len(want))
				for i := range y {
					y[i] = 99 // every output must be written
				}
				s.Forward(c.b, f32(x), f32(bias), relu, y, make([]float32, s.Scratch(c.b)))
				runtime.GOMAXPROCS(old)
				for i, v := range want {
					if relu {
						v = max(v, 0)
					}
					if math.Abs(float64(y[i])-v) > 1e-4*(1+math.Abs(v)) {
						t.Fatalf("%v groups %d, %d CPUs, relu %v: y[%d] = %v, want %v", g, c.groups, procs, relu, i, y[i], v)
					}
				}
			}
		}
	}
}

func f32(v []float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func nonZeros(v []float64) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}

// TestAxpy checks both loops of Axpy against the definition, on lengths
// around the switch between them.
func TestAxpy(t *testing.T) {
	loops := simdLoops(t)
	for _, avx := range loops {
		hasAVX2 = avx
		for _, n := range []int{0, 1, axpyMin - 1, axpyMin, 17, 31, 32, 33, 37, 40, 64, 100, 131} {
			for _, a := range []float32{-1.5, 0.3} {
				x, y := randSlice(n), randSlice(n+3)
				want := append([]float32(nil), y...)
				for i := range x {
					want[i] += a * x[i]
				}
				Axpy(a, x, y)
				for i := range want {
					if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
						t.Fatalf("AVX2 %v, n %d, a %v: y[%d] = %v, want %v", avx, n, a, i, y[i], want[i])
					}
				}
			}
		}
	}
	if hasAVX2 {
		// The 8-wide loop is the plain loop's arithmetic for every a: 0·∞ is NaN.
		x, y := randSlice(40), make([]float32, 40)
		x[9] = float32(math.Inf(1))
		Axpy(0, x, y)
		if !math.IsNaN(float64(y[9])) || y[8] != 0 {
			t.Fatalf("a = 0, x[9] = +Inf: y[8], y[9] = %v, %v, want 0, NaN", y[8], y[9])
		}
	}
}

// TestBiasOut checks BiasOut and ReLU against their definitions, on
// lengths around the unrolled loop's and on the special values.
func TestBiasOut(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	for _, v := range special {
		want := v
		if v <= 0 {
			want = 0
		}
		if got := ReLU(v); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("ReLU(%v) = %v, want %v", v, got, want)
		}
	}
	if got := ReLU(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Errorf("ReLU(NaN) = %v, want NaN", got)
	}
	loops := simdLoops(t)
	negNaN := math.Float32frombits(math.Float32bits(float32(math.NaN())) | 1<<31)
	for _, avx := range loops {
		hasAVX2 = avx
		for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 29, 64} {
			src := randSlice(n)
			for i := range src { // special values among the random ones
				if i%5 == 2 {
					src[i] = append(special, float32(math.NaN()), negNaN)[i%len(special)+i%3]
				}
			}
			for _, b := range []float32{0, 0.25} {
				for _, relu := range []bool{false, true} {
					dst := make([]float32, n+2)
					for i := range dst {
						dst[i] = 99
					}
					BiasOut(dst, src, b, relu)
					for i, v := range src {
						want := v + b
						switch {
						case relu:
							want = ReLU(want)
						case b == 0:
							want = v // a copy: −0 stays −0
						}
						if math.Float32bits(dst[i]) != math.Float32bits(want) {
							t.Fatalf("AVX2 %v, n %d, b %v, relu %v: dst[%d] = %v (%#x), want %v (%#x)", avx, n, b, relu, i, dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
						}
					}
					if dst[n] != 99 || dst[n+1] != 99 {
						t.Fatalf("AVX2 %v, n %d: BiasOut wrote past len(src)", avx, n)
					}
				}
			}
		}
	}
}

// TestBiasOutRows checks the strided plane against BiasOut row by row,
// bit for bit, and that nothing past the plane is written.
func TestBiasOutRows(t *testing.T) {
	for _, avx := range simdLoops(t) {
		hasAVX2 = avx
		for _, c := range []struct{ rows, cols, stride int }{
			{1, 1, 1}, {3, 7, 9}, {4, 8, 8}, {5, 9, 11}, {7, 14, 16}, {2, 17, 17}, {28, 28, 30}, {0, 5, 5}, {3, 0, 2},
		} {
			src := randSlice(max(0, (c.rows-1)*c.stride+c.cols))
			for i := range src {
				if i%7 == 3 {
					src[i] = float32(math.Copysign(0, -1))
				}
			}
			for _, b := range []float32{0, -0.5} {
				for _, relu := range []bool{false, true} {
					n := c.rows * c.cols
					got, want := make([]float32, n+3), make([]float32, n)
					for i := range got {
						got[i] = 99
					}
					BiasOutRows(got, src, c.rows, c.cols, c.stride, b, relu)
					for r := 0; r < c.rows; r++ {
						BiasOut(want[r*c.cols:][:c.cols], src[r*c.stride:][:c.cols], b, relu)
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("AVX2 %v, %+v, b %v, relu %v: dst[%d] = %v, want %v", avx, c, b, relu, i, got[i], want[i])
						}
					}
					if got[n] != 99 || got[n+1] != 99 || got[n+2] != 99 {
						t.Fatalf("AVX2 %v, %+v: BiasOutRows wrote past the plane", avx, c)
					}
				}
			}
		}
	}
}
