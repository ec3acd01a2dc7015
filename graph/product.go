package graph

import (
	"fmt"
	"hash"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
)

// Product is the element-wise product u⊙v of two tensors of the same
// shape, the weight of a factorised layer. Gorgonia's HadamardProd clones
// its first operand on every call and differentiates through two more
// such products; this op writes into its own output and has one gradient
// op per factor (∂/∂u = g⊙v, ∂/∂v = g⊙u).
func Product(u, v *gorgonia.Node) (*gorgonia.Node, error) {
	if !u.Shape().Eq(v.Shape()) {
		return nil, errors.Errorf("product of shapes %v and %v", u.Shape(), v.Shape())
	}
	if u.Dtype() != v.Dtype() {
		return nil, errors.Errorf("product of %v and %v", u.Dtype(), v.Dtype())
	}
	return gorgonia.ApplyOp(&productOp{binary: binary{shape: u.Shape().Clone()}}, u, v)
}

// productOp computes a⊙b; as the gradient op it is applied to (g, other
// factor). It writes every run into the same output (see reuse).
type productOp struct {
	binary
	out reuse
}

func (op *productOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "spred.Product%v", op.shape) }
func (op *productOp) Hashcode() uint32      { return hashOf(op) }
func (op *productOp) String() string        { return fmt.Sprintf("Product%v", op.shape) }

func (op *productOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	du, err := gorgonia.ApplyOp(&productOp{binary: binary{shape: op.shape}}, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	dv, err := gorgonia.ApplyOp(&productOp{binary: binary{shape: op.shape}}, grad, inputs[0])
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{du, dv}, nil
}

func (op *productOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return doBinary("Product", inputs,
		func(a []float32, b any) (gorgonia.Value, error) { return product(op, a, b) },
		func(a []float64, b any) (gorgonia.Value, error) { return product(op, a, b) })
}

// productGrain is the fewest elements per worker of a product: the pass is
// bound by memory, and splitting it over goroutines made a LeNet-300-100
// spred step slower on two cores (its 235,200-weight layer in halves: 5%
// slower, beside OpenBLAS's threads that spin between matrix products), so
// only products of millions of weights are split.
const productGrain = 1 << 20

func product[T float32 | float64](op *productOp, a []T, other any) (gorgonia.Value, error) {
	b, ok := other.([]T)
	if !ok || len(a) != len(b) || len(a) != op.shape.TotalSize() {
		return nil, errors.Errorf("Product%v: operands of %d and %T", op.shape, len(a), other)
	}
	t, c := output[T](&op.out, op.shape)
	par.For(len(a), productGrain, func(lo, hi int) {
		kernels.Mul(c[lo:hi], a[lo:hi], b[lo:hi])
	})
	return t, nil
}
