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
type SparseConv struct {
	g       Conv
	hq, wq  int
	inPlace bool    // the input is its own phase plane: no copy
	used    []bool  // the phases some weight reads (the others are not written)
	ptr     []int32 // filter f's weights: off, val[ptr[f]:ptr[f+1]]
	off     []int32 // offset of a weight's shifted plane in one image's phase planes
	val     []float32
}

// NewSparseConv keeps the non-zero weights of w (Filters × Ch/groups × K
// × K, row-major, the filters of group i reading channels
// [i·Ch/groups, (i+1)·Ch/groups)) for the geometry g; g.Batch does not
// matter.
func NewSparseConv(g Conv, groups int, w []float32) *SparseConv {
	s := &SparseConv{g: g, hq: g.OH + (g.K-1)/g.S, wq: g.OW + (g.K-1)/g.S}
	s.inPlace = g.S == 1 && g.PT == 0 && g.PL == 0 && g.H == s.hq && g.W == s.wq
	fg, cg, kk := g.Filters/groups, g.Ch/groups, g.K*g.K
	phase, planes := s.hq*s.wq, g.S*g.S*s.hq*s.wq
	s.ptr = make([]int32, g.Filters+1)
	s.used = make([]bool, g.S*g.S)
	for f := 0; f < g.Filters; f++ {
		c0 := f / fg * cg
		for i, v := range w[f*cg*kk:][:cg*kk] {
			if v == 0 {
				continue
			}
			c, ki, kj := c0+i/kk, i%kk/g.K, i%g.K
			s.used[ki%g.S*g.S+kj%g.S] = true
			p := (ki%g.S*g.S + kj%g.S) * phase
			s.off = append(s.off, int32(c*planes+p+ki/g.S*s.wq+kj/g.S))
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
// least Scratch(n) floats. Images and filters are spread over the CPUs;
// every output value is summed in the same order for any number of them.
func (s *SparseConv) Forward(n int, x, b []float32, relu bool, y, sc []float32) {
	g := s.g
	planes := g.S * g.S * s.hq * s.wq
	ph := x
	if !s.inPlace {
		ph = sc[:n*g.Ch*planes]
		par.For(n*g.Ch, par.Grain(n*g.Ch, n*g.Ch*planes/4), func(lo, hi int) {
			for p := lo; p < hi; p++ {
				s.phases(x[p*g.H*g.W:][:g.H*g.W], ph[p*planes:][:planes])
			}
		})
	}
	out, span := g.OH*g.OW, (g.OH-1)*s.wq+g.OW
	par.For(n*g.Filters, par.Grain(n*g.Filters, n*(len(s.val)*span/4+g.Filters*out/4)), func(lo, hi int) {
		wide := make([]float32, span) // one per CPU: a few KB
		for bf := lo; bf < hi; bf++ {
			img, f := bf/g.Filters, bf%g.Filters
			clear(wide)
			base := ph[img*g.Ch*planes:]
			for p := s.ptr[f]; p < s.ptr[f+1]; p++ {
				Axpy(s.val[p], base[s.off[p]:][:span], wide)
			}
			bias := float32(0)
			if b != nil {
				bias = b[f]
			}
			dst := y[bf*out:][:out]
			for oy := 0; oy < g.OH; oy++ {
				BiasOut(dst[oy*g.OW:][:g.OW], wide[oy*s.wq:][:g.OW], bias, relu)
			}
		}
	})
}

// phases writes one channel's zero-padded input plane x (H×W) as the
// S×S phase planes that some weight reads.
func (s *SparseConv) phases(x, dst []float32) {
	g := s.g
	for a := 0; a < g.S; a++ {
		for bb := 0; bb < g.S; bb++ {
			if !s.used[a*g.S+bb] {
				continue
			}
			p := dst[(a*g.S+bb)*s.hq*s.wq:][:s.hq*s.wq]
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
		biasOutAVX2(&dst[0], &src[0], len(src), b, relu, &tailMasks[8-len(src)%8])
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

// ReLU is max(v, 0) without a branch: a v with its sign bit set (below
// zero, −0, or a NaN with the bit set) becomes +0, any other v is kept.
func ReLU(v float32) float32 {
	u := math.Float32bits(v)
	return math.Float32frombits(u &^ uint32(int32(u)>>31))
}
