package kernels

import (
	"math"

	"github.com/spred-go/spred/internal/par"
)

// PoolOut is the output height (or width) of a k×k window at stride s on
// h input rows (or columns) with p rows of padding on each side.
func PoolOut(h, k, s, p int) int { return (h+2*p-k)/s + 1 }

// Pool is the geometry of a 2-d pooling over planes of H×W values:
// windows of KH×KW cells spaced D apart (D 0 means 1), moved by SH and SW,
// starting T rows above and L columns left of the input, OH×OW of them
// (the caller works the count out, with the bottom and right padding and
// the rounding it wants: models.WindowOut). B and R, the bottom and right
// padding, bound the cells a mean counts. ExcludePad: a mean divides by the
// input cells of its window only; otherwise by its cells inside the padded
// input (all KH·KW of them, unless rounding up lets the last window pass
// the padding).
type Pool struct {
	H, W, KH, KW, SH, SW, D int
	T, L, B, R              int
	OH, OW                  int
	ExcludePad              bool
}

func (g Pool) dilation() int { return max(g.D, 1) }

// span returns the cells a0 ≤ a < a1 of window o along one dimension
// (first cell o·s−lo, cells d apart, k of them) that lie in [from, to).
func span(o, s, lo, d, k, from, to int) (a0, a1 int) {
	start := o*s - lo
	if start < from {
		a0 = (from - start + d - 1) / d
	}
	if to <= start {
		return a0, a0
	}
	a1 = min(k, (to-1-start)/d+1)
	return a0, max(a1, a0)
}

// Empty reports whether a window of g holds no input cell, which the pools
// cannot give a value (a maximum of nothing, a mean of nothing).
func (g Pool) Empty() bool {
	d := g.dilation()
	for r := 0; r < g.OH; r++ {
		if a0, a1 := span(r, g.SH, g.T, d, g.KH, 0, g.H); a0 >= a1 {
			return true
		}
	}
	for q := 0; q < g.OW; q++ {
		if a0, a1 := span(q, g.SW, g.L, d, g.KW, 0, g.W); a0 >= a1 {
			return true
		}
	}
	return false
}

// plain reports whether g is an unpadded window of square cells that
// MaxPool's loops compute.
func (g Pool) plain() bool {
	return g.dilation() == 1 && g.T == 0 && g.L == 0 && g.KH == g.KW && g.SH == g.SW &&
		g.OH == (g.H-g.KH)/g.SH+1 && g.OW == (g.W-g.KW)/g.SW+1
}

// Is22 reports whether g is an unpadded 2×2 window at stride 2 (what
// Pool22Values computes).
func (g Pool) Is22() bool { return g.plain() && g.KH == 2 && g.SH == 2 }

// MaxPoolWindow writes the maximum of every window of g over planes planes
// to y and the index into x of its first maximum (in row order) to arg,
// NaN losing against any number; padding counts as -∞. Every window must
// hold an input cell (g.Empty false). One plane per worker.
func MaxPoolWindow[T float32 | float64](g Pool, planes int, x, y []T, arg []int32) {
	if g.plain() {
		MaxPool(g.KH, g.SH, planes, g.H, g.W, x, y, arg)
		return
	}
	d := g.dilation()
	h, w, oh, ow := g.H, g.W, g.OH, g.OW
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			base := c * h * w
			o := c * oh * ow
			for r := 0; r < oh; r++ {
				r0, r1 := span(r, g.SH, g.T, d, g.KH, 0, h)
				for q := 0; q < ow; q++ {
					q0, q1 := span(q, g.SW, g.L, d, g.KW, 0, w)
					best, bv := -1, T(math.Inf(-1))
					for a := r0; a < r1; a++ {
						row := base + (r*g.SH-g.T+a*d)*w
						for b := q0; b < q1; b++ {
							i := row + q*g.SW - g.L + b*d
							if v := x[i]; best < 0 || v > bv || (bv != bv && v == v) {
								best, bv = i, v
							}
						}
					}
					y[o], arg[o] = bv, int32(best)
					o++
				}
			}
		}
	})
}

// divisor is the number of cells the mean of window (r, q) divides by.
func (g Pool) divisor(r, q int) int {
	d := g.dilation()
	if g.ExcludePad {
		r0, r1 := span(r, g.SH, g.T, d, g.KH, 0, g.H)
		q0, q1 := span(q, g.SW, g.L, d, g.KW, 0, g.W)
		return (r1 - r0) * (q1 - q0)
	}
	r0, r1 := span(r, g.SH, g.T, d, g.KH, -g.T, g.H+g.B)
	q0, q1 := span(q, g.SW, g.L, d, g.KW, -g.L, g.W+g.R)
	return (r1 - r0) * (q1 - q0)
}

// AvgPoolWindow writes the mean of every window of g over planes planes
// to y, padding counting as zeros (in the divisor unless g.ExcludePad).
// Every window must hold an input cell. One plane per worker; each sum
// runs in the window's row order.
func AvgPoolWindow[T float32 | float64](g Pool, planes int, x, y []T) {
	d := g.dilation()
	h, w, oh, ow := g.H, g.W, g.OH, g.OW
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			src := x[c*h*w:][:h*w]
			dst := y[c*oh*ow:][:oh*ow]
			for r := 0; r < oh; r++ {
				r0, r1 := span(r, g.SH, g.T, d, g.KH, 0, h)
				for q := 0; q < ow; q++ {
					q0, q1 := span(q, g.SW, g.L, d, g.KW, 0, w)
					var sum T
					for a := r0; a < r1; a++ {
						row := (r*g.SH-g.T+a*d)*w + q*g.SW - g.L
						for b := q0; b < q1; b++ {
							sum += src[row+b*d]
						}
					}
					dst[r*ow+q] = sum * (1 / T(g.divisor(r, q)))
				}
			}
		}
	})
}

// AvgPoolWindowGrad adds the share of every output gradient of
// AvgPoolWindow onto the input cells of its window; dx must be zero on
// entry. One plane per worker.
func AvgPoolWindowGrad[T float32 | float64](g Pool, planes int, dy, dx []T) {
	d := g.dilation()
	h, w, oh, ow := g.H, g.W, g.OH, g.OW
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			src := dy[c*oh*ow:][:oh*ow]
			dst := dx[c*h*w:][:h*w]
			for r := 0; r < oh; r++ {
				r0, r1 := span(r, g.SH, g.T, d, g.KH, 0, h)
				for q := 0; q < ow; q++ {
					q0, q1 := span(q, g.SW, g.L, d, g.KW, 0, w)
					v := src[r*ow+q] * (1 / T(g.divisor(r, q)))
					for a := r0; a < r1; a++ {
						row := (r*g.SH-g.T+a*d)*w + q*g.SW - g.L
						for b := q0; b < q1; b++ {
							dst[row+b*d] += v
						}
					}
				}
			}
		}
	})
}

// GlobalAvgPool writes the mean of each of planes planes of size values
// to y (one value per plane), summing in float64.
func GlobalAvgPool[T float32 | float64](planes, size int, x, y []T) {
	par.For(planes, 64, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			var sum float64
			for _, v := range x[c*size : (c+1)*size] {
				sum += float64(v)
			}
			y[c] = T(sum / float64(size))
		}
	})
}
