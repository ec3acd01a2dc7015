package graph

import (
	"fmt"
	"math/rand"
	"runtime"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// Options configure a Session.
type Options struct {
	// Batch is the number of samples per run (required: Gorgonia bakes it
	// into the graph's shapes).
	Batch int
	// Source supplies the prunable weights; nil means Plain{}.
	Source WeightSource
	// Train builds the gradient of the loss with respect to every learnable
	// and applies dropout; otherwise the graph only runs forward.
	Train bool
	// NoGrad, with Train, runs the graph as in training (dropout; batch
	// norms normalise by the batch's statistics and update their running
	// ones) without building any gradient: what re-estimating the
	// batch-norm statistics needs, at the cost of a forward pass.
	NoGrad bool
	// GorgoniaOps builds dense and conv layers, ReLU, add and the u⊙v
	// product from Gorgonia's own ops instead of this package's fused ones
	// (leakyrelu, sigmoid, tanh and relu6 are always this package's).
	// It is several times slower and allocates on every run; it is there to
	// check the fused ops against. The loss, max-pooling, average-pooling
	// and batch-norm ops are always this package's (see SoftmaxCrossEntropy,
	// MaxPool2D, AvgPool2D, BatchNorm2D), and grouped convolutions are
	// refused.
	GorgoniaOps bool
	// DecayNorm marks the batch-norm scales and shifts for weight decay
	// (Learnable.Decay); by default they are not decayed.
	DecayNorm bool
}

// Session owns one compiled graph and its VM: a model's forward pass (and
// backward pass when training) at a fixed batch size.
type Session struct {
	spec  models.Spec
	batch int
	size  int
	dt    tensor.Dtype
	train bool
	// noGrad is Options.NoGrad.
	noGrad bool
	// decayNorm is Options.DecayNorm.
	decayNorm bool
	b         *Builder
	xT, yT    *tensor.Dense
	logits    *gorgonia.Node
	loss      *gorgonia.Node
	masks     []dropMask
	vm        gorgonia.VM
	closed    bool
}

type dropMask struct {
	t    *tensor.Dense
	rate float64
}

// ErrClosed is returned when a closed session is used.
var ErrClosed = errors.New("session is closed")

// New builds and compiles the graph of m at opts.Batch samples per run. The
// graph binds to m.Params: it reads and trains those very tensors. All
// parameters must share one dtype, float32 or float64.
func New(m *models.Model, opts Options) (s *Session, err error) {
	if opts.Batch <= 0 {
		return nil, errors.Errorf("batch size must be positive, got %d", opts.Batch)
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	if err := m.Spec.CheckLoss(); err != nil {
		return nil, err
	}
	dt := tensor.Float32
	if all := m.Params.All(); len(all) > 0 {
		dt = all[0].Value.Dtype()
	}
	for _, p := range m.Params.All() {
		if p.Value.Dtype() != dt {
			return nil, errors.Errorf("parameter %q is %v, others are %v", p.Name, p.Value.Dtype(), dt)
		}
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("unsupported dtype %v (want float32 or float64)", dt)
	}
	src := opts.Source
	if src == nil {
		src = Plain{}
	}
	defer guard(&err, "building the graph of "+m.Spec.Name)
	// A graph whose node hashes collide is built again: its ops hash by
	// their addresses, and the abandoned graph, kept alive until the new
	// one is built, holds the old ones (see HashCollision).
	var abandoned []*Session
	for try := 1; ; try++ {
		s = &Session{spec: m.Spec, batch: opts.Batch, size: m.Spec.InputSize(), dt: dt, train: opts.Train, noGrad: opts.NoGrad, decayNorm: opts.DecayNorm, b: newBuilder(dt)}
		s.b.gorgoniaOps = opts.GorgoniaOps
		if err := s.build(m.Params, src); err != nil {
			return nil, errors.Wrapf(err, "model %q", m.Spec.Name)
		}
		sub := s.subgraph()
		a, b := HashCollision(sub)
		if a == nil {
			s.vm = gorgonia.NewTapeMachine(sub)
			runtime.KeepAlive(abandoned)
			return s, nil
		}
		if try == collisionTries {
			return nil, errors.Errorf("model %q: the graph's nodes %v and %v have the same hash in %d builds (Gorgonia would compute one value for both)", m.Spec.Name, a, b, try)
		}
		abandoned = append(abandoned, s)
	}
}

// collisionTries is how many times New builds a graph whose node hashes
// collide before it gives up.
const collisionTries = 4

// HashCollision returns two distinct nodes of g that Gorgonia's compiler
// would take for one, or nil, nil. The compiler numbers values by the
// nodes' 32-bit hashes alone (its common-subexpression elimination checks
// nothing else), so two different nodes whose hashes collide compute one
// node's value for both: a wrong program, not an error. Nodes equal in op,
// children, type and shape compute the same value and are not reported.
// Callers who compile graphs of their own (gorgonia.NewTapeMachine) can
// check them with it; New does, and builds the graph again.
func HashCollision(g *gorgonia.ExprGraph) (a, b *gorgonia.Node) {
	seen := make(map[uint32]*gorgonia.Node)
	for _, n := range g.AllNodes() {
		h := n.Hashcode()
		m, ok := seen[h]
		if !ok {
			seen[h] = n
			continue
		}
		if m != n && !sameValue(g, m, n) {
			return m, n
		}
	}
	return nil, nil
}

// sameValue reports whether a and b of g apply the same op to the same
// children with the same type and shape (inputs are never the same value).
func sameValue(g *gorgonia.ExprGraph, a, b *gorgonia.Node) bool {
	if a.Op() == nil || b.Op() == nil || a.Op().Hashcode() != b.Op().Hashcode() ||
		!a.Type().Eq(b.Type()) || !a.Shape().Eq(b.Shape()) {
		return false
	}
	ca, cb := g.From(a.ID()), g.From(b.ID())
	if ca.Len() != cb.Len() {
		return false
	}
	for ca.Next() && cb.Next() {
		if ca.Node() != cb.Node() {
			return false
		}
	}
	return true
}

func (s *Session) build(ps *models.Params, src WeightSource) error {
	b := s.b
	inShape := append([]int{s.batch}, s.spec.Input...)
	x := b.input("x", inShape...)
	s.xT = x.Value().(*tensor.Dense)
	var dropout func(*gorgonia.Node, float64) (*gorgonia.Node, error)
	if s.train {
		dropout = func(x *gorgonia.Node, rate float64) (*gorgonia.Node, error) {
			// A name of its own: inputs of one name and shape are one node.
			m := b.input(fmt.Sprintf("dropout%d", len(s.masks)), []int(x.Shape())...)
			s.masks = append(s.masks, dropMask{t: m.Value().(*tensor.Dense), rate: rate})
			return gorgonia.HadamardProd(x, m)
		}
	}
	specNodes, err := s.spec.Nodes()
	if err != nil {
		return err
	}
	// Every layer's output node, for the layers that read it.
	outs := make([]*gorgonia.Node, len(specNodes))
	for i, n := range specNodes {
		in := make([]*gorgonia.Node, len(n.Inputs))
		for j, k := range n.Inputs {
			if k == models.InputIndex {
				in[j] = x
			} else {
				in[j] = outs[k]
			}
		}
		c := &layerCtx{b: b, index: i, layer: n.Layer, in: in, ps: ps, src: src, train: s.train, decayNorm: s.decayNorm, dropout: dropout}
		if outs[i], err = b.layer(c); err != nil {
			return err
		}
	}
	h := outs[len(outs)-1]
	s.logits = h
	classes := h.Shape()[1]
	y := b.input("y", s.batch, classes)
	s.yT = y.Value().(*tensor.Dense)
	if s.loss, err = SoftmaxCrossEntropy(h, y); err != nil {
		return errors.Wrap(err, "loss")
	}
	if !s.train || s.noGrad {
		return nil
	}
	nodes := make(gorgonia.Nodes, len(b.learn))
	for i, l := range b.learn {
		nodes[i] = l.Node
	}
	grads, err := gorgonia.Grad(s.loss, nodes...)
	if err != nil {
		return errors.Wrap(err, "gradient")
	}
	for i, l := range b.learn {
		l.grad = grads[i]
	}
	return nil
}

// subgraph is what the session compiles: only what the loss, the logits
// and the learnables' gradients depend on. Gorgonia differentiates every
// op with respect to all its inputs, so the graph also holds the gradient
// of the input batch (a whole matrix product for the first layer), which
// nothing reads.
func (s *Session) subgraph() *gorgonia.ExprGraph {
	roots := gorgonia.Nodes{s.loss, s.logits}
	for _, l := range s.b.learn {
		if l.grad != nil {
			roots = append(roots, l.grad)
		}
	}
	return s.b.g.SubgraphRoots(roots...)
}

// Batch returns the number of samples per run.
func (s *Session) Batch() int { return s.batch }

// Dtype returns the element type of the graph.
func (s *Session) Dtype() tensor.Dtype { return s.dt }

// Learnables returns the tensors this graph trains, in the order they were
// registered (layer order; for each layer its weight's learnables, then the
// bias; a batch norm's scale, then its shift). Batch-norm running
// statistics are not learnables: a training graph updates those parameters
// itself on every Run (see BatchNorm2D).
func (s *Session) Learnables() []*Learnable { return s.b.learn }

// Run binds a batch (x holds Batch()·InputSize values, labels holds Batch()
// class indices, or is nil for a forward pass without a meaningful loss),
// runs the graph and returns the mean cross-entropy over the batch. rng
// draws the dropout masks of a training graph and may be nil otherwise.
// The VM is reset after every run.
func (s *Session) Run(x []float32, labels []int, rng *rand.Rand) (loss float64, err error) {
	if s.closed {
		return 0, ErrClosed
	}
	if len(x) != s.batch*s.size {
		return 0, errors.Errorf("input has %d values, want %d (batch %d × %d)", len(x), s.batch*s.size, s.batch, s.size)
	}
	if labels != nil && len(labels) != s.batch {
		return 0, errors.Errorf("%d labels for a batch of %d", len(labels), s.batch)
	}
	classes := s.yT.Shape()[1]
	switch d := s.xT.Data().(type) {
	case []float32:
		copy(d, x)
	case []float64:
		for i, v := range x {
			d[i] = float64(v)
		}
	}
	if err := s.setLabels(labels, classes); err != nil {
		return 0, err
	}
	if len(s.masks) > 0 {
		if rng == nil {
			return 0, errors.New("a training graph with dropout needs a random source")
		}
		for _, m := range s.masks {
			fillMask(m, rng)
		}
	}
	defer s.vm.Reset()
	if err := s.runAll(); err != nil {
		return 0, err
	}
	return scalar(s.loss.Value())
}

func (s *Session) runAll() (err error) {
	defer guard(&err, "running the graph")
	return s.vm.RunAll()
}

func (s *Session) setLabels(labels []int, classes int) error {
	for i, c := range labels {
		if c < 0 || c >= classes {
			return errors.Errorf("label %d of sample %d out of range [0, %d)", c, i, classes)
		}
	}
	switch d := s.yT.Data().(type) {
	case []float32:
		oneHot(d, labels, classes)
	case []float64:
		oneHot(d, labels, classes)
	}
	return nil
}

// oneHot writes the one-hot rows of labels into d (rows of classes values).
func oneHot[T float32 | float64](d []T, labels []int, classes int) {
	for i := range d {
		d[i] = 0
	}
	for i, c := range labels {
		d[i*classes+c] = 1
	}
}

func fillMask(m dropMask, rng *rand.Rand) {
	keep := 1 / (1 - m.rate)
	switch d := m.t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = 0
			if rng.Float64() >= m.rate {
				d[i] = float32(keep)
			}
		}
	case []float64:
		for i := range d {
			d[i] = 0
			if rng.Float64() >= m.rate {
				d[i] = keep
			}
		}
	}
}

// Logits returns the class scores of the last run, Batch() rows of
// Classes() values, as float64. For a spec that ends in a softmax they are
// the scores before it, which the loss reads (see models.Softmax).
func (s *Session) Logits() []float64 {
	return models.Float64s(s.logits.Value().Data())
}

// Classes returns the number of class scores per sample.
func (s *Session) Classes() int { return s.logits.Shape()[1] }

// Grad returns the gradient of the last run's loss with respect to l, a
// learnable of this session. It is valid until the next Run and must not be
// modified.
func (s *Session) Grad(l *Learnable) (*tensor.Dense, error) {
	if !s.train || l.grad == nil {
		return nil, errors.Errorf("no gradient for %q: the session was not built for training", l.Name)
	}
	v := l.grad.Value()
	if v == nil {
		return nil, errors.Errorf("no gradient for %q: run the session first", l.Name)
	}
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("gradient of %q is a %T", l.Name, v)
	}
	return t, nil
}

// Close releases the VM. Closing twice is harmless.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.b != nil {
		ReleaseConvs(s.b.g)
	}
	return s.vm.Close()
}

func scalar(v gorgonia.Value) (float64, error) {
	switch x := v.Data().(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	}
	return 0, errors.Errorf("expected a scalar, got %T", v.Data())
}
