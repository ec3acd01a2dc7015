// Package infer runs a model's forward pass without building a graph: the
// path for evaluating and deploying pruned models. Each dense or conv layer
// multiplies either with its dense weight through the BLAS or with the
// weight compressed to CSR (only the non-zeros stored and multiplied),
// chosen per layer by the density of its weight, so that a pruned model
// runs faster than its dense original and never slower.
//
// The engine works in float32, the precision of model files, with buffers
// sized once for the largest batch; it is not safe for concurrent use.
package infer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/models"
)

// Kernels selects how weight products are computed.
type Kernels int

const (
	// Auto uses CSR for a layer whose weight density is at most the
	// layer kind's crossover (DenseCrossover, ConvCrossover), dense
	// products otherwise.
	Auto Kernels = iota
	// Dense always multiplies with the dense weight.
	Dense
	// Sparse always multiplies with the CSR weight.
	Sparse
)

// The densities under which CSR products beat the dense BLAS products on
// the measurements in the README (benchmarks/perf -infer): a dense layer
// scatters rows of the weight per non-zero input, a conv layer adds rows of
// the column matrix per non-zero weight.
const (
	DenseCrossover = 0.02
	ConvCrossover  = 0.05
)

// ParseKernels reads "auto", "dense" or "sparse".
func ParseKernels(s string) (Kernels, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "dense":
		return Dense, nil
	case "sparse", "csr":
		return Sparse, nil
	}
	return Auto, errors.Errorf("unknown kernels %q (want auto, dense or sparse)", s)
}

func (k Kernels) String() string {
	return [...]string{"auto", "dense", "sparse"}[k]
}

// Options configures an Engine.
type Options struct {
	Batch   int     // largest number of samples per Forward call; 0 means 1000
	Kernels Kernels // how to multiply weights; Auto by default
}

// LayerPlan says how one weighted layer is computed.
type LayerPlan struct {
	Name    string  `json:"name"`
	Kind    string  `json:"type"`
	Density float64 `json:"density"` // non-zero fraction of the weight
	Sparse  bool    `json:"sparse"`  // CSR product
}

// Engine is a compiled forward pass of one model.
type Engine struct {
	spec    models.Spec
	batch   int
	classes int
	steps   []step
	plan    []LayerPlan
	a, b    []float32 // activations, swapped after every layer
}

// step is one layer: it reads n samples from in and writes out.
type step interface {
	run(n int, in, out []float32)
	outSize() int // values per sample
}

// New compiles m. The weights are copied (and converted to float32), so
// later changes to m do not reach the engine.
func New(m *models.Model, opts Options) (*Engine, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	shapes, err := m.Spec.Shapes()
	if err != nil {
		return nil, err
	}
	e := &Engine{spec: m.Spec, batch: opts.Batch, classes: m.Spec.Classes()}
	in := m.Spec.Input
	largest := numel(in)
	for i, l := range m.Spec.Layers {
		out := shapes[i]
		var s step
		switch l.Kind {
		case models.Dense, models.Conv2d:
			wp, bp := m.Params.Get(models.WeightName(l.Name)), m.Params.Get(models.BiasName(l.Name))
			if wp == nil || bp == nil {
				return nil, errors.Errorf("layer %q: missing %s or %s", l.Name, models.WeightName(l.Name), models.BiasName(l.Name))
			}
			w, b := float32s(wp.Float64s()), float32s(bp.Float64s())
			density := float64(nonZero(w)) / float64(len(w))
			cross := DenseCrossover
			if l.Kind == models.Conv2d {
				cross = ConvCrossover
			}
			sparse := opts.Kernels == Sparse || (opts.Kernels == Auto && density <= cross)
			e.plan = append(e.plan, LayerPlan{Name: l.Name, Kind: l.Kind, Density: density, Sparse: sparse})
			if l.Kind == models.Dense {
				s = newDense(numel(in), l.Units, w, b, sparse)
			} else {
				s = newConv(kernels.NewConv(opts.Batch, in[0], in[1], in[2], l.Filters, l.Kernel, l.StrideOrDefault(), l.Padding), w, b, sparse)
			}
		case models.MaxPool2d:
			s = &poolStep{k: l.Kernel, s: l.StrideOrDefault(), ch: in[0], h: in[1], w: in[2], out: numel(out),
				arg: make([]int32, opts.Batch*numel(out))}
		case models.ReLU:
			s = reluStep(numel(out))
		case models.Flatten, models.Dropout:
			s = nil // same values, new shape; dropout is off at inference
		default:
			return nil, errors.Errorf("layer %d: unsupported type %q", i, l.Kind)
		}
		if s != nil {
			e.steps = append(e.steps, s)
		}
		largest = max(largest, numel(out))
		in = out
	}
	e.a, e.b = make([]float32, opts.Batch*largest), make([]float32, opts.Batch*largest)
	return e, nil
}

// Plan lists how every weighted layer is computed.
func (e *Engine) Plan() []LayerPlan { return append([]LayerPlan(nil), e.plan...) }

// Batch is the largest number of samples per Forward call.
func (e *Engine) Batch() int { return e.batch }

// Forward computes the logits of n ≤ Batch() samples (x holds n·InputSize
// values) and returns them, n rows of classes values, in a buffer the next
// call overwrites.
func (e *Engine) Forward(x []float32, n int) ([]float32, error) {
	size := e.spec.InputSize()
	if n <= 0 || n > e.batch {
		return nil, errors.Errorf("%d samples: want 1 to %d", n, e.batch)
	}
	if len(x) != n*size {
		return nil, errors.Errorf("input has %d values, want %d (%d × %d)", len(x), n*size, n, size)
	}
	// The first layer reads x itself; the layers then alternate between
	// the engine's two buffers.
	in, bufs := x, [2][]float32{e.a, e.b}
	for i, s := range e.steps {
		o := bufs[i%2][:n*s.outSize()]
		s.run(n, in, o)
		in = o
	}
	if len(e.steps) == 0 { // flatten only: still a buffer of the engine's
		in = append(e.a[:0], x...)
	}
	return in[:n*e.classes], nil
}

// Metrics are the mean softmax cross-entropy loss and the top-1 accuracy.
type Metrics struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	N        int     `json:"n"`
}

// Evaluate runs all n samples of x (with labels y) in batches.
func (e *Engine) Evaluate(x []float32, y []int) (Metrics, error) {
	size, n := e.spec.InputSize(), len(y)
	if n == 0 || len(x) != n*size {
		return Metrics{}, errors.Errorf("%d values for %d samples of %d", len(x), n, size)
	}
	var loss float64
	correct := 0
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		logits, err := e.Forward(x[start*size:(start+b)*size], b)
		if err != nil {
			return Metrics{}, err
		}
		for i := 0; i < b; i++ {
			label := y[start+i]
			if label < 0 || label >= e.classes {
				return Metrics{}, errors.Errorf("sample %d: label %d outside [0, %d)", start+i, label, e.classes)
			}
			row := logits[i*e.classes : (i+1)*e.classes]
			mx, arg := math.Inf(-1), 0
			for j, v := range row {
				if float64(v) > mx {
					mx, arg = float64(v), j
				}
			}
			var sum float64
			for _, v := range row {
				sum += math.Exp(float64(v) - mx)
			}
			loss += mx + math.Log(sum) - float64(row[label])
			if arg == label {
				correct++
			}
		}
	}
	return Metrics{Loss: loss / float64(n), Accuracy: float64(correct) / float64(n), N: n}, nil
}

func (p LayerPlan) String() string {
	how := "dense"
	if p.Sparse {
		how = "csr"
	}
	return fmt.Sprintf("%s %s (density %.3f)", p.Name, how, p.Density)
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func nonZero(v []float32) int {
	n := 0
	for _, x := range v {
		if x != 0 {
			n++
		}
	}
	return n
}
