package kernels

import "gonum.org/v1/gonum/blas/gonum"

// axpyMin is the length from which Axpy calls an assembly loop; below it
// a plain loop is as fast (BenchmarkAxpy).
const axpyMin = 16

// Axpy adds a·x to y (len(y) ≥ len(x)). Every element is one product and
// one sum, rounded as the plain loop rounds them, so the result does not
// depend on which loop ran. float32 runs an 8-wide AVX2 loop where the CPU
// has one (the same arithmetic as the plain loop for every a); otherwise,
// and for float64, gonum's packed loop (for a ≠ 0: it skips a = 0, where
// the plain loop would turn an infinite x into NaN).
func Axpy[T float32 | float64](a T, x, y []T) {
	n := len(x)
	if n >= axpyMin {
		switch x := any(x).(type) {
		case []float32:
			y := any(y).([]float32)[:n]
			if hasAVX2 {
				m := n &^ 7
				axpy32AVX2(float32(a), x, y, m)
				for i := m; i < n; i++ {
					y[i] += float32(a) * x[i]
				}
				return
			}
			gonum.Implementation{}.Saxpy(n, float32(a), x, 1, y, 1)
		case []float64:
			gonum.Implementation{}.Daxpy(n, float64(a), x, 1, any(y).([]float64), 1)
		}
		return
	}
	y = y[:n]
	for i, v := range x {
		y[i] += a * v
	}
}
