package kernels

import "github.com/spred-go/spred/internal/par"

// transposeTile is the side of the square tiles Transpose copies: 32×32
// float32s is 4 KiB read and 4 KiB written, so a tile's rows of both
// matrices stay in L1.
const transposeTile = 32

// transposeGrain is the fewest rows of a per CPU: smaller matrices are
// transposed on one.
const transposeGrain = 64

// Transpose writes the transpose of the row-major rows×cols matrix a into
// t (cols×rows, row-major), tile by tile, so that neither side walks a
// whole column at a stride; float32 tiles go as 8×8 AVX2 blocks where the
// CPU has them. Bands of rows of a (columns of t) are spread over the
// CPUs.
func Transpose[T float32 | float64](t, a []T, rows, cols int) {
	_ = a[:rows*cols]
	_ = t[:rows*cols]
	a32, ok := any(a).([]float32)
	simd := ok && hasAVX2 && rows >= 8 && cols >= 8
	var t32 []float32
	if simd {
		t32 = any(t).([]float32)
	}
	bands := (rows + transposeTile - 1) / transposeTile
	grain := (transposeGrain + transposeTile - 1) / transposeTile
	par.For(bands, grain, func(b0, b1 int) {
		for i0 := b0 * transposeTile; i0 < min(rows, b1*transposeTile); i0 += transposeTile {
			i1 := min(rows, i0+transposeTile)
			for j0 := 0; j0 < cols; j0 += transposeTile {
				j1 := min(cols, j0+transposeTile)
				if simd {
					transposeTile32(t32, a32, rows, cols, i0, i1, j0, j1)
					continue
				}
				transposeTileScalar(t, a, rows, cols, i0, i1, j0, j1)
			}
		}
	})
}

// transposeTileScalar transposes rows [i0, i1) × columns [j0, j1) of a.
func transposeTileScalar[T float32 | float64](t, a []T, rows, cols, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := a[i*cols+j0 : i*cols+j1]
		for k, v := range row {
			t[(j0+k)*rows+i] = v
		}
	}
}

// transposeTile32 is transposeTileScalar in 8×8 blocks, the edges that do
// not fill one element by element.
func transposeTile32(t, a []float32, rows, cols, i0, i1, j0, j1 int) {
	i8, j8 := i0+(i1-i0)&^7, j0+(j1-j0)&^7
	for i := i0; i < i8; i += 8 {
		for j := j0; j < j8; j += 8 {
			_, _ = a[(i+7)*cols+j+7], t[(j+7)*rows+i+7] // the block is inside both
			transpose8x8AVX(&a[i*cols+j], cols, &t[j*rows+i], rows)
		}
	}
	if j8 < j1 {
		transposeTileScalar(t, a, rows, cols, i0, i8, j8, j1)
	}
	if i8 < i1 {
		transposeTileScalar(t, a, rows, cols, i8, i1, j0, j1)
	}
}
