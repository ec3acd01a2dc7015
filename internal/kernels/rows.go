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
