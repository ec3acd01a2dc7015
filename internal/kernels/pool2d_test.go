package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// padded copies planes h×w planes of x into planes with p rows and columns
// of fill on every side.
func padded(x []float64, planes, h, w, p int, fill float64) []float64 {
	ph, pw := h+2*p, w+2*p
	out := make([]float64, planes*ph*pw)
	for i := range out {
		out[i] = fill
	}
	for c := 0; c < planes; c++ {
		for i := 0; i < h; i++ {
			copy(out[(c*ph+i+p)*pw+p:][:w], x[(c*h+i)*w:][:w])
		}
	}
	return out
}

// TestPaddedPools checks MaxPoolWindow and AvgPoolWindow with the same
// padding on every side against the unpadded loops on an explicitly padded
// input (-∞ for the maximum, 0 for the mean), and MaxPoolWindow without
// padding against MaxPool.
func TestPaddedPools(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const planes, h, w = 3, 7, 6
	x := make([]float64, planes*h*w)
	for i := range x {
		x[i] = rng.NormFloat64() - 2 // mostly negative: padding must not win
	}
	for _, c := range []struct{ k, s, p int }{{2, 2, 0}, {3, 1, 0}, {3, 2, 1}, {2, 1, 1}, {3, 3, 1}, {5, 2, 2}, {1, 1, 0}} {
		oh, ow := PoolOut(h, c.k, c.s, c.p), PoolOut(w, c.k, c.s, c.p)
		ph, pw := h+2*c.p, w+2*c.p
		n := planes * oh * ow
		got, want, arg := make([]float64, n), make([]float64, n), make([]int32, n)
		g := Pool{H: h, W: w, KH: c.k, KW: c.k, SH: c.s, SW: c.s, T: c.p, L: c.p, B: c.p, R: c.p, OH: oh, OW: ow}
		MaxPoolWindow(g, planes, x, got, make([]int32, n))
		MaxPool(c.k, c.s, planes, ph, pw, padded(x, planes, h, w, c.p, math.Inf(-1)), want, arg)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("max %+v: output %d is %v, want %v", c, i, got[i], want[i])
			}
		}
		AvgPoolWindow(g, planes, x, got)
		xp := padded(x, planes, h, w, c.p, 0)
		for pl := 0; pl < planes; pl++ {
			for r := 0; r < oh; r++ {
				for q := 0; q < ow; q++ {
					var sum float64
					for i := 0; i < c.k; i++ {
						for j := 0; j < c.k; j++ {
							sum += xp[(pl*ph+r*c.s+i)*pw+q*c.s+j]
						}
					}
					o := (pl*oh+r)*ow + q
					if want := sum / float64(c.k*c.k); math.Abs(got[o]-want) > 1e-12 {
						t.Fatalf("avg %+v: output %d is %v, want %v", c, o, got[o], want)
					}
				}
			}
		}
	}
	g := make([]float64, planes)
	GlobalAvgPool(planes, h*w, x, g)
	for pl := range g {
		var sum float64
		for _, v := range x[pl*h*w : (pl+1)*h*w] {
			sum += v
		}
		if want := sum / float64(h*w); math.Abs(g[pl]-want) > 1e-12 {
			t.Errorf("global average of plane %d is %v, want %v", pl, g[pl], want)
		}
	}
}

// naivePool is the definition of a pooling window by window: the cells
// r·s−t+a·d (and likewise for columns) for a < k, those in the input
// counted as values, those in the padding as -∞ (max) or 0 (mean), and the
// mean dividing by the input cells (exclude) or the cells inside the
// padded input.
func naivePool(g Pool, planes int, x []float64, mean, exclude bool) []float64 {
	d := max(g.D, 1)
	y := make([]float64, planes*g.OH*g.OW)
	for c := 0; c < planes; c++ {
		for r := 0; r < g.OH; r++ {
			for q := 0; q < g.OW; q++ {
				best, sum, cells := math.Inf(-1), 0.0, 0
				for a := 0; a < g.KH; a++ {
					iy := r*g.SH - g.T + a*d
					for b := 0; b < g.KW; b++ {
						ix := q*g.SW - g.L + b*d
						in := iy >= 0 && iy < g.H && ix >= 0 && ix < g.W
						padded := iy >= -g.T && iy < g.H+g.B && ix >= -g.L && ix < g.W+g.R
						if in {
							v := x[(c*g.H+iy)*g.W+ix]
							best = math.Max(best, v)
							sum += v
						}
						if in || (padded && !exclude) {
							cells++
						}
					}
				}
				o := (c*g.OH+r)*g.OW + q
				if mean {
					y[o] = sum / float64(cells)
				} else {
					y[o] = best
				}
			}
		}
	}
	return y
}

// TestWindowPools checks the pools with padding that differs per side,
// padding wider than half the window, dilated cells and a rounded-up
// output size against naivePool, and the gradient of the mean against the
// transpose of the mean (⟨AvgPool x, dy⟩ = ⟨x, AvgPoolGrad dy⟩).
func TestWindowPools(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const planes, h, w = 2, 6, 7
	x := make([]float64, planes*h*w)
	for i := range x {
		x[i] = rng.NormFloat64() - 2
	}
	out := func(n, k, s, d, lo, hi int, ceil bool) int {
		span := (k-1)*d + 1
		o := (n + lo + hi - span) / s
		if ceil && (n+lo+hi-span)%s != 0 {
			o++
		}
		if o++; ceil && (o-1)*s >= n+lo {
			o--
		}
		return o
	}
	for _, c := range []struct {
		k, s, d    int
		pads       [4]int
		ceil, excl bool
	}{
		{3, 2, 1, [4]int{1, 0, 1, 0}, false, false},
		{3, 1, 1, [4]int{2, 2, 2, 2}, false, true},
		{3, 1, 1, [4]int{0, 1, 2, 0}, false, false},
		{3, 2, 1, [4]int{0, 0, 0, 0}, true, true},
		{3, 2, 1, [4]int{1, 1, 1, 1}, true, false},
		{2, 1, 2, [4]int{0, 0, 0, 0}, false, false},
		{2, 2, 2, [4]int{1, 0, 0, 1}, true, false},
		{5, 1, 1, [4]int{2, 2, 2, 2}, false, true},
	} {
		g := Pool{H: h, W: w, KH: c.k, KW: c.k, SH: c.s, SW: c.s, D: c.d, T: c.pads[0], L: c.pads[1], B: c.pads[2], R: c.pads[3], ExcludePad: c.excl}
		g.OH, g.OW = out(h, c.k, c.s, c.d, c.pads[0], c.pads[2], c.ceil), out(w, c.k, c.s, c.d, c.pads[1], c.pads[3], c.ceil)
		if g.Empty() {
			t.Fatalf("%+v: a window holds no input", c)
		}
		n := planes * g.OH * g.OW
		got, arg := make([]float64, n), make([]int32, n)
		MaxPoolWindow(g, planes, x, got, arg)
		want := naivePool(g, planes, x, false, false)
		for i := range got {
			if got[i] != want[i] || x[arg[i]] != got[i] {
				t.Fatalf("max %+v: output %d is %v (at %d), want %v", c, i, got[i], arg[i], want[i])
			}
		}
		AvgPoolWindow(g, planes, x, got)
		want = naivePool(g, planes, x, true, c.excl)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Fatalf("avg %+v: output %d is %v, want %v", c, i, got[i], want[i])
			}
		}
		dy := make([]float64, n)
		for i := range dy {
			dy[i] = rng.NormFloat64()
		}
		dx := make([]float64, len(x))
		AvgPoolWindowGrad(g, planes, dy, dx)
		var lhs, rhs float64
		for i := range got {
			lhs += got[i] * dy[i]
		}
		for i := range x {
			rhs += x[i] * dx[i]
		}
		if math.Abs(lhs-rhs) > 1e-9 {
			t.Errorf("avg %+v: ⟨pool x, dy⟩ = %v but ⟨x, grad dy⟩ = %v", c, lhs, rhs)
		}
	}
	// A window of two cells two apart that starts one row above a
	// one-row input holds no input cell.
	if g := (Pool{H: 1, W: 3, KH: 2, KW: 2, SH: 1, SW: 1, D: 2, T: 1, OH: 1, OW: 1}); !g.Empty() {
		t.Error("Empty misses a window between the input's cells")
	}
}
