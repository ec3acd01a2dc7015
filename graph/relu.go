package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/par"
)

// ReLU is max(x, 0) element-wise; its gradient passes dy where x > 0.
// Gorgonia's Rectify builds its gradient from a comparison, a type
// conversion and a product, each a fresh allocation per run; this op and
// its gradient write into outputs kept from run to run (see reuse).
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&reluOp{unary: unary{shape: x.Shape().Clone()}}, x)
}

// reluOp is the forward op (one input) or, with grad set, the gradient op
// (inputs x and dy).
type reluOp struct {
	unary
	out reuse
}

func (op *reluOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.ReLU{%v,%v,%p}", op.shape, op.grad, op)
}
func (op *reluOp) Hashcode() uint32 { return hashOf(op) }
func (op *reluOp) String() string   { return op.label("ReLU") }

func (op *reluOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(&reluOp{unary: unary{shape: op.shape, grad: true}}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

func (op *reluOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return doElementwise(op, op.Arity(), op.grad, inputs, relu[float32], relu[float64])
}

func relu[T float32 | float64](op *reluOp, x []T, dyv any) (gorgonia.Value, error) {
	if len(x) != op.shape.TotalSize() {
		return nil, errors.Errorf("%v: input of %d values", op, len(x))
	}
	t, y := output[T](&op.out, op.shape)
	if !op.grad {
		par.For(len(x), 1<<15, func(lo, hi int) {
			for i, v := range x[lo:hi] {
				y[lo+i] = max(v, 0)
			}
		})
		return t, nil
	}
	dy, ok := dyv.([]T)
	if !ok || len(dy) != len(x) {
		return nil, errors.Errorf("%v: gradient %T", op, dyv)
	}
	par.For(len(x), 1<<15, func(lo, hi int) {
		switch x := any(x[lo:hi]).(type) {
		case []float32:
			passPositive32(x, any(dy[lo:hi]).([]float32), any(y[lo:hi]).([]float32))
		case []float64:
			passPositive64(x, any(dy[lo:hi]).([]float64), any(y[lo:hi]).([]float64))
		}
	})
	return t, nil
}

// passPositive32 sets y[i] to dy[i] where x[i] > 0 and to +0 elsewhere,
// without a branch on the sign: half the signs of an activation are
// unpredictable, and a mispredicted branch costs more than the rest of the
// loop.
func passPositive32(x, dy, y []float32) {
	dy, y = dy[:len(x)], y[:len(x)]
	for i, v := range x {
		m := uint32(0)
		if v > 0 {
			m = ^uint32(0)
		}
		y[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}

// passPositive64 is passPositive32 for float64.
func passPositive64(x, dy, y []float64) {
	dy, y = dy[:len(x)], y[:len(x)]
	for i, v := range x {
		m := uint64(0)
		if v > 0 {
			m = ^uint64(0)
		}
		y[i] = math.Float64frombits(math.Float64bits(dy[i]) & m)
	}
}
