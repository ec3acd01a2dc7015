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
	"github.com/spred-go/spred/models"
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
// (PyTorch's max_pool2d padding); every window must hold an input value.
func MaxPool2DPad(x *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	return MaxPool2DWindow(x, PoolWindow{Kernel: kernel, Stride: stride, Pads: [4]int{pad, pad, pad, pad}})
}

// MaxPool2DWindow is MaxPool2D over the windows of win (padding per side,
// dilated cells, the output size rounded up); ExcludePad does not apply.
// Every window must hold an input value.
func MaxPool2DWindow(x *gorgonia.Node, win PoolWindow) (*gorgonia.Node, error) {
	g, err := win.geometry("max-pooling", x.Shape())
	if err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&poolOp{g: g}, x)
}

// PoolWindow is the window of MaxPool2DWindow and AvgPool2DWindow: a
// Kernel×Kernel window whose cells lie Dilation apart (0 means 1), moved by
// Stride, over an input with Pads rows and columns of padding [top, left,
// bottom, right]; Ceil rounds the output size up (models.WindowOut), and
// ExcludePad leaves the padding out of a mean's divisor.
type PoolWindow struct {
	Kernel, Stride, Dilation int
	Pads                     [4]int
	Ceil, ExcludePad         bool
}

// Window is the pooling window of a maxpool2d or avgpool2d layer.
func Window(l models.Layer) PoolWindow {
	return PoolWindow{Kernel: l.Kernel, Stride: l.StrideOrDefault(), Dilation: l.Dilation, Pads: l.PadSides(),
		Ceil: l.CeilMode, ExcludePad: l.ExcludePad}
}

// geometry checks the window on a batch×channels×height×width input.
func (win PoolWindow) geometry(what string, s tensor.Shape) (kernels.Pool, error) {
	if s.Dims() != 4 {
		return kernels.Pool{}, errors.Errorf("%s needs a 4-d input, got %v", what, s)
	}
	p, d := win.Pads, max(win.Dilation, 1)
	if win.Kernel <= 0 || win.Stride <= 0 || win.Dilation < 0 || min(p[0], p[1], p[2], p[3]) < 0 {
		return kernels.Pool{}, errors.Errorf("%s window %d stride %d dilation %d padding %v", what, win.Kernel, win.Stride, win.Dilation, p)
	}
	g := kernels.Pool{H: s[2], W: s[3], KH: win.Kernel, KW: win.Kernel, SH: win.Stride, SW: win.Stride, D: d,
		T: p[0], L: p[1], B: p[2], R: p[3], ExcludePad: win.ExcludePad,
		OH: models.WindowOut(s[2], win.Kernel, win.Stride, d, p[0], p[2], win.Ceil),
		OW: models.WindowOut(s[3], win.Kernel, win.Stride, d, p[1], p[3], win.Ceil)}
	if g.OH <= 0 || g.OW <= 0 || g.Empty() {
		return kernels.Pool{}, errors.Errorf("%s window %d stride %d dilation %d padding %v does not fit input %v (every window must hold an input value)", what, win.Kernel, win.Stride, d, p, s)
	}
	return g, nil
}

// poolOp is the forward op. It keeps the position of every window's
// maximum from its last run, which the backward op of the same step reads.
type poolOp struct {
	g kernels.Pool

	mu  sync.Mutex
	in  tensor.Shape
	arg []int32 // index into the input of each output's maximum
	y   reuse
}

func (p *poolOp) out(in tensor.Shape) tensor.Shape {
	return tensor.Shape{in[0], in[1], p.g.OH, p.g.OW}
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
	fmt.Fprintf(h, "spred.MaxPool{%+v,%p}", p.g, p)
}
func (p *poolOp) Hashcode() uint32 { return hashOf(p) }
func (p *poolOp) String() string   { return fmt.Sprintf("MaxPool{%+v}", p.g) }
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
	if in.Dims() != 4 || in[2] != p.g.H || in[3] != p.g.W {
		return nil, errors.Errorf("MaxPool: input shape %v for a %d×%d window geometry", in, p.g.H, p.g.W)
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
		kernels.MaxPoolWindow(p.g, in[0]*in[1], x, y, p.arg)
		return t, nil
	case []float64:
		t, y := output[float64](&p.y, out)
		kernels.MaxPoolWindow(p.g, in[0]*in[1], x, y, p.arg)
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
	fmt.Fprintf(h, "spred.MaxPoolGrad{%+v,%p}", g.p.g, g.p)
}
func (g poolGradOp) Hashcode() uint32 { return hashOf(g) }
func (g poolGradOp) String() string   { return fmt.Sprintf("MaxPoolGrad{%+v}", g.p.g) }

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
