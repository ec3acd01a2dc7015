package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of the cross-entropy
// between softmax(logits) and target (both batch × classes; target rows are
// one-hot or probability vectors), as one fused, numerically stable op.
//
// Gorgonia's own LogSoftMax and LogSumExp overflow for logits of a few tens
// in float32 (LogSoftMax of [50, 60] is [+Inf, +Inf]), which turns ordinary
// training into NaN; this op subtracts the row maximum first and has the
// exact gradient (softmax(logits) − target)/batch.
func SoftmaxCrossEntropy(logits, target *gorgonia.Node) (*gorgonia.Node, error) {
	if logits.Dims() != 2 || !logits.Shape().Eq(target.Shape()) {
		return nil, errors.Errorf("softmax cross-entropy needs matching batch×classes logits and targets, got %v and %v", logits.Shape(), target.Shape())
	}
	return gorgonia.ApplyOp(xentOp{}, logits, target)
}

type xentOp struct{}

func (xentOp) Arity() int { return 2 }
func (xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}
func (xentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (xentOp) ReturnsPtr() bool      { return false }
func (xentOp) CallsExtern() bool     { return false }
func (xentOp) OverwritesInput() int  { return -1 }
func (xentOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "spred.SoftmaxXent") }
func (op xentOp) Hashcode() uint32   { return hashOf(op) }
func (xentOp) String() string        { return "SoftmaxXent" }
func (xentOp) DiffWRT(int) []bool    { return []bool{true, false} }

func (xentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	g, err := gorgonia.ApplyOp(xentGradOp{}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{g, nil}, nil
}

func (xentOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, errors.Errorf("SoftmaxXent: %d inputs", len(inputs))
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		y, ok := inputs[1].Data().([]float32)
		if !ok {
			return nil, errors.New("SoftmaxXent: mixed dtypes")
		}
		return gorgonia.NewF32(float32(xent(x, y, inputs[0].Shape()[1], nil))), nil
	case []float64:
		y, ok := inputs[1].Data().([]float64)
		if !ok {
			return nil, errors.New("SoftmaxXent: mixed dtypes")
		}
		return gorgonia.NewF64(xent(x, y, inputs[0].Shape()[1], nil)), nil
	}
	return nil, errors.Errorf("SoftmaxXent: unsupported %T", inputs[0].Data())
}

// xent returns the mean cross-entropy; if grad is not nil it receives
// scale·(softmax − target)/batch.
func xent[T float32 | float64](logits, target []T, classes int, grad func(i int, d float64)) float64 {
	batch := len(logits) / classes
	var total float64
	p := make([]float64, classes)
	for b := 0; b < batch; b++ {
		row, t := logits[b*classes:(b+1)*classes], target[b*classes:(b+1)*classes]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		for j, v := range row {
			p[j] = math.Exp(float64(v) - mx)
			sum += p[j]
		}
		lse := mx + math.Log(sum)
		for j, v := range row {
			if t[j] != 0 {
				total -= float64(t[j]) * (float64(v) - lse)
			}
			if grad != nil {
				grad(b*classes+j, (p[j]/sum-float64(t[j]))/float64(batch))
			}
		}
	}
	return total / float64(batch)
}

// xentGradOp computes grad·(softmax(logits) − target)/batch.
type xentGradOp struct{}

func (xentGradOp) Arity() int { return 3 }
func (xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a, t)
}
func (xentGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("SoftmaxXentGrad: shape is %T", in[0])
	}
	return s.Clone(), nil
}
func (xentGradOp) ReturnsPtr() bool      { return false }
func (xentGradOp) CallsExtern() bool     { return false }
func (xentGradOp) OverwritesInput() int  { return -1 }
func (xentGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "spred.SoftmaxXentGrad") }
func (op xentGradOp) Hashcode() uint32   { return hashOf(op) }
func (xentGradOp) String() string        { return "SoftmaxXentGrad" }

func (xentGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("SoftmaxXentGrad: %d inputs", len(inputs))
	}
	shape := inputs[0].Shape().Clone()
	classes := shape[1]
	scale, err := scalar(inputs[2])
	if err != nil {
		return nil, errors.Wrap(err, "SoftmaxXentGrad")
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		y, ok := inputs[1].Data().([]float32)
		if !ok {
			return nil, errors.New("SoftmaxXentGrad: mixed dtypes")
		}
		out := make([]float32, len(x))
		xent(x, y, classes, func(i int, d float64) { out[i] = float32(scale * d) })
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	case []float64:
		y, ok := inputs[1].Data().([]float64)
		if !ok {
			return nil, errors.New("SoftmaxXentGrad: mixed dtypes")
		}
		out := make([]float64, len(x))
		xent(x, y, classes, func(i int, d float64) { out[i] = scale * d })
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out)), nil
	}
	return nil, errors.Errorf("SoftmaxXentGrad: unsupported %T", inputs[0].Data())
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
