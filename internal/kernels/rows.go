package kernels

import "fmt"

// copyRows sets dst[r·ds+i] = src[r·ss+i] for r < rows and i < cols: a
// block of rows moved between two row strides (Im2Col's planes of a
// convolution without padding). float32 runs an AVX2 loop where the CPU has
// one; every value is moved as it is either way.
func copyRows[T float32 | float64](dst, src []T, rows, cols, ds, ss int) {
	if !rowsFit(len(dst), len(src), rows, cols, ds, ss) {
		return
	}
	if d, ok := any(dst).([]float32); ok && hasAVX2 {
		copyRowsAVX2(&d[0], &any(src).([]float32)[0], rows, cols, ds, ss, &tailMasks[8-cols%8])
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*ds:][:cols], src[r*ss:][:cols])
	}
}

// addRows adds src[r·ss+i] to dst[r·ds+i] for r < rows and i < cols
// (Col2Im's planes of a convolution without padding), each sum the plain
// loop's, so the result does not depend on which loop ran.
func addRows[T float32 | float64](dst, src []T, rows, cols, ds, ss int) {
	if !rowsFit(len(dst), len(src), rows, cols, ds, ss) {
		return
	}
	if d, ok := any(dst).([]float32); ok && hasAVX2 {
		addRowsAVX2(&d[0], &any(src).([]float32)[0], rows, cols, ds, ss, &tailMasks[8-cols%8])
		return
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*ds:][:cols], src[r*ss:][:cols]
		for i, v := range s {
			d[i] += v
		}
	}
}

// rowsFit reports whether there is a block to move (false for none) and
// panics when the slices are too short for it, since the assembly loops
// check no bounds.
func rowsFit(nd, ns, rows, cols, ds, ss int) bool {
	if rows <= 0 || cols <= 0 {
		return false
	}
	if ds < cols || ss < cols || nd < (rows-1)*ds+cols || ns < (rows-1)*ss+cols {
		panic(fmt.Sprintf("kernels: %d rows of %d at strides %d and %d do not fit slices of %d and %d", rows, cols, ds, ss, nd, ns))
	}
	return true
}

// AddBias sets dst[i] = src[i] + b for i < len(src), always adding (so
// that −0 + 0 is +0, as the plain loop computes it, unlike BiasOut's copy
// for b = 0). float32 runs an AVX2 loop where the CPU has one.
func AddBias[T float32 | float64](dst, src []T, b T) {
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	if d, ok := any(dst).([]float32); ok && hasAVX2 {
		biasOutRowsAVX2(&d[0], &any(src).([]float32)[0], 1, len(src), len(src), float32(b), false, &tailMasks[8-len(src)%8])
		return
	}
	for i, v := range src {
		dst[i] = v + b
	}
}

// SumPlanes is Σ_b (Σ_p x[b·stride+p]) for b < count and p < n: each
// plane summed from its first value to its last, then the planes' sums
// added in order of b (the sums of a plain double loop, bit for bit). It
// runs eight planes' chains of additions side by side, which the CPU
// overlaps where one chain waits on each addition.
func SumPlanes[T float32 | float64](x []T, count, n, stride int) T {
	if count <= 0 || n <= 0 {
		return 0
	}
	if stride < n || len(x) < (count-1)*stride+n {
		panic(fmt.Sprintf("kernels: %d planes of %d at stride %d do not fit %d values", count, n, stride, len(x)))
	}
	var acc T
	b := 0
	for ; b+8 <= count; b += 8 {
		x0 := x[b*stride:][:n]
		x1, x2, x3 := x[(b+1)*stride:][:len(x0)], x[(b+2)*stride:][:len(x0)], x[(b+3)*stride:][:len(x0)]
		x4, x5, x6 := x[(b+4)*stride:][:len(x0)], x[(b+5)*stride:][:len(x0)], x[(b+6)*stride:][:len(x0)]
		x7 := x[(b+7)*stride:][:len(x0)]
		var s0, s1, s2, s3, s4, s5, s6, s7 T
		for p, v := range x0 {
			s0 += v
			s1 += x1[p]
			s2 += x2[p]
			s3 += x3[p]
			s4 += x4[p]
			s5 += x5[p]
			s6 += x6[p]
			s7 += x7[p]
		}
		acc += s0
		acc += s1
		acc += s2
		acc += s3
		acc += s4
		acc += s5
		acc += s6
		acc += s7
	}
	for ; b < count; b++ {
		var s T
		for _, v := range x[b*stride:][:n] {
			s += v
		}
		acc += s
	}
	return acc
}
