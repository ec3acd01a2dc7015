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

// Dense is a fully connected layer fused into one op: y = x·W + b for x
// batch×in, W in×out and b of length out; bias nil means y = x·W.
//
// Gorgonia's Mul and BroadcastAdd allocate every output and gradient anew
// on every run (which costs page faults, see reuse) and broadcast the bias
// through a copy; this op and its three gradient ops (dx = dy·Wᵀ,
// dW = xᵀ·dy, db = column sums of dy) call the BLAS directly with
// transposed operands and write into outputs kept from run to run.
func Dense(x, w, bias *gorgonia.Node) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 || xs[1] != ws[0] {
		return nil, errors.Errorf("dense layer: input %v and weight %v do not chain", xs, ws)
	}
	if x.Dtype() != w.Dtype() {
		return nil, errors.Errorf("dense layer: mixed types %v, %v", x.Dtype(), w.Dtype())
	}
	g := denseGeom{batch: xs[0], in: xs[1], out: ws[1], bias: bias != nil}
	if bias == nil {
		return gorgonia.ApplyOp(&denseOp{denseGeom: g}, x, w)
	}
	if bs := bias.Shape(); bs.TotalSize() != ws[1] {
		return nil, errors.Errorf("dense layer: bias %v for %d outputs", bs, ws[1])
	}
	if w.Dtype() != bias.Dtype() {
		return nil, errors.Errorf("dense layer: mixed types %v, %v, %v", x.Dtype(), w.Dtype(), bias.Dtype())
	}
	return gorgonia.ApplyOp(&denseOp{denseGeom: g}, x, w, bias)
}

type denseGeom struct {
	batch, in, out int
	bias           bool
}

func (g denseGeom) String() string {
	s := fmt.Sprintf("%dx%d*%d", g.batch, g.in, g.out)
	if !g.bias {
		s += "nobias"
	}
	return s
}

type denseOp struct {
	denseGeom
	y reuse
}

func (op *denseOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op *denseOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t2 := gorgonia.TensorType{Dims: 2, Of: a}
	if !op.bias {
		return hm.NewFnType(t2, t2, t2)
	}
	return hm.NewFnType(t2, t2, gorgonia.TensorType{Dims: 1, Of: a}, t2)
}
func (op *denseOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.batch, op.out}, nil
}
func (*denseOp) ReturnsPtr() bool         { return false }
func (*denseOp) CallsExtern() bool        { return false }
func (*denseOp) OverwritesInput() int     { return -1 }
func (op *denseOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "spred.Dense{%v,%p}", op.denseGeom, op) }
func (op *denseOp) Hashcode() uint32      { return hashOf(op) }
func (op *denseOp) String() string        { return "Dense{" + op.denseGeom.String() + "}" }
func (op *denseOp) DiffWRT(n int) []bool  { return (&convOp{}).DiffWRT(n) }

func (op *denseOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&denseGradOp{denseGeom: op.denseGeom, wrt: wrtInput}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := gorgonia.ApplyOp(&denseGradOp{denseGeom: op.denseGeom, wrt: wrtWeight}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return gorgonia.Nodes{dx, dw}, nil
	}
	db, err := gorgonia.ApplyOp(&denseGradOp{denseGeom: op.denseGeom, wrt: wrtBias}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

func (op *denseOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("Dense: %d inputs", len(inputs))
	}
	var bias any
	if op.bias {
		bias = inputs[2].Data()
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		return denseForward(op, x, inputs[1].Data(), bias)
	case []float64:
		return denseForward(op, x, inputs[1].Data(), bias)
	}
	return nil, errors.Errorf("Dense: unsupported %T", inputs[0].Data())
}

func denseForward[T float32 | float64](op *denseOp, x []T, wv, bv any) (gorgonia.Value, error) {
	w, ok1 := wv.([]T)
	b, ok2 := bv.([]T)
	g := op.denseGeom
	if !ok1 || len(x) != g.batch*g.in || len(w) != g.in*g.out || (g.bias && (!ok2 || len(b) != g.out)) {
		return nil, errors.Errorf("Dense %v: operands %T, %T, %T", g, x, wv, bv)
	}
	t, y := output[T](&op.y, tensor.Shape{g.batch, g.out})
	if !g.bias {
		kernels.Gemm(false, false, g.batch, g.out, g.in, 1, x, g.in, w, g.out, 0, y, g.out)
		return t, nil
	}
	for r := 0; r < g.batch; r++ {
		copy(y[r*g.out:][:g.out], b)
	}
	kernels.Gemm(false, false, g.batch, g.out, g.in, 1, x, g.in, w, g.out, 1, y, g.out)
	return t, nil
}

// denseGradOp is one gradient of a dense layer from the output gradient
// dy: wrt input (inputs W, dy), weight (inputs x, dy) or bias (input dy).
type denseGradOp struct {
	denseGeom
	wrt convWRT
	buf reuse
}

func (op *denseGradOp) Arity() int {
	if op.wrt == wrtBias {
		return 1
	}
	return 2
}
func (op *denseGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t2 := gorgonia.TensorType{Dims: 2, Of: a}
	if op.wrt == wrtBias {
		return hm.NewFnType(t2, gorgonia.TensorType{Dims: 1, Of: a})
	}
	return hm.NewFnType(t2, t2, t2)
}
func (op *denseGradOp) shape() tensor.Shape {
	switch op.wrt {
	case wrtInput:
		return tensor.Shape{op.batch, op.in}
	case wrtWeight:
		return tensor.Shape{op.in, op.out}
	}
	return tensor.Shape{op.out}
}
func (op *denseGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return op.shape(), nil }
func (*denseGradOp) ReturnsPtr() bool                                         { return false }
func (*denseGradOp) CallsExtern() bool                                        { return false }
func (*denseGradOp) OverwritesInput() int                                     { return -1 }
func (op *denseGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.DenseGrad{%v,%d,%p}", op.denseGeom, op.wrt, op)
}
func (op *denseGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *denseGradOp) String() string {
	return fmt.Sprintf("DenseGrad%d{%v}", op.wrt, op.denseGeom)
}

func (op *denseGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("DenseGrad: %d inputs", len(inputs))
	}
	switch dy := inputs[len(inputs)-1].Data().(type) {
	case []float32:
		return denseBackward(op, inputs[0].Data(), dy)
	case []float64:
		return denseBackward(op, inputs[0].Data(), dy)
	}
	return nil, errors.Errorf("DenseGrad: unsupported %T", inputs[len(inputs)-1].Data())
}

func denseBackward[T float32 | float64](op *denseGradOp, first any, dy []T) (gorgonia.Value, error) {
	g := op.denseGeom
	if len(dy) != g.batch*g.out {
		return nil, errors.Errorf("DenseGrad %v: output gradient of %d values", g, len(dy))
	}
	t, d := output[T](&op.buf, op.shape())
	switch op.wrt {
	case wrtBias:
		clear(d)
		for r := 0; r < g.batch; r++ {
			for j, v := range dy[r*g.out:][:g.out] {
				d[j] += v
			}
		}
		return t, nil
	case wrtInput: // dx = dy·Wᵀ
		w, ok := first.([]T)
		if !ok || len(w) != g.in*g.out {
			return nil, errors.Errorf("DenseGrad %v: weight is %T", g, first)
		}
		kernels.Gemm(false, true, g.batch, g.in, g.out, 1, dy, g.out, w, g.out, 0, d, g.in)
	default: // dW = xᵀ·dy
		x, ok := first.([]T)
		if !ok || len(x) != g.batch*g.in {
			return nil, errors.Errorf("DenseGrad %v: input is %T", g, first)
		}
		kernels.Gemm(true, false, g.in, g.out, g.batch, 1, x, g.in, dy, g.out, 0, d, g.out)
	}
	return t, nil
}
