// Package infer runs a model's forward pass without building a graph: the
// path for evaluating and deploying pruned models. Each dense or conv layer
// multiplies either with its dense weight through the BLAS or with its
// non-zero weights only (a CSR product for a dense layer, a direct sparse
// convolution for a conv layer), chosen per layer by the density of its
// weight, so that a pruned model runs faster than its dense original and
// never slower.
//
// The engine runs any valid spec, chains and graphs (residual blocks)
// alike. A batch norm that is the only reader of a convolution's output is
// folded into that convolution's weight and bias when the engine is built;
// other batch norms run as a per-channel scale and shift. A relu that is
// the only reader of a convolution (or of its folded batch norm) or of a
// residual sum is computed as that step writes its output.
//
// The engine works in float32, the precision of model files, with buffers
// sized once for the largest batch; it is not safe for concurrent use.
package infer

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// Kernels selects how weight products are computed.
type Kernels int

const (
	// Auto uses the sparse kernel for a layer whose weight density is at
	// most the layer kind's crossover (DenseCrossover, ConvCrossover),
	// dense products otherwise.
	Auto Kernels = iota
	// Dense always multiplies with the dense weight.
	Dense
	// Sparse always computes with the non-zero weights only: a CSR
	// product for a dense layer (kernels.CSR), a direct sparse
	// convolution for a conv layer (kernels.SparseConv).
	Sparse
)

// The densities under which the sparse kernels beat the dense BLAS
// products on the measurements in docs/performance.md. A dense layer adds
// a row of xᵀ per non-zero weight, summed in registers (BenchmarkDenseCrossover:
// on LeNet-300-100's fc1 CSR is ahead at density 0.2 at batches 1, 10 and
// 100, and about level at 0.3 at batch 100). A conv layer adds a shifted
// input plane per non-zero weight, with no column matrix
// (BenchmarkConvCrossover: the direct sparse convolution is ahead at density
// 0.2 on resnet-8's 3×3 convolutions and LeNet-5's 5×5 at batch 1 and 100,
// still ahead at 0.4 on resnet-8's and behind there on LeNet-5's).
const (
	DenseCrossover = 0.2
	ConvCrossover  = 0.3
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

// MaxBufferValues bounds the working memory of an Engine: its activation
// buffers and its scratch, in float32 and int32 values (1 GiB). New lowers
// Options.Batch until they fit, so that neither a large batch asked for
// nor a model with large activations exhausts memory (Batch reports the
// batch kept), and refuses a model that does not fit even one sample at a
// time.
const MaxBufferValues = 1 << 28

// bufferLimit is MaxBufferValues, lowered by tests.
var bufferLimit int64 = MaxBufferValues

// Options configures an Engine.
type Options struct {
	// Batch is the largest number of samples per Forward call; 0 means
	// 1000. New lowers it where the buffers would exceed MaxBufferValues.
	Batch   int
	Kernels Kernels // how to multiply weights; Auto by default
	// Logits leaves out a trailing softmax: Forward returns the class
	// scores it would read, as for a spec without it.
	Logits bool

	noFold bool // tests: run every batch norm as its own step
}

// LayerPlan says how one weighted layer is computed.
type LayerPlan struct {
	Name    string  `json:"name"`
	Kind    string  `json:"type"`
	Density float64 `json:"density"` // non-zero fraction of the layer's own weight
	Sparse  bool    `json:"sparse"`  // computed with the non-zero weights only
	// BatchNorm names the batchnorm2d layer folded into this layer's
	// weight and bias, if any.
	BatchNorm string `json:"batchnorm,omitempty"`
	// ReLU: the relu that reads this layer (or its folded batch norm)
	// is computed by this layer's step, as its output is written.
	ReLU bool `json:"relu,omitempty"`
}

// Engine is a compiled forward pass of one model: a list of steps, one per
// layer that computes something (flatten and dropout only rename their
// input; a batch norm folded into its convolution and a relu fused into
// the convolution or sum it reads have no step), each
// reading and writing activation buffers chosen by liveness.
//
// Buffers: every layer output (a value) lives from the step that writes it
// to the last step that reads it. New walks the steps in order and gives
// each output a buffer no live value holds: the input's own buffer for an
// element-wise step (relu, add, batch norm) that is the last reader of an
// input of the same size, else the smallest free buffer that is large
// enough (or the largest free one, grown), else a new one; the buffers of
// the inputs whose last reader this step is are then free again. A chain
// thus needs two buffers, a residual network a few, whatever its depth;
// each is sized for the largest batch and the largest value it holds.
// Temporary memory of the steps (column matrices) is one scratch area
// shared by all steps; a convolution goes through a large batch a chunk of
// images at a time, so that its column matrix stays under 64 MiB. ResNet-20
// on CIFAR at batch 1000 holds about 190 MB of activations and 64 MB of
// scratch.
type Engine struct {
	spec     models.Spec
	batch    int
	classes  int
	ops      []op
	plan     []LayerPlan
	bufs     [][]float32 // activation buffers, each shared by values whose lifetimes do not overlap
	out      int         // buffer of the logits
	probs    bool        // the output is a trailing softmax's probabilities
	sc       scratch
	scratchF int // scratch floats and int32s the steps asked for
	scratchI int
	opts     Options // as given to New, Batch lowered to batch
}

// op is one step with its buffers.
type op struct {
	step  step
	in    []int // buffer of each input; fromInput for the caller's x
	inSz  []int // values per sample of each input
	out   int
	outSz int
	views [][]float32
}

const fromInput = -1

// New compiles m. The weights are copied (and converted to float32), so
// later changes to m do not reach the engine.
func New(m *models.Model, opts Options) (*Engine, error) {
	return build(m, opts, nil)
}

// Reload compiles e again from m's current parameters, as New(m, opts)
// with e's options and batch would, and keeps e's buffers where they are
// large enough: the way to evaluate a model whose weights change (during
// training) without allocating an engine each time. The kernels are chosen
// again from the new densities. On failure e is unchanged.
func (e *Engine) Reload(m *models.Model) error {
	opts := e.opts
	opts.Batch = e.batch
	n, err := build(m, opts, e)
	if err != nil {
		return err
	}
	*e = *n
	return nil
}

// build is New; the buffers of old (nil: none) are reused where they fit.
func build(m *models.Model, opts Options, old *Engine) (*Engine, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	opts.Batch = int(min(int64(opts.Batch), bufferLimit)) // a sample needs at least one value
	nodes, err := m.Spec.Nodes()
	if err != nil {
		return nil, err
	}
	probs := nodes[len(nodes)-1].Layer.Kind == models.Softmax // and the last layer only
	e := &Engine{spec: m.Spec, batch: opts.Batch, classes: m.Spec.Classes(), probs: probs && !opts.Logits, opts: opts}

	// Batch norms to fold: those that are the only reader of a layer
	// whose kind folds them.
	foldInto := make([]int, len(nodes)) // node → index+1 of the batch norm folded into it
	folded := make([]bool, len(nodes))
	for i, n := range nodes {
		if opts.noFold || n.Layer.Kind != models.BatchNorm2d {
			continue
		}
		if j := n.Inputs[0]; j != models.InputIndex && kinds[nodes[j].Layer.Kind].foldsBN && len(nodes[j].Consumers) == 1 {
			foldInto[j], folded[i] = i+1, true
		}
	}
	// ReLUs to fuse: those that are the only reader of a layer whose kind
	// fuses them, or of a batch norm folded into one.
	reluInto := make([]bool, len(nodes)) // node computes max(·, 0) of its output
	fused := make([]bool, len(nodes))
	for i, n := range nodes {
		if opts.noFold || n.Layer.Kind != models.ReLU || n.Inputs[0] == models.InputIndex {
			continue
		}
		p := n.Inputs[0]
		if len(nodes[p].Consumers) != 1 {
			continue
		}
		if folded[p] {
			p = nodes[p].Inputs[0]
		}
		if kinds[nodes[p].Layer.Kind].fusesReLU {
			reluInto[p], fused[i] = true, true
		}
	}

	// Steps, and the value each node outputs: the index of the node whose
	// step computes it, or fromInput.
	steps := make([]step, len(nodes))
	value := make([]int, len(nodes))
	valueOf := func(j int) int {
		if j == models.InputIndex {
			return fromInput
		}
		return value[j]
	}
	for i, n := range nodes {
		k, ok := kinds[n.Layer.Kind]
		if !ok {
			return nil, errors.Errorf("layer %d %q: unsupported type %q", i, n.Layer.Name, n.Layer.Kind)
		}
		if !folded[i] && !fused[i] && !(n.Layer.Kind == models.Softmax && opts.Logits) {
			c := &buildCtx{node: n, m: m, opts: opts, e: e, relu: reluInto[i]}
			if foldInto[i] > 0 {
				c.bn = &nodes[foldInto[i]-1].Layer
			}
			if steps[i], err = k.build(c); err != nil {
				return nil, err
			}
		}
		value[i] = i
		if steps[i] == nil {
			value[i] = valueOf(n.Inputs[0])
		}
	}

	// The last step reading each value; the logits are never freed.
	last := make([]int, len(nodes))
	for i, n := range nodes {
		if steps[i] != nil {
			for _, j := range n.Inputs {
				if v := valueOf(j); v != fromInput {
					last[v] = i
				}
			}
		}
	}
	final := value[len(nodes)-1]
	if final != fromInput {
		last[final] = len(nodes)
	}

	// Buffers by liveness.
	var caps []int // values per sample of each buffer
	var free []int
	take := func(size int) int {
		best := -1
		for k, b := range free {
			switch {
			case best < 0:
				best = k
			case caps[b] >= size && (caps[free[best]] < size || caps[b] < caps[free[best]]):
				best = k // the smallest that fits
			case caps[free[best]] < size && caps[b] > caps[free[best]]:
				best = k // none fits yet: the largest
			}
		}
		if best < 0 {
			caps = append(caps, size)
			return len(caps) - 1
		}
		b := free[best]
		free = append(free[:best], free[best+1:]...)
		caps[b] = max(caps[b], size)
		return b
	}
	bufOf := make([]int, len(nodes))
	bufOfValue := func(v int) int {
		if v == fromInput {
			return fromInput
		}
		return bufOf[v]
	}
	for i, n := range nodes {
		if steps[i] == nil {
			continue
		}
		o := op{step: steps[i], outSz: numel(n.Out), out: -1}
		for k, j := range n.Inputs {
			o.in = append(o.in, bufOfValue(valueOf(j)))
			o.inSz = append(o.inSz, numel(n.InShapes[k]))
		}
		if kinds[n.Layer.Kind].inPlace {
			for k, j := range n.Inputs {
				if v := valueOf(j); v != fromInput && last[v] == i && o.inSz[k] == o.outSz {
					o.out = bufOf[v]
					break
				}
			}
		}
		if o.out < 0 {
			o.out = take(o.outSz)
		}
		for k, j := range n.Inputs {
			v := valueOf(j)
			if v == fromInput || last[v] != i || o.in[k] == o.out || contains(o.in[:k], o.in[k]) {
				continue
			}
			free = append(free, o.in[k])
		}
		bufOf[i] = o.out
		o.views = make([][]float32, len(o.in))
		e.ops = append(e.ops, o)
	}
	if final == fromInput { // only flatten and dropout: the logits are x itself
		size := m.Spec.InputSize()
		e.ops = append(e.ops, op{step: copyStep{}, in: []int{fromInput}, inSz: []int{size}, out: take(size), outSz: size, views: make([][]float32, 1)})
	}
	e.out = e.ops[len(e.ops)-1].out
	need := int64(e.scratchF) + int64(e.scratchI)
	for _, c := range caps {
		need += int64(opts.Batch) * int64(c)
	}
	if need > bufferLimit {
		if opts.Batch == 1 {
			return nil, errors.Errorf("model %q needs %d values of activations and scratch for one sample, more than infer.MaxBufferValues (%d)", m.Spec.Name, need, bufferLimit)
		}
		opts.Batch = max(1, min(opts.Batch/2, int(int64(opts.Batch)*bufferLimit/need)))
		return build(m, opts, old)
	}
	e.opts.Batch = opts.Batch
	for k, c := range caps {
		if old != nil && k < len(old.bufs) && cap(old.bufs[k]) >= opts.Batch*c {
			e.bufs = append(e.bufs, old.bufs[k][:opts.Batch*c])
			continue
		}
		e.bufs = append(e.bufs, make([]float32, opts.Batch*c))
	}
	if old != nil && cap(old.sc.f) >= e.scratchF {
		e.sc.f = old.sc.f[:e.scratchF]
	} else {
		e.sc.f = make([]float32, e.scratchF)
	}
	if old != nil && cap(old.sc.i) >= e.scratchI {
		e.sc.i = old.sc.i[:e.scratchI]
	} else {
		e.sc.i = make([]int32, e.scratchI)
	}
	return e, nil
}

// Plan lists how every weighted layer is computed.
func (e *Engine) Plan() []LayerPlan { return append([]LayerPlan(nil), e.plan...) }

// Batch is the largest number of samples per Forward call.
func (e *Engine) Batch() int { return e.batch }

// Forward computes the logits of n ≤ Batch() samples (x holds n·InputSize
// values) and returns them, n rows of classes values, in a buffer the next
// call overwrites. For a spec that ends in a softmax they are the
// probabilities (see models.Softmax). The layers that read the model's input read x itself.
func (e *Engine) Forward(x []float32, n int) ([]float32, error) {
	size := e.spec.InputSize()
	if n <= 0 || n > e.batch {
		return nil, errors.Errorf("%d samples: want 1 to %d", n, e.batch)
	}
	if len(x) != n*size {
		return nil, errors.Errorf("input has %d values, want %d (%d × %d)", len(x), n*size, n, size)
	}
	for i := range e.ops {
		o := &e.ops[i]
		for k, b := range o.in {
			if b == fromInput {
				o.views[k] = x
			} else {
				o.views[k] = e.bufs[b][:n*o.inSz[k]]
			}
		}
		o.step.run(n, o.views, e.bufs[o.out][:n*o.outSz], &e.sc)
		clear(o.views) // keep no reference to the caller's x
	}
	return e.bufs[e.out][:n*e.classes], nil
}

// Evaluate runs all n samples of x (with labels y) in batches.
func (e *Engine) Evaluate(x []float32, y []int) (Metrics, error) {
	if err := e.spec.CheckLoss(); err != nil {
		return Metrics{}, err
	}
	size, n := e.spec.InputSize(), len(y)
	if n == 0 || len(x) != n*size {
		return Metrics{}, errors.Errorf("%d values for %d samples of %d", len(x), n, size)
	}
	return e.evaluate(y, func(start, b int) []float32 { return x[start*size : (start+b)*size] })
}

// EvaluateFunc is Evaluate for samples not held in one slice: for each
// batch in turn, read writes the values of the b samples start, ...,
// start+b-1 (b*InputSize values, b at most Batch) to x. y holds the labels
// of all samples.
func (e *Engine) EvaluateFunc(y []int, read func(x []float32, start, b int)) (Metrics, error) {
	if err := e.spec.CheckLoss(); err != nil {
		return Metrics{}, err
	}
	if len(y) == 0 {
		return Metrics{}, errors.New("no samples")
	}
	x := make([]float32, min(e.batch, len(y))*e.spec.InputSize())
	return e.evaluate(y, func(start, b int) []float32 {
		v := x[:b*e.spec.InputSize()]
		read(v, start, b)
		return v
	})
}

// evaluate runs the len(y) samples in batches, batch giving the values of
// the b samples from start on.
func (e *Engine) evaluate(y []int, batch func(start, b int) []float32) (Metrics, error) {
	n := len(y)
	var t Tally
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		logits, err := e.Forward(batch(start, b), b)
		if err != nil {
			return Metrics{}, err
		}
		if err := Add(&t, logits, y[start:start+b], e.classes, e.probs); err != nil {
			return Metrics{}, errors.Wrapf(err, "samples %d-%d", start, start+b-1)
		}
	}
	return t.Metrics(), nil
}

func (p LayerPlan) String() string {
	how := "dense"
	if p.Sparse {
		how = "csr"
	}
	s := fmt.Sprintf("%s %s (density %.3f)", p.Name, how, p.Density)
	if p.BatchNorm != "" {
		s += " + " + p.BatchNorm + " folded"
	}
	if p.ReLU {
		s += " + relu"
	}
	return s
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

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
