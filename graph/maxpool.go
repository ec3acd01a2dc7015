package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool2D takes the maximum over kernel×kernel windows moved by stride
// over a batch×channels×height×width input, without padding.
//
// Gorgonia's MaxPool2D is not used: its backward pass indexes with -1 and
// panics inside the VM's goroutine (killing the process) when a window holds
// a NaN, which turns a diverging run into a crash instead of an error. This
// op picks the first maximum of a window, treats NaN as smaller than any
// number, and routes the gradient to that one input.
func MaxPool2D(x *gorgonia.Node, kernel, stride int) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("max-pooling needs a 4-d input, got %v", s)
	}
	if kernel <= 0 || stride <= 0 || s[2] < kernel || s[3] < kernel {
		return nil, errors.Errorf("max-pooling window %d stride %d does not fit input %v", kernel, stride, s)
	}
	return gorgonia.ApplyOp(poolOp{k: kernel, s: stride}, x)
}

type poolOp struct{ k, s int }

func (p poolOp) out(in tensor.Shape) tensor.Shape {
	return tensor.Shape{in[0], in[1], (in[2]-p.k)/p.s + 1, (in[3]-p.k)/p.s + 1}
}

func (poolOp) Arity() int { return 1 }
func (poolOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (p poolOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || s.Dims() != 4 {
		return nil, errors.Errorf("MaxPool: input shape %v", in[0])
	}
	return p.out(s), nil
}
func (poolOp) ReturnsPtr() bool        { return false }
func (poolOp) CallsExtern() bool       { return false }
func (poolOp) OverwritesInput() int    { return -1 }
func (p poolOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "spred.MaxPool{%d,%d}", p.k, p.s) }
func (p poolOp) Hashcode() uint32      { return hashOf(p) }
func (p poolOp) String() string        { return fmt.Sprintf("MaxPool{%d,%d}", p.k, p.s) }
func (poolOp) DiffWRT(int) []bool      { return []bool{true} }

func (p poolOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(poolGradOp{p}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{g}, nil
}

func (p poolOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("MaxPool: %d inputs", len(inputs))
	}
	in := inputs[0].Shape()
	out := p.out(in)
	switch x := inputs[0].Data().(type) {
	case []float32:
		y := make([]float32, out.TotalSize())
		pool(p, in, x, func(o, i int) { y[o] = x[i] })
		return tensor.New(tensor.WithShape(out...), tensor.WithBacking(y)), nil
	case []float64:
		y := make([]float64, out.TotalSize())
		pool(p, in, x, func(o, i int) { y[o] = x[i] })
		return tensor.New(tensor.WithShape(out...), tensor.WithBacking(y)), nil
	}
	return nil, errors.Errorf("MaxPool: unsupported %T", inputs[0].Data())
}

// pool calls emit(outIndex, inIndex) with the index of the first maximum of
// every window (NaN loses against any number).
func pool[T float32 | float64](p poolOp, in tensor.Shape, x []T, emit func(o, i int)) {
	planes, h, w := in[0]*in[1], in[2], in[3]
	oh, ow := (h-p.k)/p.s+1, (w-p.k)/p.s+1
	o := 0
	for c := 0; c < planes; c++ {
		base := c * h * w
		for r := 0; r < oh; r++ {
			for q := 0; q < ow; q++ {
				best := base + r*p.s*w + q*p.s
				for dr := 0; dr < p.k; dr++ {
					row := base + (r*p.s+dr)*w + q*p.s
					for dq := 0; dq < p.k; dq++ {
						if v := x[row+dq]; v > x[best] || (x[best] != x[best] && v == v) {
							best = row + dq
						}
					}
				}
				emit(o, best)
				o++
			}
		}
	}
}

// poolGradOp routes the output gradient to the maximum of every window.
type poolGradOp struct{ p poolOp }

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
func (poolGradOp) ReturnsPtr() bool        { return false }
func (poolGradOp) CallsExtern() bool       { return false }
func (poolGradOp) OverwritesInput() int    { return -1 }
func (g poolGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "spred.MaxPoolGrad{%d,%d}", g.p.k, g.p.s) }
func (g poolGradOp) Hashcode() uint32      { return hashOf(g) }
func (g poolGradOp) String() string        { return fmt.Sprintf("MaxPoolGrad{%d,%d}", g.p.k, g.p.s) }

func (g poolGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("MaxPoolGrad: %d inputs", len(inputs))
	}
	in := inputs[0].Shape().Clone()
	switch x := inputs[0].Data().(type) {
	case []float32:
		dy, ok := inputs[1].Data().([]float32)
		if !ok {
			return nil, errors.New("MaxPoolGrad: mixed dtypes")
		}
		dx := make([]float32, len(x))
		pool(g.p, in, x, func(o, i int) { dx[i] += dy[o] })
		return tensor.New(tensor.WithShape(in...), tensor.WithBacking(dx)), nil
	case []float64:
		dy, ok := inputs[1].Data().([]float64)
		if !ok {
			return nil, errors.New("MaxPoolGrad: mixed dtypes")
		}
		dx := make([]float64, len(x))
		pool(g.p, in, x, func(o, i int) { dx[i] += dy[o] })
		return tensor.New(tensor.WithShape(in...), tensor.WithBacking(dx)), nil
	}
	return nil, errors.Errorf("MaxPoolGrad: unsupported %T", inputs[0].Data())
}
