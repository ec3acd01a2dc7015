package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/kernels"
)

// AvgPool2D is the mean over kernel×kernel windows moved by stride over a
// batch×channels×height×width input with pad rows and columns of zeros on
// every side, which count in the mean (PyTorch's avg_pool2d with
// count_include_pad): every window divides by kernel². Every window must
// hold an input value. Gorgonia has no average pooling.
func AvgPool2D(x *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	return AvgPool2DWindow(x, PoolWindow{Kernel: kernel, Stride: stride, Pads: [4]int{pad, pad, pad, pad}})
}

// AvgPool2DWindow is AvgPool2D over the windows of win: padding per side,
// the output size rounded up (a window that passes the padding divides by
// its cells inside the padded input), and with ExcludePad a divisor that
// counts the input cells of the window only.
func AvgPool2DWindow(x *gorgonia.Node, win PoolWindow) (*gorgonia.Node, error) {
	g, err := win.geometry("average pooling", x.Shape())
	if err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(&avgPoolOp{avgGeom: avgGeom{in: x.Shape().Clone(), Pool: g}}, x)
}

// GlobalAvgPool2D is the mean of every channel of a batch×channels×
// height×width input: batch×channels×1×1.
func GlobalAvgPool2D(x *gorgonia.Node) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("global average pooling needs a 4-d input, got %v", s)
	}
	g := kernels.Pool{H: s[2], W: s[3], KH: s[2], KW: s[3], SH: 1, SW: 1, OH: 1, OW: 1}
	return gorgonia.ApplyOp(&avgPoolOp{avgGeom: avgGeom{in: s.Clone(), Pool: g}}, x)
}

type avgGeom struct {
	in tensor.Shape
	kernels.Pool
}

func (g avgGeom) out() tensor.Shape {
	return tensor.Shape{g.in[0], g.in[1], g.OH, g.OW}
}

func (g avgGeom) String() string {
	return fmt.Sprintf("%v %+v", []int(g.in), g.Pool)
}

// avgPoolOp is the forward op (input x) or, with grad set, its gradient
// (input dy, output shaped like x).
type avgPoolOp struct {
	avgGeom
	grad bool
	y    reuse
}

func (*avgPoolOp) Arity() int { return 1 }
func (*avgPoolOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op *avgPoolOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return op.in.Clone(), nil
	}
	return op.out(), nil
}
func (*avgPoolOp) ReturnsPtr() bool     { return false }
func (*avgPoolOp) CallsExtern() bool    { return false }
func (*avgPoolOp) OverwritesInput() int { return -1 }
func (op *avgPoolOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.AvgPool{%v,%v,%p}", op.avgGeom, op.grad, op)
}
func (op *avgPoolOp) Hashcode() uint32 { return hashOf(op) }
func (op *avgPoolOp) String() string {
	if op.grad {
		return "AvgPoolGrad{" + op.avgGeom.String() + "}"
	}
	return "AvgPool{" + op.avgGeom.String() + "}"
}
func (*avgPoolOp) DiffWRT(int) []bool { return []bool{true} }

func (op *avgPoolOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.grad {
		return nil, errors.New("AvgPoolGrad is not differentiable")
	}
	d, err := gorgonia.ApplyOp(&avgPoolOp{avgGeom: op.avgGeom, grad: true}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

func (op *avgPoolOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, errors.Errorf("%v: %d inputs", op, len(inputs))
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		return avgPool(op, x)
	case []float64:
		return avgPool(op, x)
	}
	return nil, errors.Errorf("%v: unsupported %T", op, inputs[0].Data())
}

func avgPool[T float32 | float64](op *avgPoolOp, x []T) (gorgonia.Value, error) {
	g := op.avgGeom
	planes := g.in[0] * g.in[1]
	if op.grad {
		if len(x) != g.out().TotalSize() {
			return nil, errors.Errorf("%v: gradient of %d values", op, len(x))
		}
		t, dx := output[T](&op.y, g.in)
		clear(dx)
		kernels.AvgPoolWindowGrad(g.Pool, planes, x, dx)
		return t, nil
	}
	if len(x) != g.in.TotalSize() {
		return nil, errors.Errorf("%v: input of %d values", op, len(x))
	}
	t, y := output[T](&op.y, g.out())
	kernels.AvgPoolWindow(g.Pool, planes, x, y)
	return t, nil
}
