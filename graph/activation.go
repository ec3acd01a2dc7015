package graph

import (
	"fmt"
	"hash"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/par"
	"github.com/spred-go/spred/models"
)

// Activation functions with their own fused op (see ReLU for why): the
// forward op and its gradient write into outputs kept from run to run.
// The gradients of sigmoid and tanh are computed from the op's output
// (σ' = y(1−y), tanh' = 1−y²), those of leakyrelu and relu6 from its
// input.

// LeakyReLU is x for x ≥ 0 and alpha·x below, element-wise.
func LeakyReLU(x *gorgonia.Node, alpha float64) (*gorgonia.Node, error) {
	return activation(x, models.LeakyReLU, alpha)
}

// Sigmoid is 1/(1 + e^-x) element-wise.
func Sigmoid(x *gorgonia.Node) (*gorgonia.Node, error) { return activation(x, models.Sigmoid, 0) }

// Tanh is tanh(x) element-wise.
func Tanh(x *gorgonia.Node) (*gorgonia.Node, error) { return activation(x, models.Tanh, 0) }

// ReLU6 is min(max(x, 0), 6) element-wise; its gradient passes dy where
// 0 < x < 6.
func ReLU6(x *gorgonia.Node) (*gorgonia.Node, error) { return activation(x, models.ReLU6, 0) }

// Clip is min(max(x, lo), hi) element-wise (lo may be -∞, hi +∞); its
// gradient passes dy where lo < x < hi.
func Clip(x *gorgonia.Node, lo, hi float64) (*gorgonia.Node, error) {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		return nil, errors.Errorf("clip to [%v, %v]: the bounds must be numbers with lo ≤ hi", lo, hi)
	}
	return gorgonia.ApplyOp(&actOp{unary: unary{shape: x.Shape().Clone()}, kind: models.Clip, lo: lo, hi: hi}, x)
}

func activation(x *gorgonia.Node, kind string, alpha float64) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&actOp{unary: unary{shape: x.Shape().Clone()}, kind: kind, alpha: alpha}, x)
}

// actOp is the forward op of an activation (one input) or, with grad set,
// its gradient (inputs: x or y as fromOutput says, and dy).
type actOp struct {
	unary
	kind   string
	alpha  float64
	lo, hi float64 // clip's bounds
	out    reuse
}

// fromOutput: the gradient of the kind is computed from the forward output.
func (op *actOp) fromOutput() bool { return op.kind == models.Sigmoid || op.kind == models.Tanh }

func (op *actOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.act{%s,%v,%v,%v,%v,%v,%p}", op.kind, op.alpha, op.lo, op.hi, op.shape, op.grad, op)
}
func (op *actOp) Hashcode() uint32 { return hashOf(op) }
func (op *actOp) String() string {
	switch op.kind {
	case models.LeakyReLU:
		return op.label(fmt.Sprintf("%s(%g)", op.kind, op.alpha))
	case models.Clip:
		return op.label(fmt.Sprintf("%s(%g,%g)", op.kind, op.lo, op.hi))
	}
	return op.label(op.kind)
}

func (op *actOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	from := inputs[0]
	if op.fromOutput() {
		from = output
	}
	d, err := gorgonia.ApplyOp(&actOp{unary: unary{shape: op.shape, grad: true}, kind: op.kind, alpha: op.alpha, lo: op.lo, hi: op.hi}, from, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

func (op *actOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return doElementwise(op, op.Arity(), op.grad, inputs, act[float32], act[float64])
}

// actFuncs returns the element-wise forward function of op's kind and its
// derivative as a function of the gradient op's first input.
func actFuncs[T float32 | float64](op *actOp) (f, df func(T) T) {
	a := T(op.alpha)
	switch op.kind {
	case models.LeakyReLU:
		return func(v T) T {
				if v < 0 {
					return a * v
				}
				return v
			}, func(v T) T {
				if v < 0 {
					return a
				}
				return 1
			}
	case models.Sigmoid:
		return func(v T) T { return T(1 / (1 + math.Exp(-float64(v)))) },
			func(y T) T { return y * (1 - y) }
	case models.Tanh:
		return func(v T) T { return T(math.Tanh(float64(v))) },
			func(y T) T { return 1 - y*y }
	case models.Clip:
		lo, hi := T(op.lo), T(op.hi)
		return func(v T) T { return min(max(v, lo), hi) },
			func(v T) T {
				if v > lo && v < hi {
					return 1
				}
				return 0
			}
	default: // ReLU6
		return func(v T) T { return min(max(v, 0), 6) },
			func(v T) T {
				if v > 0 && v < 6 {
					return 1
				}
				return 0
			}
	}
}

func act[T float32 | float64](op *actOp, x []T, dyv any) (gorgonia.Value, error) {
	if len(x) != op.shape.TotalSize() {
		return nil, errors.Errorf("%v: input of %d values", op, len(x))
	}
	f, df := actFuncs[T](op)
	t, y := output[T](&op.out, op.shape)
	if !op.grad {
		par.For(len(x), 1<<14, func(lo, hi int) {
			for i, v := range x[lo:hi] {
				y[lo+i] = f(v)
			}
		})
		return t, nil
	}
	dy, ok := dyv.([]T)
	if !ok || len(dy) != len(x) {
		return nil, errors.Errorf("%v: gradient %T", op, dyv)
	}
	par.For(len(x), 1<<14, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = df(v) * dy[lo+i]
		}
	})
	return t, nil
}

// Softmax is exp(x)/Σexp(x) over each row of a [batch, classes] matrix;
// its gradient is dx = y ⊙ (dy − Σ y⊙dy) per row. A spec's trailing softmax
// layer is built with it, though the loss reads the logits before it (see
// models.Softmax).
func Softmax(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Shape().Dims() != 2 {
		return nil, errors.Errorf("softmax of shape %v; want [batch, classes]", x.Shape())
	}
	return gorgonia.ApplyOp(&softmaxOp{unary: unary{shape: x.Shape().Clone()}}, x)
}

// softmaxOp is the forward op (input x) or, with grad set, the gradient op
// (inputs y, the forward output, and dy).
type softmaxOp struct {
	unary
	out reuse
}

func (op *softmaxOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.Softmax{%v,%v,%p}", op.shape, op.grad, op)
}
func (op *softmaxOp) Hashcode() uint32 { return hashOf(op) }
func (op *softmaxOp) String() string   { return op.label("Softmax") }

func (op *softmaxOp) SymDiff(_ gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(&softmaxOp{unary: unary{shape: op.shape, grad: true}}, output, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

func (op *softmaxOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	return doElementwise(op, op.Arity(), op.grad, inputs, softmax[float32], softmax[float64])
}

func softmax[T float32 | float64](op *softmaxOp, x []T, dyv any) (gorgonia.Value, error) {
	if len(x) != op.shape.TotalSize() {
		return nil, errors.Errorf("%v: input of %d values", op, len(x))
	}
	rows, cols := op.shape[0], op.shape[1]
	t, out := output[T](&op.out, op.shape)
	if !op.grad {
		for r := 0; r < rows; r++ {
			SoftmaxRow(x[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols])
		}
		return t, nil
	}
	dy, ok := dyv.([]T)
	if !ok || len(dy) != len(x) {
		return nil, errors.Errorf("%v: gradient %T", op, dyv)
	}
	for r := 0; r < rows; r++ {
		y, g := x[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols]
		var dot float64
		for j, v := range y {
			dot += float64(v) * float64(g[j])
		}
		for j, v := range y {
			out[r*cols+j] = T(float64(v) * (float64(g[j]) - dot))
		}
	}
	return t, nil
}

// SoftmaxRow writes the softmax of x into y (which may be x), stably: the
// exponentials of x − max(x), summed in float64.
func SoftmaxRow[T float32 | float64](x, y []T) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range x {
		e := math.Exp(float64(v - mx))
		y[j] = T(e)
		sum += e
	}
	for j := range y {
		y[j] = T(float64(y[j]) / sum)
	}
}
