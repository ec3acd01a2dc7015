package kernels

// Element-wise passes: two of a training step over the factors u and v of
// every prunable weight (the finiteness check of their gradients and the
// heavy-ball momentum update) and the residual sum with its relu of the
// inference engine. On long float32 slices each runs an 8-wide AVX2 loop
// where the CPU has one, with the same operations in the same order as
// the plain loop (products and sums each rounded, no fused multiply-add),
// so the result does not depend on which loop ran. The product u⊙v (Mul)
// has an AVX2 loop too: on an Intel Xeon it was no faster than the plain
// one, bound by memory, but on the AMD EPYC it is 3–4× faster at
// LeNet-300-100's size (BenchmarkMul).

// elementwiseMin is the length from which the passes below call their
// assembly loops.
const elementwiseMin = 32

// AllFinite reports whether no element of x is NaN or infinite.
func AllFinite[T float32 | float64](x []T) bool {
	n := len(x)
	i := 0
	if x32, ok := any(x).([]float32); ok && hasAVX2 && n >= elementwiseMin {
		i = n &^ 7
		if !allFinite32AVX2(&x32[0], i) {
			return false
		}
	}
	for _, v := range x[i:] {
		if v-v != 0 {
			return false
		}
	}
	return true
}

// Momentum is one heavy-ball step with weight decay wd ≠ 0 on w:
// v[i] = mu·v[i] + (g[i] + wd·w[i]), then w[i] −= lr·v[i], for
// i < len(w) (len(g), len(v) ≥ len(w)).
func Momentum[T float32 | float64](w, g, v []T, lr, mu, wd T) {
	n := len(w)
	g, v = g[:n], v[:n]
	i := 0
	if w32, ok := any(w).([]float32); ok && hasAVX2 && n >= elementwiseMin {
		i = n &^ 7
		momentum32AVX2(&w32[0], &any(g).([]float32)[0], &any(v).([]float32)[0], i,
			float32(lr), float32(mu), float32(wd))
	}
	for ; i < n; i++ {
		v[i] = mu*v[i] + (g[i] + wd*w[i])
		w[i] -= lr * v[i]
	}
}

// AddReLU sets y[i] = ReLU(a[i] + b[i]) for i < len(y) (len(a), len(b) ≥
// len(y); y may be a or b): a residual sum and the relu that follows it.
func AddReLU(y, a, b []float32) {
	n := len(y)
	a, b = a[:n], b[:n]
	i := 0
	if hasAVX2 && n >= elementwiseMin {
		i = n &^ 7
		addReLUAVX2(&y[0], &a[0], &b[0], i)
	}
	for ; i < n; i++ {
		y[i] = ReLU(a[i] + b[i])
	}
}

// Mul sets y[i] = a[i]·b[i] for i < len(y) (a and b at least as long),
// each product rounded once, as the plain loop rounds it; float32 runs an
// 8-wide AVX2 loop where the CPU has one.
func Mul[T float32 | float64](y, a, b []T) {
	n := len(y)
	a, b = a[:n], b[:n]
	i := 0
	if y32, ok := any(y).([]float32); ok && hasAVX2 && n >= 8 {
		i = n &^ 7
		mul32AVX2(&y32[0], &any(a).([]float32)[0], &any(b).([]float32)[0], i)
	}
	for ; i < n; i++ {
		y[i] = a[i] * b[i]
	}
}
