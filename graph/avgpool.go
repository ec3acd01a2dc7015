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
// count_include_pad): every window divides by kernel². The padding is at
// most half the kernel. Gorgonia has no average pooling.
func AvgPool2D(x *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("average pooling needs a 4-d input, got %v", s)
	}
	if pad < 0 || 2*pad > kernel {
		return nil, errors.Errorf("average pooling padding %d must be in [0, kernel/2] for kernel %d", pad, kernel)
	}
	if kernel <= 0 || stride <= 0 || s[2]+2*pad < kernel || s[3]+2*pad < kernel {
		return nil, errors.Errorf("average pooling window %d stride %d padding %d does not fit input %v", kernel, stride, pad, s)
	}
	return gorgonia.ApplyOp(&avgPoolOp{avgGeom: avgGeom{in: s.Clone(), kh: kernel, kw: kernel, sh: stride, sw: stride, ph: pad, pw: pad}}, x)
}

// GlobalAvgPool2D is the mean of every channel of a batch×channels×
// height×width input: batch×channels×1×1.
func GlobalAvgPool2D(x *gorgonia.Node) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 4 {
		return nil, errors.Errorf("global average pooling needs a 4-d input, got %v", s)
	}
	return gorgonia.ApplyOp(&avgPoolOp{avgGeom: avgGeom{in: s.Clone(), kh: s[2], kw: s[3], sh: 1, sw: 1}}, x)
}

type avgGeom struct {
	in                     tensor.Shape
	kh, kw, sh, sw, ph, pw int
}

func (g avgGeom) out() tensor.Shape {
	return tensor.Shape{g.in[0], g.in[1], (g.in[2]+2*g.ph-g.kh)/g.sh + 1, (g.in[3]+2*g.pw-g.kw)/g.sw + 1}
}

func (g avgGeom) String() string {
	return fmt.Sprintf("%v k%dx%d s%dx%d p%dx%d", []int(g.in), g.kh, g.kw, g.sh, g.sw, g.ph, g.pw)
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
		kernels.AvgPoolGrad(g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, planes, g.in[2], g.in[3], x, dx)
		return t, nil
	}
	if len(x) != g.in.TotalSize() {
		return nil, errors.Errorf("%v: input of %d values", op, len(x))
	}
	t, y := output[T](&op.y, g.out())
	kernels.AvgPool(g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, planes, g.in[2], g.in[3], x, y)
	return t, nil
}
