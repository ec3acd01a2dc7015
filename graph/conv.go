package graph

import (
	"fmt"
	"hash"
	"sync"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2D is a 2-d convolution with bias, fused into one op:
// y[b,f] = Σ_c w[f,c] ⋆ x[b,c] + bias[f], for x batch×channels×height×width,
// w filters×channels×kernel×kernel and bias of length filters, with equal
// zero padding on every side.
//
// Gorgonia's Conv2d is not used on the training path: it lays the
// convolution out as im2col, a matrix product and two transposes of the
// whole activation, allocates all of them on every step, and adds the bias
// through a broadcast, which together cost more than the arithmetic. This op
// keeps one column matrix per layer (reused from step to step and shared
// with the weight gradient), multiplies in the layout the output needs, and
// adds the bias in the same pass; its backward pass is three ops (input,
// weight and bias gradients) that each cost one matrix product or less.
func Conv2D(x, w, bias *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), bias.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, errors.Errorf("convolution needs 4-d input and weight, got %v and %v", xs, ws)
	}
	if kernel <= 0 || stride <= 0 || pad < 0 {
		return nil, errors.Errorf("convolution kernel %d stride %d padding %d", kernel, stride, pad)
	}
	if ws[1] != xs[1] || ws[2] != kernel || ws[3] != kernel {
		return nil, errors.Errorf("convolution weight %v does not match input %v and kernel %d", ws, xs, kernel)
	}
	if bs.TotalSize() != ws[0] {
		return nil, errors.Errorf("convolution bias %v does not match %d filters", bs, ws[0])
	}
	op := &convOp{convGeom: convGeom{kernels.NewConv(xs[0], xs[1], xs[2], xs[3], ws[0], kernel, stride, pad)}}
	if op.OH <= 0 || op.OW <= 0 {
		return nil, errors.Errorf("convolution kernel %d does not fit input %v with padding %d", kernel, xs, pad)
	}
	return gorgonia.ApplyOp(op, x, w, bias)
}

// convGeom is the shape of one convolution.
type convGeom struct{ kernels.Conv }

func (g convGeom) xShape() tensor.Shape { return tensor.Shape{g.Batch, g.Ch, g.H, g.W} }
func (g convGeom) yShape() tensor.Shape { return tensor.Shape{g.Batch, g.Filters, g.OH, g.OW} }
func (g convGeom) wShape() tensor.Shape { return tensor.Shape{g.Filters, g.Ch, g.K, g.K} }

// convOp is the forward op. Its column matrix lives as long as the graph:
// the weight gradient of the same step reads it.
type convOp struct {
	convGeom
	mu   sync.Mutex
	cols any // []float32 or []float64 of rows()×cols(), filled by the last Do
	tmp  any // the product before it is laid out batch first
	y    reuse
}

func (*convOp) Arity() int { return 3 }
func (*convOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	t1 := gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(t4, t4, t1, t4)
}
func (op *convOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return op.yShape(), nil }
func (*convOp) ReturnsPtr() bool                                         { return false }
func (*convOp) CallsExtern() bool                                        { return false }
func (*convOp) OverwritesInput() int                                     { return -1 }
func (op *convOp) WriteHash(h hash.Hash)                                 { fmt.Fprintf(h, "spred.Conv2D{%v,%p}", op.convGeom, op) }
func (op *convOp) Hashcode() uint32                                      { return hashOf(op) }
func (op *convOp) String() string                                        { return "Conv2D{" + op.convGeom.String() + "}" }
func (*convOp) DiffWRT(int) []bool                                       { return []bool{true, true, true} }

func (op *convOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtInput}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	// The weight gradient takes the input too, so that it runs after the
	// forward pass has filled the column matrix it reads.
	dw, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtWeight, fwd: op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	db, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtBias}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

func (op *convOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("Conv2D: %d inputs", len(inputs))
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	switch x := inputs[0].Data().(type) {
	case []float32:
		return convForward(op, x, inputs[1], inputs[2])
	case []float64:
		return convForward(op, x, inputs[1], inputs[2])
	}
	return nil, errors.Errorf("Conv2D: unsupported %T", inputs[0].Data())
}

func convForward[T float32 | float64](op *convOp, x []T, wv, bv gorgonia.Value) (gorgonia.Value, error) {
	w, ok1 := wv.Data().([]T)
	bias, ok2 := bv.Data().([]T)
	if !ok1 || !ok2 {
		return nil, errors.New("Conv2D: mixed dtypes")
	}
	g := op.convGeom
	if len(x) != g.xShape().TotalSize() || len(w) != g.wShape().TotalSize() || len(bias) != g.Filters {
		return nil, errors.Errorf("Conv2D %v: input sizes %d, %d, %d", g, len(x), len(w), len(bias))
	}
	cols := buffer[T](&op.cols, g.Rows()*g.Cols())
	kernels.Im2Col(g.Conv, x, cols)
	tmp := buffer[T](&op.tmp, g.Filters*g.Cols())
	kernels.Gemm(false, false, g.Filters, g.Cols(), g.Rows(), 1, w, g.Rows(), cols, g.Cols(), 0, tmp, g.Cols())
	t, y := output[T](&op.y, g.yShape())
	plane := g.OH * g.OW
	for b := 0; b < g.Batch; b++ {
		for f := 0; f < g.Filters; f++ {
			dst := y[(b*g.Filters+f)*plane : (b*g.Filters+f+1)*plane]
			src := tmp[f*g.Cols()+b*plane : f*g.Cols()+(b+1)*plane]
			bf := bias[f]
			for i, v := range src {
				dst[i] = v + bf
			}
		}
	}
	return t, nil
}

// buffer returns *slot as a []T of length n, reallocating when it is
// missing, of another type or too short.
func buffer[T float32 | float64](slot *any, n int) []T {
	if s, ok := (*slot).([]T); ok && len(s) >= n {
		return s[:n]
	}
	s := make([]T, n)
	*slot = s
	return s
}

type convWRT int

const (
	wrtInput convWRT = iota
	wrtWeight
	wrtBias
)

// convGradOp is one of the three gradients of a convolution, from the
// output gradient dy: wrt input (inputs w, dy), wrt weight (inputs x, dy;
// reads the forward op's column matrix) or wrt bias (input dy).
type convGradOp struct {
	convGeom
	wrt convWRT
	fwd *convOp // the forward op, for the weight gradient

	mu  sync.Mutex
	dyp any // dy laid out filters × (batch·positions)
	buf any // the column-matrix gradient
	out reuse
}

func (op *convGradOp) Arity() int {
	if op.wrt == wrtBias {
		return 1
	}
	return 2
}
func (op *convGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	switch op.wrt {
	case wrtBias:
		return hm.NewFnType(t4, gorgonia.TensorType{Dims: 1, Of: a})
	default:
		return hm.NewFnType(t4, t4, t4)
	}
}
func (op *convGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	switch op.wrt {
	case wrtInput:
		return op.xShape(), nil
	case wrtWeight:
		return op.wShape(), nil
	}
	return tensor.Shape{op.Filters}, nil
}
func (*convGradOp) ReturnsPtr() bool     { return false }
func (*convGradOp) CallsExtern() bool    { return false }
func (*convGradOp) OverwritesInput() int { return -1 }
func (op *convGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.Conv2DGrad{%v,%d,%p}", op.convGeom, op.wrt, op)
}
func (op *convGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *convGradOp) String() string {
	return fmt.Sprintf("Conv2DGrad%d{%v}", op.wrt, op.convGeom)
}

func (op *convGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("Conv2DGrad: %d inputs", len(inputs))
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	switch dy := inputs[len(inputs)-1].Data().(type) {
	case []float32:
		return convBackward(op, inputs[0].Data(), dy)
	case []float64:
		return convBackward(op, inputs[0].Data(), dy)
	}
	return nil, errors.Errorf("Conv2DGrad: unsupported %T", inputs[len(inputs)-1].Data())
}

func convBackward[T float32 | float64](op *convGradOp, first any, dy []T) (gorgonia.Value, error) {
	g := op.convGeom
	if len(dy) != g.yShape().TotalSize() {
		return nil, errors.Errorf("Conv2DGrad %v: output gradient of %d values", g, len(dy))
	}
	plane := g.OH * g.OW
	if op.wrt == wrtBias {
		t, db := output[T](&op.out, tensor.Shape{g.Filters})
		clear(db)
		for b := 0; b < g.Batch; b++ {
			for f := range db {
				var s T
				for _, v := range dy[(b*g.Filters+f)*plane:][:plane] {
					s += v
				}
				db[f] += s
			}
		}
		return t, nil
	}
	// dy as filters × (batch·positions), the layout of the forward product.
	dyp := buffer[T](&op.dyp, g.Filters*g.Cols())
	for b := 0; b < g.Batch; b++ {
		for f := 0; f < g.Filters; f++ {
			copy(dyp[f*g.Cols()+b*plane:][:plane], dy[(b*g.Filters+f)*plane:][:plane])
		}
	}
	switch op.wrt {
	case wrtWeight:
		op.fwd.mu.Lock()
		cols, ok := op.fwd.cols.([]T)
		op.fwd.mu.Unlock()
		if !ok || len(cols) != g.Rows()*g.Cols() {
			return nil, errors.Errorf("Conv2DGrad %v: the forward pass has not run", g)
		}
		t, dw := output[T](&op.out, g.wShape())
		kernels.Gemm(false, true, g.Filters, g.Rows(), g.Cols(), 1, dyp, g.Cols(), cols, g.Cols(), 0, dw, g.Rows())
		return t, nil
	default:
		w, ok := first.([]T)
		if !ok || len(w) != g.wShape().TotalSize() {
			return nil, errors.Errorf("Conv2DGrad %v: weight is %T", g, first)
		}
		dcols := buffer[T](&op.buf, g.Rows()*g.Cols())
		kernels.Gemm(true, false, g.Rows(), g.Cols(), g.Filters, 1, w, g.Rows(), dyp, g.Cols(), 0, dcols, g.Cols())
		t, dx := output[T](&op.out, g.xShape())
		clear(dx)
		kernels.Col2Im(g.Conv, dcols, dx)
		return t, nil
	}
}
