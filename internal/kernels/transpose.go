package kernels

// transposeTile is the side of the square tiles Transpose copies: 32×32
// float32s is 4 KiB read and 4 KiB written, so a tile's rows of both
// matrices stay in L1.
const transposeTile = 32

// Transpose writes the transpose of the row-major rows×cols matrix a into
// t (cols×rows, row-major), tile by tile, so that neither side walks a
// whole column at a stride.
func Transpose[T float32 | float64](t, a []T, rows, cols int) {
	_ = a[:rows*cols]
	_ = t[:rows*cols]
	for i0 := 0; i0 < rows; i0 += transposeTile {
		i1 := min(rows, i0+transposeTile)
		for j0 := 0; j0 < cols; j0 += transposeTile {
			j1 := min(cols, j0+transposeTile)
			for i := i0; i < i1; i++ {
				row := a[i*cols+j0 : i*cols+j1]
				for k, v := range row {
					t[(j0+k)*rows+i] = v
				}
			}
		}
	}
}
