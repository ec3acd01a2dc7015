package graph

import (
	"fmt"
	"hash"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
)

// MaxPool2D takes the maximum over kernel×kernel windows moved by stride
// over a batch×channels×height×width input, without padding (see
// MaxPool2DPad).
//
// Gorgonia's MaxPool2D is not used: its backward pass indexes with -1 and
// panics inside the VM's goroutine (killing the process) when a window holds
// a NaN, which turns a diverging run into a crash instead of an error. This
// op picks the first maximum of a window, treats NaN as smaller than any
// number, and routes the gradient to that one input.
func MaxPool2D(x *gorgonia.Node, kernel, stride int) (*gorgonia.Node, error) {
	return MaxPool2DPad(x, kernel, stride, 0)
}

// MaxPool2DPad is MaxPool2D with pad rows and columns of -∞ on every side
// (PyTorch's max_pool2d padding), at most half the kernel so that every
// window holds an input value.
func MaxPool2DPad(x *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("max-pooling needs a 4-d input, got %v", s)
	}
	if pad < 0 || 2*pad > kernel {
		return nil, errors.Errorf("max-pooling padding %d must be in [0, kernel/2] for kernel %d", pad, kernel)
	}
	if kernel <= 0 || stride <= 0 || s[2]+2*pad < kernel || s[3]+2*pad < kernel {
		return nil, errors.Errorf("max-pooling window %d stride %d padding %d does not fit input %v", kernel, stride, pad, s)
	}
	return gorgonia.ApplyOp(&poolOp{k: kernel, s: stride, p: pad}, x)
}

// poolOp is the forward op. It keeps the position of every window's
// maximum from its last run, which the backward op of the same step reads.
type poolOp struct {
	k, s, p int

	mu  sync.Mutex
	in  tensor.Shape
	arg []int32 // index into the input of each output's maximum
	y   reuse
}

func (p *poolOp) out(in tensor.Shape) tensor.Shape {
	return tensor.Shape{in[0], in[1], (in[2]+2*p.p-p.k)/p.s + 1, (in[3]+2*p.p-p.k)/p.s + 1}
}

func (*poolOp) Arity() int { return 1 }
func (*poolOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (p *poolOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || s.Dims() != 4 {
		return nil, errors.Errorf("MaxPool: input shape %v", in[0])
	}
	return p.out(s), nil
}
func (*poolOp) ReturnsPtr() bool     { return false }
func (*poolOp) CallsExtern() bool    { return false }
func (*poolOp) OverwritesInput() int { return -1 }
func (p *poolOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.MaxPool{%d,%d,%d,%p}", p.k, p.s, p.p, p)
}
func (p *poolOp) Hashcode() uint32 { return hashOf(p) }
func (p *poolOp) String() string   { return fmt.Sprintf("MaxPool{%d,%d,%d}", p.k, p.s, p.p) }
func (*poolOp) DiffWRT(int) []bool { return []bool{true} }

func (p *poolOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(poolGradOp{p: p, out: new(reuse)}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{g}, nil
}

func (p *poolOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("MaxPool: %d inputs", len(inputs))
	}
	in := inputs[0].Shape().Clone()
	if in.Dims() != 4 {
		return nil, errors.Errorf("MaxPool: input shape %v", in)
	}
	out := p.out(in)
	p.mu.Lock()
	defer p.mu.Unlock()
	if cap(p.arg) < out.TotalSize() {
		p.arg = make([]int32, out.TotalSize())
	}
	p.arg, p.in = p.arg[:out.TotalSize()], in
	switch x := inputs[0].Data().(type) {
	case []float32:
		t, y := output[float32](&p.y, out)
		kernels.MaxPoolPad(p.k, p.s, p.p, in[0]*in[1], in[2], in[3], x, y, p.arg)
		return t, nil
	case []float64:
		t, y := output[float64](&p.y, out)
		kernels.MaxPoolPad(p.k, p.s, p.p, in[0]*in[1], in[2], in[3], x, y, p.arg)
		return t, nil
	}
	return nil, errors.Errorf("MaxPool: unsupported %T", inputs[0].Data())
}

// poolGradOp routes the output gradient to the maximum of every window.
type poolGradOp struct {
	p   *poolOp
	out *reuse
}

func (poolGradOp) Arity() int { return 2 }
func (poolGradOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (poolGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("MaxPoolGrad: input shape %v", in[0])
	}
	return s.Clone(), nil
}
func (poolGradOp) ReturnsPtr() bool     { return false }
func (poolGradOp) CallsExtern() bool    { return false }
func (poolGradOp) OverwritesInput() int { return -1 }
func (g poolGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.MaxPoolGrad{%d,%d,%p}", g.p.k, g.p.s, g.p)
}
func (g poolGradOp) Hashcode() uint32 { return hashOf(g) }
func (g poolGradOp) String() string   { return fmt.Sprintf("MaxPoolGrad{%d,%d}", g.p.k, g.p.s) }

// Do takes the input (whose forward pass of this step recorded the
// maximum positions) and the output gradient.
func (g poolGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("MaxPoolGrad: %d inputs", len(inputs))
	}
	in := inputs[0].Shape().Clone()
	g.p.mu.Lock()
	defer g.p.mu.Unlock()
	n := g.p.out(in).TotalSize()
	if !g.p.in.Eq(in) || len(g.p.arg) != n || inputs[1].Shape().TotalSize() != n {
		return nil, errors.Errorf("MaxPoolGrad: input %v and gradient %v do not match the forward pass %v", in, inputs[1].Shape(), g.p.in)
	}
	switch inputs[0].Data().(type) {
	case []float32:
		dy, ok := inputs[1].Data().([]float32)
		if !ok {
			return nil, errors.New("MaxPoolGrad: mixed dtypes")
		}
		t, dx := output[float32](g.out, in)
		clear(dx)
		unpool(g.p, in, dy, dx)
		return t, nil
	case []float64:
		dy, ok := inputs[1].Data().([]float64)
		if !ok {
			return nil, errors.New("MaxPoolGrad: mixed dtypes")
		}
		t, dx := output[float64](g.out, in)
		clear(dx)
		unpool(g.p, in, dy, dx)
		return t, nil
	}
	return nil, errors.Errorf("MaxPoolGrad: unsupported %T", inputs[0].Data())
}

// unpool adds every output gradient onto its window's maximum, one plane
// per worker (windows of one plane stay in that plane).
func unpool[T float32 | float64](p *poolOp, in tensor.Shape, dy, dx []T) {
	per := len(dy) / (in[0] * in[1])
	par.For(in[0]*in[1], 1, func(c0, c1 int) {
		for o := c0 * per; o < c1*per; o++ {
			dx[p.arg[o]] += dy[o]
		}
	})
}
