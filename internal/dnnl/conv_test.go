package dnnl

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func need(t *testing.T) {
	t.Helper()
	if err := Load(); err != nil {
		t.Skipf("oneDNN not available: %v", err)
	}
}

// naive is the direct convolution and its two gradients in float64.
func naive(g Geom, x, w, bias, dy []float32) (y, dx, dw []float64) {
	oh, ow := g.OH(), g.OW()
	y = make([]float64, g.N*g.K*oh*ow)
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					o := ((n*g.K+k)*oh+i)*ow + j
					s := 0.0
					if bias != nil {
						s = float64(bias[k])
					}
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							for q := 0; q < g.R; q++ {
								h, v := i*g.Stride-g.Pads[0]+r, j*g.Stride-g.Pads[1]+q
								if h < 0 || h >= g.H || v < 0 || v >= g.W {
									continue
								}
								xi := ((n*g.C+c)*g.H+h)*g.W + v
								wi := ((k*g.C+c)*g.R+r)*g.R + q
								s += float64(x[xi]) * float64(w[wi])
								dx[xi] += float64(dy[o]) * float64(w[wi])
								dw[wi] += float64(dy[o]) * float64(x[xi])
							}
						}
					}
					y[o] = s
				}
			}
		}
	}
	return y, dx, dw
}

func random(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i])-want[i]) / (1 + math.Abs(want[i]))
		worst = max(worst, d)
	}
	if worst > 1e-4 || len(got) != len(want) {
		t.Errorf("%s: worst relative error %g over %d values (want %d)", what, worst, len(got), len(want))
	}
}

func TestConvAgainstNaive(t *testing.T) {
	need(t)
	for _, g := range []Geom{
		{N: 3, C: 5, H: 9, W: 7, K: 4, R: 3, Stride: 1, Pads: [4]int{1, 1, 1, 1}, Bias: true},
		{N: 2, C: 16, H: 8, W: 8, K: 32, R: 3, Stride: 2, Pads: [4]int{1, 1, 1, 1}},
		{N: 2, C: 3, H: 6, W: 5, K: 8, R: 1, Stride: 2, Pads: [4]int{}, Bias: true},
		{N: 1, C: 4, H: 7, W: 7, K: 6, R: 2, Stride: 2, Pads: [4]int{0, 0, 1, 1}},
		{N: 2, C: 1, H: 28, W: 28, K: 6, R: 5, Stride: 1, Pads: [4]int{2, 2, 2, 2}, Bias: true},
	} {
		r := rand.New(rand.NewPCG(1, uint64(g.C)))
		c, err := NewConv(g)
		if err != nil {
			t.Fatal(err)
		}
		x, w := random(r, g.N*g.C*g.H*g.W), random(r, g.K*g.C*g.R*g.R)
		dy := random(r, g.N*g.K*g.OH()*g.OW())
		var bias []float32
		if g.Bias {
			bias = random(r, g.K)
		}
		wy, wdx, wdw := naive(g, x, w, bias, dy)
		y, dx, dw := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(w))
		// Twice, the second time on buffers holding the first results: the
		// same bits, nothing carried over.
		for round := 0; round < 2; round++ {
			y0, dx0, dw0 := append([]float32(nil), y...), append([]float32(nil), dx...), append([]float32(nil), dw...)
			if err := c.Forward(x, w, bias, y); err != nil {
				t.Fatal(err)
			}
			if err := c.BackwardData(w, dy, dx); err != nil {
				t.Fatal(err)
			}
			if err := c.BackwardWeights(x, dy, dw); err != nil {
				t.Fatal(err)
			}
			near(t, "forward", y, wy)
			near(t, "input gradient", dx, wdx)
			near(t, "weight gradient", dw, wdw)
			if round == 1 {
				for i := range y {
					if y[i] != y0[i] {
						t.Fatalf("%+v: forward not reproducible at %d", g, i)
					}
				}
				for i := range dx {
					if dx[i] != dx0[i] {
						t.Fatalf("%+v: input gradient not reproducible at %d", g, i)
					}
				}
				for i := range dw {
					if dw[i] != dw0[i] {
						t.Fatalf("%+v: weight gradient not reproducible at %d", g, i)
					}
				}
			}
		}
		// A weight gradient of another input than the last forward's
		// reorders that input instead of using the kept one.
		x2 := random(r, len(x))
		_, _, wdw2 := naive(g, x2, w, bias, dy)
		if err := c.BackwardWeights(x2, dy, dw); err != nil {
			t.Fatal(err)
		}
		near(t, "weight gradient of another input", dw, wdw2)
		impl := c.Impl()
		t.Logf("%+v: %q on oneDNN %s", g, impl, Version())
		for i, s := range impl {
			if s == "" {
				t.Errorf("%+v: pass %d has no implementation name", g, i)
			}
		}
		c.Close()
	}
}

func TestConvErrors(t *testing.T) {
	need(t)
	if _, err := NewConv(Geom{N: 1, C: 1, H: 2, W: 2, K: 1, R: 3, Stride: 1}); err == nil {
		t.Error("a kernel larger than the input was accepted")
	}
	g := Geom{N: 1, C: 2, H: 4, W: 4, K: 3, R: 3, Stride: 1, Pads: [4]int{1, 1, 1, 1}}
	c, err := NewConv(g)
	if err != nil {
		t.Fatal(err)
	}
	x, w, y := make([]float32, 32), make([]float32, 54), make([]float32, 48)
	if err := c.Forward(x[:31], w, nil, y); err == nil {
		t.Error("a short input was accepted")
	}
	if err := c.Forward(x, w, make([]float32, 3), y); err == nil {
		t.Error("a bias was accepted by a convolution without one")
	}
	if err := c.Forward(x, w, nil, y); err != nil {
		t.Error(err)
	}
	c.Close()
	if err := c.Forward(x, w, nil, y); err == nil {
		t.Error("a closed convolution ran")
	}
	if Version() == "" {
		t.Error("no version reported")
	}
}

func TestMissingLibrary(t *testing.T) {
	_, err := dlopen([]string{"libdnnl-not-installed.so.2"})
	if err == nil || !strings.Contains(err.Error(), "oneDNN not loaded") {
		t.Errorf("a missing library: %v", err)
	}
}

// TestThreadsFixed: the OpenMP thread count, which decides the weight
// gradients' rounding, is set before the library loads (to Threads unless
// the environment gave one) and reported.
func TestThreadsFixed(t *testing.T) {
	need(t)
	n := os.Getenv("OMP_NUM_THREADS")
	if n == "" || os.Getenv("OMP_WAIT_POLICY") == "" {
		t.Fatalf("OMP_NUM_THREADS %q, OMP_WAIT_POLICY %q after loading", n, os.Getenv("OMP_WAIT_POLICY"))
	}
	if !strings.Contains(Version(), n+" threads") {
		t.Errorf("version %q does not report %s threads", Version(), n)
	}
}
