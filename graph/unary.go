package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// unary is what the element-wise ops (ReLU, the other activations,
// Softmax) share as Gorgonia ops: the shape of their input and output, and
// whether the op is the forward op (one input, x) or its gradient (two:
// the tensor the derivative is computed from, and dy). Each op embeds it
// and adds its hash, its name, its SymDiff and its Do.
type unary struct {
	shape tensor.Shape
	grad  bool
}

func (u *unary) Arity() int {
	if u.grad {
		return 2
	}
	return 1
}

func (u *unary) Type() hm.Type {
	t := gorgonia.TensorType{Dims: u.shape.Dims(), Of: hm.TypeVariable('a')}
	if u.grad {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}

func (u *unary) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return u.shape.Clone(), nil
}
func (*unary) ReturnsPtr() bool     { return false }
func (*unary) CallsExtern() bool    { return false }
func (*unary) OverwritesInput() int { return -1 }
func (*unary) DiffWRT(int) []bool   { return []bool{true} }

// label is the op's String for a forward op called name: name and the
// shape, with "Grad" after the name for the gradient op.
func (u *unary) label(name string) string {
	if u.grad {
		return fmt.Sprintf("%sGrad%v", name, u.shape)
	}
	return fmt.Sprintf("%s%v", name, u.shape)
}
