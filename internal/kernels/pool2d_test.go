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

// TestPaddedPools checks MaxPoolPad and AvgPool against the unpadded loops
// on an explicitly padded input (-∞ for the maximum, 0 for the mean), and
// MaxPoolPad without padding against MaxPool.
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
		MaxPoolPad(c.k, c.s, c.p, planes, h, w, x, got, make([]int32, n))
		MaxPool(c.k, c.s, planes, ph, pw, padded(x, planes, h, w, c.p, math.Inf(-1)), want, arg)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("max %+v: output %d is %v, want %v", c, i, got[i], want[i])
			}
		}
		AvgPool(c.k, c.k, c.s, c.s, c.p, c.p, planes, h, w, x, got)
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
