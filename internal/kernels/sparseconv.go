package kernels

import (
	"math"

	"github.com/spred-go/spred/internal/par"
)

// SparseConv is a convolution computed from its non-zero weights only,
// without a column matrix: every non-zero weight of a filter adds its
// input channel, shifted by the weight's kernel position and scaled by it,
// to the filter's output plane.
//
// To make each of those sums one contiguous loop (Axpy), the input is
// first laid out as phase planes: for stride s, channel c's zero-padded
// input splits into s×s planes, phase (a, b) holding the padded values at
// rows ≡ a and columns ≡ b (mod s), each HQ×WQ with HQ = OH + (K−1)/s and
// WQ = OW + (K−1)/s. Kernel position (ki, kj) then reads phase
// (ki mod s, kj mod s) at a constant offset ((ki/s)·WQ + kj/s) from the
// output position, so an output plane held WQ wide (the columns past OW
// are discarded) is a sum of shifted phase planes. For stride 1 there is
// one phase, the padded plane, and an input that needs no padding is read
// in place.
//
// The phase planes of a batch are stored image-innermost: the HQ×WQ
// planes of one channel and phase for all images one after another. A
// weight's shifted plane for a run of consecutive images is then one
// contiguous Axpy too (the output held HQ×WQ per image, the rows past OH
// discarded as well), so small planes — resnet-8's 7×7 and 14×14 — are
// summed a thousand or so values per call instead of a few dozen.
type SparseConv struct {
	g       Conv
	hq, wq  int
	inPlace bool    // the input is its own phase plane: no copy
	used    []bool  // the phases some weight reads (the others are not written)
	ptr     []int32 // filter f's weights: blk, sh, val[ptr[f]:ptr[f+1]]
	blk     []int32 // the (channel, phase) block a weight reads: channel·S² + phase
	sh      []int32 // the offset of a weight's shifted plane within its block
	val     []float32
}

// sparseConvRun is about the number of values Forward sums per Axpy: as
// many images as make this many phase-plane values go in one call.
const sparseConvRun = 1024

// NewSparseConv keeps the non-zero weights of w (Filters × Ch/groups × K
// × K, row-major, the filters of group i reading channels
// [i·Ch/groups, (i+1)·Ch/groups)) for the geometry g; g.Batch does not
// matter.
func NewSparseConv(g Conv, groups int, w []float32) *SparseConv {
	s := &SparseConv{g: g, hq: g.OH + (g.K-1)/g.S, wq: g.OW + (g.K-1)/g.S}
	s.inPlace = g.S == 1 && g.PT == 0 && g.PL == 0 && g.H == s.hq && g.W == s.wq
	fg, cg, kk := g.Filters/groups, g.Ch/groups, g.K*g.K
	s.ptr = make([]int32, g.Filters+1)
	s.used = make([]bool, g.S*g.S)
	for f := 0; f < g.Filters; f++ {
		c0 := f / fg * cg
		for i, v := range w[f*cg*kk:][:cg*kk] {
			if v == 0 {
				continue
			}
			c, ki, kj := c0+i/kk, i%kk/g.K, i%g.K
			p := ki%g.S*g.S + kj%g.S
			s.used[p] = true
			s.blk = append(s.blk, int32(c*g.S*g.S+p))
			s.sh = append(s.sh, int32(ki/g.S*s.wq+kj/g.S))
			s.val = append(s.val, v)
		}
		s.ptr[f+1] = int32(len(s.val))
	}
	return s
}

// NNZ is the number of non-zero weights kept.
func (s *SparseConv) NNZ() int { return len(s.val) }

// Scratch is the number of floats Forward needs for n images: their phase
// planes (none for an input read in place).
func (s *SparseConv) Scratch(n int) int {
	if s.inPlace {
		return 0
	}
	return n * s.g.Ch * s.g.S * s.g.S * s.hq * s.wq
}

// Forward sets y (n × Filters × OH × OW) to the convolution of x (n × Ch
// × H × W) plus the bias b (one per filter; nil for none), and to its
// max(·, 0) with relu. sc holds at
// least Scratch(n) floats. Runs of images and filters are spread over the
// CPUs; every output value is summed in the same order (the filter's
// weights in turn) for any number of them and any run length.
func (s *SparseConv) Forward(n int, x, b []float32, relu bool, y, sc []float32) {
	g := s.g
	phase, ss := s.hq*s.wq, g.S*g.S
	// Where image i's part of block k starts: k·blkStride + i·imgStride.
	ph, blkStride, imgStride, run := x, phase, g.Ch*phase, 1
	if !s.inPlace {
		ph, blkStride, imgStride = sc[:n*g.Ch*ss*phase], n*phase, phase
		run = min(n, max(1, sparseConvRun/phase))
		par.For(n*g.Ch, par.Grain(n*g.Ch, n*g.Ch*ss*phase/4), func(lo, hi int) {
			for p := lo; p < hi; p++ {
				img, c := p/g.Ch, p%g.Ch
				s.phases(x[p*g.H*g.W:][:g.H*g.W], ph[c*ss*blkStride+img*phase:], blkStride)
			}
		})
	}
	out, span := g.OH*g.OW, (g.OH-1)*s.wq+g.OW
	runs := (n + run - 1) / run
	par.For(runs*g.Filters, par.Grain(runs*g.Filters, n*(len(s.val)*span/4+g.Filters*out/4)), func(lo, hi int) {
		wide := make([]float32, (run-1)*phase+span) // one per CPU: a few KB
		for rf := lo; rf < hi; rf++ {
			r, f := rf/g.Filters, rf%g.Filters
			img0 := r * run
			cnt := min(run, n-img0)
			sum := wide[:(cnt-1)*phase+span]
			clear(sum)
			base := ph[img0*imgStride:]
			for p := s.ptr[f]; p < s.ptr[f+1]; p++ {
				Axpy(s.val[p], base[int(s.blk[p])*blkStride+int(s.sh[p]):][:len(sum)], sum)
			}
			bias := float32(0)
			if b != nil {
				bias = b[f]
			}
			for i := 0; i < cnt; i++ {
				BiasOutRows(y[((img0+i)*g.Filters+f)*out:][:out], sum[i*phase:], g.OH, g.OW, s.wq, bias, relu)
			}
		}
	})
}

// phases writes one channel's zero-padded input plane x (H×W) as the
// S×S phase planes that some weight reads, phase p's at dst[p·stride:].
func (s *SparseConv) phases(x, dst []float32, stride int) {
	g := s.g
	for a := 0; a < g.S; a++ {
		for bb := 0; bb < g.S; bb++ {
			if !s.used[a*g.S+bb] {
				continue
			}
			p := dst[(a*g.S+bb)*stride:][:s.hq*s.wq]
			// Columns j read input column j·S + bb − PL: those in [lo, hi)
			// fall inside the input.
			lo := min(max(0, ceilDiv(g.PL-bb, g.S)), s.wq)
			hi := max(min(s.wq, ceilDiv(g.W+g.PL-bb, g.S)), lo)
			for i := 0; i < s.hq; i++ {
				row := p[i*s.wq:][:s.wq]
				iy := i*g.S + a - g.PT
				if iy < 0 || iy >= g.H || lo == hi {
					clear(row)
					continue
				}
				src := x[iy*g.W:][:g.W]
				// The padding of a row is a value or two: stored, not
				// cleared through a call.
				for j := 0; j < lo; j++ {
					row[j] = 0
				}
				for j := hi; j < len(row); j++ {
					row[j] = 0
				}
				d := row[lo:hi]
				if g.S == 1 {
					copy(d, src[lo-g.PL:])
					continue
				}
				src = src[lo*g.S+bb-g.PL:]
				if g.S == 2 {
					src = src[:2*len(d)-1]
					for j := range d {
						d[j] = src[2*j]
					}
					continue
				}
				for j := range d {
					d[j] = src[j*g.S]
				}
			}
		}
	}
}

// ceilDiv is ⌈a/b⌉ for b > 0.
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// tailMasks[8−r:][:8] is the AVX2 mask of the first r of 8 lanes.
var tailMasks = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// BiasOut writes src + b to dst (src itself when b is 0), or ReLU(src + b)
// with relu.
func BiasOut(dst, src []float32, b float32, relu bool) {
	dst = dst[:len(src)]
	if hasAVX2 && len(src) > 0 && (relu || b != 0) {
		biasOutRowsAVX2(&dst[0], &src[0], 1, len(src), len(src), b, relu, &tailMasks[8-len(src)%8])
		return
	}
	switch {
	case relu:
		i := 0
		for ; i+4 <= len(src); i += 4 {
			s, d := src[i:i+4:i+4], dst[i:i+4:i+4]
			d[0], d[1], d[2], d[3] = ReLU(s[0]+b), ReLU(s[1]+b), ReLU(s[2]+b), ReLU(s[3]+b)
		}
		for ; i < len(src); i++ {
			dst[i] = ReLU(src[i] + b)
		}
	case b == 0:
		copy(dst, src)
	default:
		for i, v := range src {
			dst[i] = v + b
		}
	}
}

// BiasOutRows is BiasOut for rows rows of cols values: row r of src at
// src[r·stride:], of dst at dst[r·cols:] (a plane held wider than it is,
// written out at its width), in one call.
func BiasOutRows(dst, src []float32, rows, cols, stride int, b float32, relu bool) {
	if rows == 0 || cols == 0 {
		return
	}
	dst, src = dst[:rows*cols], src[:(rows-1)*stride+cols]
	if hasAVX2 && (relu || b != 0) {
		biasOutRowsAVX2(&dst[0], &src[0], rows, cols, stride, b, relu, &tailMasks[8-cols%8])
		return
	}
	for r := 0; r < rows; r++ {
		BiasOut(dst[r*cols:][:cols], src[r*stride:][:cols], b, relu)
	}
}

// ReLU is max(v, 0) without a branch: a v with its sign bit set (below
// zero, −0, or a NaN with the bit set) becomes +0, any other v is kept.
func ReLU(v float32) float32 {
	u := math.Float32bits(v)
	return math.Float32frombits(u &^ uint32(int32(u)>>31))
}
