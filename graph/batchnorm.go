package graph

import (
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/par"
)

// BatchNorm2D normalises every channel of a batch×channels×height×width
// input x and applies the learnable per-channel scale and shift:
// y = (x − μ)/√(σ² + eps)·scale + shift, PyTorch's batch_norm.
//
// In training (train set) μ and σ² are the mean and the biased variance of
// the channel over the batch and the positions, and every run updates the
// running statistics mean and variance, in place, with PyTorch's rule:
// mean ← (1−momentum)·mean + momentum·μ and variance ← (1−momentum)·variance
// + momentum·σ²·n/(n−1) (the unbiased variance of the n = batch·height·width
// values). Otherwise μ and σ² are the running statistics, which are only
// read. mean and variance are plain nodes bound to the buffers; no
// gradient flows to them. The backward pass (training only) is exact: the
// gradients of x, scale and shift through the batch statistics.
//
// Statistics are summed in float64, one channel per worker, so the result
// does not depend on GOMAXPROCS.
func BatchNorm2D(x, scale, shift, mean, variance *gorgonia.Node, eps, momentum float64, train bool) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("batch norm needs a 4-d input, got %v", s)
	}
	for _, p := range []*gorgonia.Node{scale, shift, mean, variance} {
		if p.Shape().TotalSize() != s[1] || p.Dims() != 1 {
			return nil, errors.Errorf("batch norm of %d channels: parameter %s has shape %v", s[1], p.Name(), p.Shape())
		}
		if p.Dtype() != x.Dtype() {
			return nil, errors.Errorf("batch norm: parameter %s is %v, the input %v", p.Name(), p.Dtype(), x.Dtype())
		}
	}
	if !(eps >= 0) || !(momentum >= 0 && momentum <= 1) {
		return nil, errors.Errorf("batch norm: eps %v, momentum %v", eps, momentum)
	}
	op := &bnOp{bnGeom: bnGeom{n: s[0], c: s[1], hw: s[2] * s[3], shape: s.Clone(), eps: eps, momentum: momentum, train: train}}
	if train && op.n*op.hw < 2 {
		return nil, errors.Errorf("batch norm in training needs more than one value per channel, got batch %d of %v", s[0], []int(s[1:]))
	}
	return gorgonia.ApplyOp(op, x, scale, shift, mean, variance)
}

type bnGeom struct {
	n, c, hw      int
	shape         tensor.Shape
	eps, momentum float64
	train         bool
}

func (g bnGeom) String() string {
	return fmt.Sprintf("%v eps %g momentum %g train %v", []int(g.shape), g.eps, g.momentum, g.train)
}

// channel calls fn with every batch element's plane of channel c.
func channel[T float32 | float64](g bnGeom, x []T, c int, fn func(plane []T, off int)) {
	for b := 0; b < g.n; b++ {
		off := (b*g.c + c) * g.hw
		fn(x[off:off+g.hw], off)
	}
}

// bnOp is the forward op. In training it keeps the batch statistics of its
// last run, which the gradient ops of the same step read.
type bnOp struct {
	bnGeom
	mu     sync.Mutex
	mean   []float64 // μ per channel
	invstd []float64 // 1/√(σ² + eps) per channel
	ran    bool
	y      reuse
}

func (*bnOp) Arity() int { return 5 }
func (*bnOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	t1 := gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(t4, t1, t1, t1, t1, t4)
}
func (op *bnOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (*bnOp) ReturnsPtr() bool                                         { return false }
func (*bnOp) CallsExtern() bool                                        { return false }
func (*bnOp) OverwritesInput() int                                     { return -1 }
func (op *bnOp) WriteHash(h hash.Hash)                                 { fmt.Fprintf(h, "spred.BatchNorm{%v,%p}", op.bnGeom, op) }
func (op *bnOp) Hashcode() uint32                                      { return hashOf(op) }
func (op *bnOp) String() string                                        { return "BatchNorm{" + op.bnGeom.String() + "}" }
func (*bnOp) DiffWRT(int) []bool                                       { return []bool{true, true, true, false, false} }

func (op *bnOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if !op.train {
		return nil, errors.New("BatchNorm: no gradient with the running statistics (build a training graph)")
	}
	dshift, err := gorgonia.ApplyOp(&bnGradOp{fwd: op, wrt: wrtBNShift}, grad)
	if err != nil {
		return nil, err
	}
	dscale, err := gorgonia.ApplyOp(&bnGradOp{fwd: op, wrt: wrtBNScale}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	dx, err := gorgonia.ApplyOp(&bnGradOp{fwd: op, wrt: wrtBNInput}, inputs[0], inputs[1], dscale, dshift, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dscale, dshift, nil, nil}, nil
}

func (op *bnOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 5 {
		return nil, errors.Errorf("BatchNorm: %d inputs", len(inputs))
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	switch x := inputs[0].Data().(type) {
	case []float32:
		return bnForward(op, x, inputs[1:])
	case []float64:
		return bnForward(op, x, inputs[1:])
	}
	return nil, errors.Errorf("BatchNorm: unsupported %T", inputs[0].Data())
}

// vectors returns the data of vs as []T of length n each.
func vectors[T float32 | float64](n int, vs ...gorgonia.Value) ([][]T, bool) {
	out := make([][]T, len(vs))
	for i, v := range vs {
		d, ok := v.Data().([]T)
		if !ok || len(d) != n {
			return nil, false
		}
		out[i] = d
	}
	return out, true
}

func bnForward[T float32 | float64](op *bnOp, x []T, params []gorgonia.Value) (gorgonia.Value, error) {
	g := op.bnGeom
	ps, ok := vectors[T](g.c, params...)
	if !ok || len(x) != g.shape.TotalSize() {
		return nil, errors.Errorf("BatchNorm %v: operands of %d values and %d parameters", g, len(x), len(params))
	}
	scale, shift, rmean, rvar := ps[0], ps[1], ps[2], ps[3]
	if len(op.mean) != g.c {
		op.mean, op.invstd = make([]float64, g.c), make([]float64, g.c)
	}
	t, y := output[T](&op.y, g.shape)
	m := float64(g.n * g.hw)
	par.For(g.c, 1, func(c0, c1 int) {
		var squares []float64
		if g.train {
			channelSums(g, c0, c1, sumX, x, nil, nil, op.mean[c0:c1])
			for c := c0; c < c1; c++ {
				op.mean[c] /= m
			}
			squares = make([]float64, c1-c0)
			channelSums(g, c0, c1, sumSquares, x, nil, op.mean, squares)
		}
		for c := c0; c < c1; c++ {
			var mu, v float64
			if g.train {
				mu, v = op.mean[c], squares[c-c0]/m
				rmean[c] = T((1-g.momentum)*float64(rmean[c]) + g.momentum*mu)
				rvar[c] = T((1-g.momentum)*float64(rvar[c]) + g.momentum*v*m/(m-1))
			} else {
				mu, v = float64(rmean[c]), float64(rvar[c])
			}
			is := 1 / math.Sqrt(v+g.eps)
			op.mean[c], op.invstd[c] = mu, is
			a, b := float64(scale[c])*is, float64(shift[c])
			channel(g, x, c, func(p []T, off int) {
				dst := y[off : off+len(p)]
				for i, e := range p {
					dst[i] = T((float64(e)-mu)*a + b)
				}
			})
		}
	})
	op.ran = true
	return t, nil
}

type bnWRT int

const (
	wrtBNInput bnWRT = iota
	wrtBNScale
	wrtBNShift
)

// bnGradOp is one gradient of a training batch norm from the output
// gradient dy, with the statistics of the forward op's run of the same
// step: wrt shift (input dy: Σ dy), wrt scale (inputs x, dy: Σ dy·x̂) or wrt
// the input (inputs x, scale, dscale, dshift, dy):
// dx = scale/σ·(dy − dshift/n − x̂·dscale/n), x̂ = (x − μ)/σ.
type bnGradOp struct {
	fwd *bnOp
	wrt bnWRT
	out reuse
}

func (op *bnGradOp) Arity() int {
	switch op.wrt {
	case wrtBNShift:
		return 1
	case wrtBNScale:
		return 2
	}
	return 5
}
func (op *bnGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	t1 := gorgonia.TensorType{Dims: 1, Of: a}
	switch op.wrt {
	case wrtBNShift:
		return hm.NewFnType(t4, t1)
	case wrtBNScale:
		return hm.NewFnType(t4, t4, t1)
	}
	return hm.NewFnType(t4, t1, t1, t1, t4, t4)
}
func (op *bnGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.wrt == wrtBNInput {
		return op.fwd.shape.Clone(), nil
	}
	return tensor.Shape{op.fwd.c}, nil
}
func (*bnGradOp) ReturnsPtr() bool     { return false }
func (*bnGradOp) CallsExtern() bool    { return false }
func (*bnGradOp) OverwritesInput() int { return -1 }
func (op *bnGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.BatchNormGrad{%v,%d,%p}", op.fwd.bnGeom, op.wrt, op)
}
func (op *bnGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *bnGradOp) String() string {
	return fmt.Sprintf("BatchNormGrad%d{%v}", op.wrt, op.fwd.bnGeom)
}

func (op *bnGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("%v: %d inputs", op, len(inputs))
	}
	op.fwd.mu.Lock()
	defer op.fwd.mu.Unlock()
	if !op.fwd.ran {
		return nil, errors.Errorf("%v: the forward pass has not run", op)
	}
	switch dy := inputs[len(inputs)-1].Data().(type) {
	case []float32:
		return bnBackward(op, dy, inputs[:len(inputs)-1])
	case []float64:
		return bnBackward(op, dy, inputs[:len(inputs)-1])
	}
	return nil, errors.Errorf("%v: unsupported %T", op, inputs[len(inputs)-1].Data())
}

func bnBackward[T float32 | float64](op *bnGradOp, dy []T, in []gorgonia.Value) (gorgonia.Value, error) {
	g := op.fwd.bnGeom
	if len(dy) != g.shape.TotalSize() {
		return nil, errors.Errorf("%v: output gradient of %d values", op, len(dy))
	}
	mean, invstd := op.fwd.mean, op.fwd.invstd
	if op.wrt == wrtBNShift {
		t, d := output[T](&op.out, tensor.Shape{g.c})
		par.For(g.c, 1, func(c0, c1 int) {
			s := make([]float64, c1-c0)
			channelSums(g, c0, c1, sumX, dy, nil, nil, s)
			for c := c0; c < c1; c++ {
				d[c] = T(s[c-c0])
			}
		})
		return t, nil
	}
	x, ok := in[0].Data().([]T)
	if !ok || len(x) != len(dy) {
		return nil, errors.Errorf("%v: input %T", op, in[0].Data())
	}
	if op.wrt == wrtBNScale {
		t, d := output[T](&op.out, tensor.Shape{g.c})
		par.For(g.c, 1, func(c0, c1 int) {
			s := make([]float64, c1-c0)
			channelSums(g, c0, c1, sumProduct, x, dy, mean, s)
			for c := c0; c < c1; c++ {
				d[c] = T(s[c-c0] * invstd[c])
			}
		})
		return t, nil
	}
	ps, ok := vectors[T](g.c, in[1:]...)
	if !ok {
		return nil, errors.Errorf("%v: parameters of the wrong type or size", op)
	}
	scale, dscale, dshift := ps[0], ps[1], ps[2]
	t, dx := output[T](&op.out, g.shape)
	m := float64(g.n * g.hw)
	par.For(g.c, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			mu, is := mean[c], invstd[c]
			a := float64(scale[c]) * is
			dd := float64(dshift[c]) / m
			e := float64(dscale[c]) / m
			channel(g, x, c, func(p []T, off int) {
				gp, dst := dy[off:off+len(p)], dx[off:off+len(p)]
				for i, v := range p {
					dst[i] = T(a * (float64(gp[i]) - dd - (float64(v)-mu)*is*e))
				}
			})
		}
	})
	return t, nil
}
