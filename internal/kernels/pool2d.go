package kernels

import (
	"github.com/spred-go/spred/internal/par"
)

// PoolOut is the output height (or width) of a k×k window at stride s on
// h input rows (or columns) with p rows of padding on each side.
func PoolOut(h, k, s, p int) int { return (h+2*p-k)/s + 1 }

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
