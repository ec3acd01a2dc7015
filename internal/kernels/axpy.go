package kernels

import "gonum.org/v1/gonum/blas/gonum"

// axpyMin is the length from which Axpy calls gonum's assembly loop
// (packed single-precision on amd64); below it a plain loop is as fast
// (BenchmarkAxpy).
const axpyMin = 16

// Axpy adds a·x to y (len(y) ≥ len(x)). Every element is one product and
// one sum, rounded as the plain loop rounds them, so the result does not
// depend on which loop ran (for a ≠ 0: the assembly skips a = 0, where the
// plain loop would turn an infinite x into NaN).
func Axpy[T float32 | float64](a T, x, y []T) {
	n := len(x)
	if n >= axpyMin {
		switch x := any(x).(type) {
		case []float32:
			gonum.Implementation{}.Saxpy(n, float32(a), x, 1, any(y).([]float32), 1)
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
