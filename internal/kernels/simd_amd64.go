package kernels

import "golang.org/x/sys/cpu"

// hasAVX2: the float32 Axpy runs its 8-wide assembly loop.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func axpy32AVX2(a float32, x, y []float32, n int)

// transpose8x8AVX: dst[j·ds+i] = src[i·ss+j] for i, j < 8.
//
//go:noescape
func transpose8x8AVX(src *float32, ss int, dst *float32, ds int)

// csrBlock64AVX2 sets c[j] = Σ_p val[p]·b[col[p]·n+j] for j < 64, summed in
// the order of p from zero; csrBlock8AVX2 for j < 8.
//
//go:noescape
func csrBlock64AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)

//go:noescape
func csrBlock8AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)

//go:noescape
func csrBlock32AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)

// csrBlockMaskAVX2 is csrBlock8AVX2 for the lanes of mask that are -1
// (the others are neither read nor written).
//
//go:noescape
func csrBlockMaskAVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32, mask *int32)

// allFinite32AVX2 and momentum32AVX2 are the loops of AllFinite and
// Momentum for n a multiple of 8.

//go:noescape
func allFinite32AVX2(x *float32, n int) bool

//go:noescape
func momentum32AVX2(w, grad, v *float32, n int, lr, mu, wd float32)

// biasOutRowsAVX2 is BiasOutRows; tail is the mask of the last cols mod 8
// lanes of a row (tailMasks).
//
//go:noescape
func biasOutRowsAVX2(dst, src *float32, rows, cols, stride int, b float32, relu bool, tail *int32)

// addReLUAVX2 is AddReLU for n a multiple of 8.
//
//go:noescape
func addReLUAVX2(y, a, b *float32, n int)

// copyRowsAVX2 and addRowsAVX2 are the loops of copyRows and addRows;
// tail is the mask of the last cols mod 8 lanes of a row (tailMasks).
//
//go:noescape
func copyRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32)

//go:noescape
func addRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32)

// pool22PlaneAVX2 is pool22's loop over one plane (rows output rows of
// cols windows, input rows w wide; arg gets the index plus base); ma, mb
// and mo are the masks of a row's last cols mod 8 windows: its first and
// second eight input values, and its outputs. It returns false at the
// first window that holds a NaN, the outputs then partly written.
//
//go:noescape
func pool22PlaneAVX2(x, y *float32, arg *int32, rows, cols, w, base int, ma, mb, mo *int32) bool

// mul32AVX2 is Mul's loop for n a multiple of 8.
//
//go:noescape
func mul32AVX2(y, a, b *float32, n int)
