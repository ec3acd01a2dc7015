// Package kernels holds the loops under the graph package's fused ops and
// the inference engine: convolution as im2col and a matrix product, max
// pooling, and products with sparse (CSR) matrices. Every loop that spreads
// over the CPUs writes disjoint memory, so results do not depend on
// GOMAXPROCS.
package kernels

import (
	"fmt"
	"math/bits"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"

	_ "github.com/spred-go/spred/internal/openblas" // the matrix products on OpenBLAS when installed
	"github.com/spred-go/spred/internal/par"
)

// Conv is the geometry of a 2-d convolution: Batch×Ch×H×W input, Filters
// filters of K×K, stride S, zero padding PT rows above, PL columns left
// (and the bottom and right padding that OH×OW implies), OH×OW output.
type Conv struct {
	Batch, Ch, H, W int
	Filters, K, S   int
	PT, PL, OH, OW  int
}

// NewConv fills in the output size for padding p on every side (which is
// not positive when the kernel does not fit).
func NewConv(batch, ch, h, w, filters, k, s, p int) Conv {
	return NewConvPads(batch, ch, h, w, filters, k, s, [4]int{p, p, p, p})
}

// NewConvPads is NewConv with the padding of each side: top, left,
// bottom, right.
func NewConvPads(batch, ch, h, w, filters, k, s int, pads [4]int) Conv {
	return Conv{Batch: batch, Ch: ch, H: h, W: w, Filters: filters, K: k, S: s, PT: pads[0], PL: pads[1],
		OH: floorDiv(h+pads[0]+pads[2]-k, s) + 1, OW: floorDiv(w+pads[1]+pads[3]-k, s) + 1}
}

// floorDiv is ⌊a/b⌋ for b > 0 (so that a window that does not fit gives a
// size below 1).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Rows is the height of the column matrix (one row per channel and kernel
// position), Cols its width (one column per image and output position).
func (g Conv) Rows() int { return g.Ch * g.K * g.K }

// Cols is the width of the column matrix.
func (g Conv) Cols() int { return g.Batch * g.OH * g.OW }

func (g Conv) String() string {
	return fmt.Sprintf("%dx%dx%dx%d*%d@%dk%ds%d,%dp%dx%d", g.Batch, g.Ch, g.H, g.W, g.Filters, g.K, g.S, g.PT, g.PL, g.OH, g.OW)
}

// Im2Col fills cols (rows()×cols(), row (c, ki, kj), column (b, oy, ox))
// with the input values under every kernel position, zero in the padding;
// rows are spread over the CPUs (each owns its rows, which it writes from
// start to end).
func Im2Col[T float32 | float64](g Conv, x []T, cols []T) {
	n := g.Cols()
	plane, kk := g.OH*g.OW, g.K*g.K
	par.For(g.Rows(), 1, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			c, ki, kj := r/kk, r%kk/g.K, r%g.K
			row := cols[r*n:][:n]
			for b := 0; b < g.Batch; b++ {
				src := x[(b*g.Ch+c)*g.H*g.W:][:g.H*g.W]
				dst := row[b*plane:][:plane]
				if g.S == 1 && g.OW == g.W {
					shiftPlane(g, src, dst, ki, kj)
					continue
				}
				if oy0, oy1, ok := g.wholeRows(ki, kj); ok {
					clear(dst[:oy0*g.OW])
					clear(dst[oy1*g.OW:])
					if oy0 < oy1 {
						copyRows(dst[oy0*g.OW:], src[(oy0+ki-g.PT)*g.W+kj-g.PL:], oy1-oy0, g.OW, g.OW, g.W)
					}
					continue
				}
				for oy := 0; oy < g.OH; oy++ {
					iy := oy*g.S + ki - g.PT
					d := dst[oy*g.OW:][:g.OW]
					if iy < 0 || iy >= g.H {
						clear(d)
						continue
					}
					srow := src[iy*g.W:][:g.W]
					if g.S == 1 {
						// Contiguous: ox reads ix = ox+kj-p.
						lo := min(max(0, g.PL-kj), g.OW)
						hi := max(min(g.OW, g.W+g.PL-kj), lo)
						clear(d[:lo])
						copyShort(d[lo:hi], srow[lo+kj-g.PL:])
						clear(d[hi:])
						continue
					}
					for ox := range d {
						ix := ox*g.S + kj - g.PL
						if ix < 0 || ix >= g.W {
							d[ox] = 0
						} else {
							d[ox] = srow[ix]
						}
					}
				}
			}
		}
	})
}

// wholeRows reports whether, at stride 1, every output row of kernel
// position (ki, kj) reads a whole input row segment (no padding left or
// right for this kj), and which output rows [oy0, oy1) fall inside the
// input (the others read padding only).
func (g Conv) wholeRows(ki, kj int) (oy0, oy1 int, ok bool) {
	if g.S != 1 || g.PL > kj || g.W+g.PL-kj < g.OW {
		return 0, 0, false
	}
	oy0, oy1 = g.inRows(ki)
	return oy0, oy1, true
}

// inRows is the range [oy0, oy1) of output rows whose kernel row ki reads
// an input row at stride 1 (the others read padding only); oy0 == oy1 when
// there is none.
func (g Conv) inRows(ki int) (oy0, oy1 int) {
	oy0 = min(max(0, g.PT-ki), g.OH)
	return oy0, max(min(g.OH, g.H+g.PT-ki), oy0)
}

// copyShort is copy(d, s) for len(s) ≥ len(d), with a loop instead of a
// call for the short rows of small planes (LeNet-5's are 8 to 24 wide).
func copyShort[T float32 | float64](d, s []T) {
	if len(d) >= 32 {
		copy(d, s)
		return
	}
	s = s[:len(d)]
	for i := range d {
		d[i] = s[i]
	}
}

// shiftPlane is one image's row (ki, kj) of the column matrix when the
// stride is 1 and the output rows are as wide as the input's: the output
// plane is then the input plane shifted by a constant offset, one copy,
// with zeros in the rows and columns that fall in the padding.
func shiftPlane[T float32 | float64](g Conv, src, dst []T, ki, kj int) {
	ow := g.OW
	oy0, oy1 := g.inRows(ki)
	if oy0 >= oy1 {
		clear(dst)
		return
	}
	clear(dst[:oy0*ow])
	clear(dst[oy1*ow:])
	p0, p1 := oy0*ow, oy1*ow
	d := (ki-g.PT)*g.W + kj - g.PL
	a, b := min(max(p0, -d), p1), max(min(p1, len(src)-d), p0)
	if a >= b {
		clear(dst[p0:p1])
		return
	}
	clear(dst[p0:a])
	copy(dst[a:b], src[a+d:b+d])
	clear(dst[b:p1])
	lo, hi := min(max(0, g.PL-kj), ow), max(min(ow, g.W+g.PL-kj), 0)
	if lo == 0 && hi == ow {
		return
	}
	for oy := oy0; oy < oy1; oy++ {
		r := dst[oy*ow:][:ow]
		for i := range r[:lo] {
			r[i] = 0
		}
		for i := hi; i < ow; i++ {
			r[i] = 0
		}
	}
}

// Col2Im adds every entry of the column matrix back onto the input
// position it was read from; dx must be zero on entry. Images are spread
// over the CPUs (each owns its part of dx), so the sums are in a fixed order.
// The entries of cols that fall in the padding may be overwritten with
// zeros.
func Col2Im[T float32 | float64](g Conv, cols []T, dx []T) {
	n := g.Cols()
	plane := g.OH * g.OW
	par.For(g.Batch, 1, func(b0, b1 int) {
		for b := b0; b < b1; b++ {
			for c := 0; c < g.Ch; c++ {
				dst := dx[(b*g.Ch+c)*g.H*g.W:][:g.H*g.W]
				for ki := 0; ki < g.K; ki++ {
					for kj := 0; kj < g.K; kj++ {
						row := cols[((c*g.K+ki)*g.K+kj)*n:][:n]
						src := row[b*plane:][:plane]
						if g.S == 1 && g.OW == g.W {
							addShiftedPlane(g, src, dst, ki, kj)
							continue
						}
						if oy0, oy1, ok := g.wholeRows(ki, kj); ok {
							if oy0 < oy1 {
								addRows(dst[(oy0+ki-g.PT)*g.W+kj-g.PL:], src[oy0*g.OW:], oy1-oy0, g.OW, g.W, g.OW)
							}
							continue
						}
						for oy := 0; oy < g.OH; oy++ {
							iy := oy*g.S + ki - g.PT
							if iy < 0 || iy >= g.H {
								continue
							}
							drow := dst[iy*g.W:][:g.W]
							s := src[oy*g.OW:][:g.OW]
							if g.S == 1 {
								lo, hi := max(0, g.PL-kj), min(g.OW, g.W+g.PL-kj)
								if lo < hi {
									d := drow[lo+kj-g.PL:][:hi-lo]
									for i, v := range s[lo:hi] {
										d[i] += v
									}
								}
								continue
							}
							for ox, v := range s {
								if ix := ox*g.S + kj - g.PL; ix >= 0 && ix < g.W {
									drow[ix] += v
								}
							}
						}
					}
				}
			}
		}
	})
}

// addShiftedPlane is Col2Im of one image's row (ki, kj) when the stride is
// 1 and the output rows are as wide as the input's: it zeroes the entries
// of src that fall in the left and right padding and adds the valid rows
// onto dst in one loop over the shifted plane. Adding those zeros leaves dst
// as it was (its entries start at +0 and never become −0), so the sums are
// the row-by-row loop's.
func addShiftedPlane[T float32 | float64](g Conv, src, dst []T, ki, kj int) {
	ow := g.OW
	oy0, oy1 := g.inRows(ki)
	if oy0 >= oy1 {
		return
	}
	p0, p1 := oy0*ow, oy1*ow
	lo, hi := min(max(0, g.PL-kj), ow), max(min(ow, g.W+g.PL-kj), 0)
	for col := 0; col < lo; col++ {
		for p := p0 + col; p < p1; p += ow {
			src[p] = 0
		}
	}
	for col := hi; col < ow; col++ {
		for p := p0 + col; p < p1; p += ow {
			src[p] = 0
		}
	}
	d := (ki-g.PT)*g.W + kj - g.PL
	a, b := min(max(p0, -d), p1), max(min(p1, len(dst)-d), p0)
	if a >= b {
		return
	}
	// dst += 1·src: Axpy's rounding is the plain sum's (1·v is v).
	Axpy(1, src[a:b], dst[a+d:b+d])
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c in row-major layout through
// the BLAS Gorgonia uses (OpenBLAS when graph loaded it, gonum otherwise).
func Gemm[T float32 | float64](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	switch a := any(a).(type) {
	case []float32:
		gorgonia.WhichBLAS().Sgemm(t(ta), t(tb), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gorgonia.WhichBLAS().Dgemm(t(ta), t(tb), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// MaxPool writes the maximum of every k×k window at stride s (no padding)
// of planes h×w planes to y and the index into x of its first maximum to
// arg (NaN loses against any number), one plane per worker.
func MaxPool[T float32 | float64](k, s, planes, h, w int, x, y []T, arg []int32) {
	if k == 2 && s == 2 {
		pool22(h, w, planes, x, y, arg)
		return
	}
	poolAny(k, s, planes, h, w, x, y, arg)
}

func poolAny[T float32 | float64](k, s, planes, h, w int, x, y []T, arg []int32) {
	oh, ow := (h-k)/s+1, (w-k)/s+1
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			base := c * h * w
			o := c * oh * ow
			for r := 0; r < oh; r++ {
				for q := 0; q < ow; q++ {
					best := base + r*s*w + q*s
					bv := x[best]
					for dr := 0; dr < k; dr++ {
						row := base + (r*s+dr)*w + q*s
						for dq, v := range x[row : row+k] {
							if v > bv || (bv != bv && v == v) {
								best, bv = row+dq, v
							}
						}
					}
					y[o], arg[o] = bv, int32(best)
					o++
				}
			}
		}
	})
}

// pool22 is pool for 2×2 windows at stride 2, the common case, without a
// branch on the data: the builtin max gives the maximum m, and the first
// cell equal to m (a bit mask of the three first comparisons, its lowest
// set bit) is the argmax, whose value is written (so a −0 first keeps its
// sign). A window whose m is NaN goes through the comparisons of poolAny.
// The results are poolAny's, bit for bit. float32 runs an AVX2 loop over
// each plane where the CPU has one (a plane with a NaN goes through the
// loop below).
func pool22[T float32 | float64](h, w, planes int, x, y []T, arg []int32) {
	oh, ow := h/2, w/2
	if oh == 0 || ow == 0 {
		return
	}
	offs := [4]int{0, 1, w, w + 1}
	x32, simd := any(x).([]float32)
	simd = simd && hasAVX2
	var y32 []float32
	var ma, mb, mo *int32
	if simd {
		_ = x[planes*h*w-1]
		_, _ = y[planes*oh*ow-1], arg[planes*oh*ow-1]
		y32 = any(y).([]float32)
		t := ow % 8
		ma, mb, mo = &tailMasks[8-min(2*t, 8)], &tailMasks[8-max(2*t-8, 0)], &tailMasks[8-t]
	}
	par.For(planes, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			base := c * h * w
			o := c * oh * ow
			if simd && pool22PlaneAVX2(&x32[base], &y32[o], &arg[o], oh, ow, w, base, ma, mb, mo) {
				continue
			}
			for r := 0; r < oh; r++ {
				i0 := base + 2*r*w
				row0, row1 := x[i0:i0+w], x[i0+w:i0+2*w]
				ys, as := y[o:o+ow], arg[o:o+ow]
				for q := range ys {
					v0, v1, v2, v3 := row0[2*q], row0[2*q+1], row1[2*q], row1[2*q+1]
					m := max(v0, v1, v2, v3)
					var k int
					if m == m {
						mask := bit(v0 == m) | bit(v1 == m)<<1 | bit(v2 == m)<<2 | 8
						k = i0 + 2*q + offs[bits.TrailingZeros(mask)&3]
					} else {
						k = i0 + 2*q
						for j, v := range [3]T{v1, v2, v3} {
							if bv := x[k]; v > bv || (bv != bv && v == v) {
								k = i0 + 2*q + offs[j+1]
							}
						}
					}
					ys[q], as[q] = x[k], int32(k)
				}
				o += ow
			}
		}
	})
}

// bit is 1 for true and 0 for false (compiled without a branch).
func bit(b bool) uint {
	if b {
		return 1
	}
	return 0
}

// Pool22Values is MaxPool for 2×2 windows at stride 2 without the argmax,
// for inference: the maxima of the builtin max (no branch to mispredict),
// and, where that gives NaN, of MaxPool's loop, in which NaN loses against
// any number. The values are MaxPool's but for one case: a window whose
// maximum is 0 held by zeros of both signs gives +0, where MaxPool gives
// its first zero. It is a loop of its own: one loop for both, the argmax
// skipped when arg is nil, measured about a quarter slower on each path.
func Pool22Values[T float32 | float64](h, w, planes int, x, y []T) {
	oh, ow := h/2, w/2
	par.For(planes, par.Grain(planes, planes*h*w), func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			base := c * h * w
			o := c * oh * ow
			for r := 0; r < oh; r++ {
				i0 := base + 2*r*w
				row0, row1 := x[i0:i0+w], x[i0+w:i0+2*w]
				ys := y[o : o+ow]
				for q := range ys {
					v0, v1, v2, v3 := row0[2*q], row0[2*q+1], row1[2*q], row1[2*q+1]
					m := max(v0, v1, v2, v3)
					if m != m {
						m = v0
						for _, v := range [3]T{v1, v2, v3} {
							if v > m || (m != m && v == v) {
								m = v
							}
						}
					}
					ys[q] = m
				}
				o += ow
			}
		}
	})
}
