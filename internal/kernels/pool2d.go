package kernels

import (
	"math"

	"github.com/spred-go/spred/internal/par"
)

// PoolOut is the output height (or width) of a k×k window at stride s on
// h input rows (or columns) with p rows of padding on each side.
func PoolOut(h, k, s, p int) int { return (h+2*p-k)/s + 1 }

// MaxPoolPad writes the maximum of every k×k window at stride s of planes
// h×w planes to y, with p rows and columns of padding on every side that
// count as -∞ (PyTorch's max_pool2d; every window must hold an input value,
// as it does for p ≤ k/2). NaN loses against any number, as in MaxPool.
// One plane per worker; no argmax (the inference path).
func MaxPoolPad[T float32 | float64](k, s, p, planes, h, w int, x, y []T) {
	oh, ow := PoolOut(h, k, s, p), PoolOut(w, k, s, p)
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			src := x[c*h*w:][:h*w]
			dst := y[c*oh*ow:][:oh*ow]
			for r := 0; r < oh; r++ {
				r0, r1 := max(r*s-p, 0), min(r*s-p+k, h)
				for q := 0; q < ow; q++ {
					q0, q1 := max(q*s-p, 0), min(q*s-p+k, w)
					bv, found := T(math.Inf(-1)), false
					for i := r0; i < r1; i++ {
						for _, v := range src[i*w+q0 : i*w+q1] {
							if !found || v > bv || (bv != bv && v == v) {
								bv, found = v, true
							}
						}
					}
					dst[r*ow+q] = bv
				}
			}
		}
	})
}

// AvgPool writes the mean of every k×k window at stride s of planes h×w
// planes to y, with p rows and columns of zero padding on every side that
// count in the mean (PyTorch's avg_pool2d with count_include_pad): every
// window sum is divided by k·k. One plane per worker.
func AvgPool[T float32 | float64](k, s, p, planes, h, w int, x, y []T) {
	oh, ow := PoolOut(h, k, s, p), PoolOut(w, k, s, p)
	inv := 1 / T(k*k)
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			src := x[c*h*w:][:h*w]
			dst := y[c*oh*ow:][:oh*ow]
			for r := 0; r < oh; r++ {
				r0, r1 := max(r*s-p, 0), min(r*s-p+k, h)
				for q := 0; q < ow; q++ {
					q0, q1 := max(q*s-p, 0), min(q*s-p+k, w)
					var sum T
					for i := r0; i < r1; i++ {
						for _, v := range src[i*w+q0 : i*w+q1] {
							sum += v
						}
					}
					dst[r*ow+q] = sum * inv
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
