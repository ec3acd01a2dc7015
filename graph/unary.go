package graph

import (
	"fmt"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
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

// binary is what the element-wise ops of two operands of one shape (Add,
// Product) share as Gorgonia ops: that shape, which is also the output's,
// and a gradient with respect to both operands. Each op embeds it and adds
// its hash, its name, its SymDiff and its Do.
type binary struct {
	shape tensor.Shape
}

func (*binary) Arity() int { return 2 }
func (b *binary) Type() hm.Type {
	t := gorgonia.TensorType{Dims: b.shape.Dims(), Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (b *binary) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return b.shape.Clone(), nil
}
func (*binary) ReturnsPtr() bool     { return false }
func (*binary) CallsExtern() bool    { return false }
func (*binary) OverwritesInput() int { return -1 }
func (*binary) DiffWRT(int) []bool   { return []bool{true, true} }

// doBinary checks that a binary op called name has its two inputs and
// hands their data to f32 or f64 by the first operand's type; each checks
// the second operand's type and length itself.
func doBinary(name string, inputs []gorgonia.Value, f32 func([]float32, any) (gorgonia.Value, error), f64 func([]float64, any) (gorgonia.Value, error)) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("%s: %d inputs", name, len(inputs))
	}
	switch a := inputs[0].Data().(type) {
	case []float32:
		return f32(a, inputs[1].Data())
	case []float64:
		return f64(a, inputs[1].Data())
	}
	return nil, errors.Errorf("%s: unsupported %T", name, inputs[0].Data())
}
