package infer

import (
	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
)

// denseStep is y = x·W + b with W in×out: a BLAS product with the dense
// W, or, sparse, yᵀ = Wᵀ·xᵀ with Wᵀ in CSR, where every non-zero weight adds
// a scaled row of xᵀ (one value per sample, contiguous) to a row of yᵀ.
type denseStep struct {
	in, out int
	w       []float32
	csr     *kernels.CSR[float32] // Wᵀ, out×in
	b       []float32
	xt, yt  []float32
}

func newDense(in, out int, w, b []float32, sparse bool) *denseStep {
	s := &denseStep{in: in, out: out, b: b}
	if sparse {
		wt := make([]float32, len(w))
		for i := 0; i < in; i++ {
			for j := 0; j < out; j++ {
				wt[j*in+i] = w[i*out+j]
			}
		}
		s.csr = kernels.NewCSR(wt, out, in)
	} else {
		s.w = w
	}
	return s
}

func (s *denseStep) outSize() int { return s.out }

func (s *denseStep) run(n int, x, y []float32) {
	if s.csr == nil {
		for r := 0; r < n; r++ {
			copy(y[r*s.out:(r+1)*s.out], s.b)
		}
		kernels.Gemm(false, false, n, s.out, s.in, 1, x, s.in, s.w, s.out, 1, y, s.out)
		return
	}
	if n == 1 { // xᵀ and yᵀ are x and y
		s.csr.MulDense(x, 1, y)
		for j, b := range s.b {
			y[j] += b
		}
		return
	}
	if cap(s.xt) < n*s.in {
		s.xt, s.yt = make([]float32, n*s.in), make([]float32, n*s.out)
	}
	xt, yt := s.xt[:n*s.in], s.yt[:n*s.out]
	for r := 0; r < n; r++ {
		for k, v := range x[r*s.in : (r+1)*s.in] {
			xt[k*n+r] = v
		}
	}
	s.csr.MulDense(xt, n, yt)
	for r := 0; r < n; r++ {
		yr := y[r*s.out : (r+1)*s.out]
		for j, b := range s.b {
			yr[j] = yt[j*n+r] + b
		}
	}
}

// convStep is a convolution with bias: im2col, then the filters (dense or
// CSR, Filters × Ch·K·K) times the column matrix.
type convStep struct {
	g    kernels.Conv // for the largest batch
	w    []float32
	csr  *kernels.CSR[float32]
	b    []float32
	cols []float32
	tmp  []float32
}

func newConv(g kernels.Conv, w, b []float32, sparse bool) *convStep {
	s := &convStep{g: g, b: b, cols: make([]float32, g.Rows()*g.Cols()), tmp: make([]float32, g.Filters*g.Cols())}
	if sparse {
		s.csr = kernels.NewCSR(w, g.Filters, g.Rows())
	} else {
		s.w = w
	}
	return s
}

func (s *convStep) outSize() int { return s.g.Filters * s.g.OH * s.g.OW }

func (s *convStep) run(n int, x, y []float32) {
	g := s.g
	g.Batch = n
	cols, tmp := s.cols[:g.Rows()*g.Cols()], s.tmp[:g.Filters*g.Cols()]
	kernels.Im2Col(g, x, cols)
	if s.csr != nil {
		s.csr.MulDense(cols, g.Cols(), tmp)
	} else {
		kernels.Gemm(false, false, g.Filters, g.Cols(), g.Rows(), 1, s.w, g.Rows(), cols, g.Cols(), 0, tmp, g.Cols())
	}
	plane := g.OH * g.OW
	par.For(n, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for f := 0; f < g.Filters; f++ {
				dst := y[(b*g.Filters+f)*plane:][:plane]
				src := tmp[f*g.Cols()+b*plane:][:plane]
				bf := s.b[f]
				for i, v := range src {
					dst[i] = v + bf
				}
			}
		}
	})
}

// poolStep is max pooling over ch planes of h×w.
type poolStep struct {
	k, s, ch, h, w, out int
	arg                 []int32
}

func (s *poolStep) outSize() int { return s.out }

func (s *poolStep) run(n int, x, y []float32) {
	kernels.MaxPool(s.k, s.s, n*s.ch, s.h, s.w, x, y, s.arg[:n*s.out])
}

// reluStep is max(x, 0) on size values per sample.
type reluStep int

func (s reluStep) outSize() int { return int(s) }

func (s reluStep) run(n int, x, y []float32) {
	par.For(n*int(s), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = max(v, 0)
		}
	})
}
