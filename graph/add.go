package graph

import (
	"fmt"
	"hash"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/par"
)

// Add is the element-wise sum a+b of two tensors of the same shape (a
// residual connection). The output is kept from run to run (see reuse);
// the gradient of both operands is the output gradient itself, so the
// backward pass costs nothing.
func Add(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, errors.Errorf("sum of shapes %v and %v", a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return nil, errors.Errorf("sum of %v and %v", a.Dtype(), b.Dtype())
	}
	return gorgonia.ApplyOp(&addOp{binary: binary{shape: a.Shape().Clone()}}, a, b)
}

type addOp struct {
	binary
	out reuse
}

func (op *addOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "spred.Add{%v,%p}", op.shape, op) }
func (op *addOp) Hashcode() uint32      { return hashOf(op) }
func (op *addOp) String() string        { return fmt.Sprintf("Add%v", op.shape) }

func (op *addOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return gorgonia.Nodes{grad, grad}, nil
}

func (op *addOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return doBinary("Add", inputs,
		func(a []float32, b any) (gorgonia.Value, error) { return sum(&op.out, op.shape, a, b) },
		func(a []float64, b any) (gorgonia.Value, error) { return sum(&op.out, op.shape, a, b) })
}

// sum writes a+b into the tensor of r.
func sum[T float32 | float64](r *reuse, shape tensor.Shape, a []T, other any) (gorgonia.Value, error) {
	b, ok := other.([]T)
	if !ok || len(a) != len(b) || len(a) != shape.TotalSize() {
		return nil, errors.Errorf("Add%v: operands of %d and %T", shape, len(a), other)
	}
	t, c := output[T](r, shape)
	par.For(len(a), 1<<15, func(lo, hi int) {
		a, b, c := a[lo:hi], b[lo:hi], c[lo:hi]
		for i, x := range a {
			c[i] = x + b[i]
		}
	})
	return t, nil
}
