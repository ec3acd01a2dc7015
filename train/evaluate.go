package train

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/models"
)

// Metrics are the mean loss and the accuracy over a whole data set: the
// one type of package infer.
type Metrics = infer.Metrics

// Collapser is a WeightSource that can write the weights it stands for
// into the parameters of a model with the spec it was made for (compress's
// Factors, Groups and Coupled). An Evaluator evaluates the model such a
// source makes by collapsing it.
type Collapser interface {
	graph.WeightSource
	Collapse(m *models.Model) error
}

// InferBatch bounds the batch of an Evaluator's engine, whatever batch it
// was given: a larger one would only hold more memory.
const InferBatch = 100

// Evaluator computes the loss and accuracy of a model over whole data sets.
// It reads the model's parameters (and the source's) at every call, so it
// sees every update made to them. Close it when done.
//
// A float32 model, with a nil, graph.Plain or Collapser source, runs through
// one infer.Engine, reloaded with the current weights at every call (the
// source's weights collapsed into a copy of the parameters, batch-norm
// running statistics included) at up to InferBatch samples per run. Any
// other model (float64) or source runs through forward graphs, one per
// batch size needed (the full batch and the last partial one), all bound to
// the model's parameters; the metrics of both come from infer.Tally.
type Evaluator struct {
	m     *models.Model
	src   graph.WeightSource
	batch int

	eng  *infer.Engine
	view *models.Model // the model the engine is loaded from: m, or a copy with the source collapsed into it
	sess map[int]*graph.Session

	gorgoniaOps bool // see Config.GorgoniaOps
	graphs      bool // always through the graphs

	x []float32 // the values of the batch run, read from the data set
}

// NewEvaluator makes an evaluator of m through src (nil means graph.Plain{})
// at batch samples per run (0 means 1000).
func NewEvaluator(m *models.Model, src graph.WeightSource, batch int) *Evaluator {
	if batch <= 0 {
		batch = 1000
	}
	return &Evaluator{m: m, src: src, batch: batch, sess: map[int]*graph.Session{}}
}

// NewGraphEvaluator is NewEvaluator for an evaluator that always runs
// through forward graphs, to check the engine against.
func NewGraphEvaluator(m *models.Model, src graph.WeightSource, batch int) *Evaluator {
	e := NewEvaluator(m, src, batch)
	e.graphs = true
	return e
}

// Infer reports whether e runs through an infer.Engine.
func (e *Evaluator) Infer() bool {
	if e.graphs {
		return false
	}
	for _, p := range e.m.Params.All() {
		if p.Value.Dtype() != tensor.Float32 {
			return false
		}
	}
	switch e.src.(type) {
	case nil, graph.Plain, *graph.Plain, Collapser:
		return true
	}
	return false
}

// engine loads the current weights into the engine (built at the first
// call, reloaded at the next ones) and returns it with the batch to run
// n samples at.
func (e *Evaluator) engine(n int) (*infer.Engine, int, error) {
	view := e.m
	if c, ok := e.src.(Collapser); ok {
		if !e.refresh() {
			e.view = &models.Model{Spec: e.m.Spec, Params: e.m.Params.Clone(), Meta: e.m.Meta}
		}
		if err := c.Collapse(e.view); err != nil {
			return nil, 0, err
		}
		view = e.view
	}
	batch := min(e.batch, InferBatch, n)
	if e.eng != nil && e.eng.Batch() >= batch {
		if err := e.eng.Reload(view); err != nil {
			return nil, 0, err
		}
		return e.eng, batch, nil
	}
	eng, err := infer.New(view, infer.Options{Batch: batch, Logits: true})
	if err != nil {
		return nil, 0, err
	}
	e.eng = eng
	return eng, min(batch, eng.Batch()), nil
}

// refresh copies m's parameters into the view, reporting false when there
// is no view or its parameters are not m's names and shapes.
func (e *Evaluator) refresh() bool {
	if e.view == nil || len(e.view.Params.All()) != len(e.m.Params.All()) {
		return false
	}
	for _, p := range e.m.Params.All() {
		q := e.view.Params.Get(p.Name)
		if q == nil || !q.Value.Shape().Eq(p.Value.Shape()) || q.Value.Dtype() != p.Value.Dtype() {
			return false
		}
	}
	for _, p := range e.m.Params.All() {
		copy(e.view.Params.Get(p.Name).Value.Data().([]float32), p.Value.Data().([]float32))
	}
	e.view.Spec = e.m.Spec
	return true
}

// forward runs every sample of d through the engine, handing each batch's
// logits and first sample to f.
func (e *Evaluator) forward(d *dataset.Dataset, f func(logits []float32, start, b int) error) error {
	n, size := d.N(), d.Size()
	eng, batch, err := e.engine(n)
	if err != nil {
		return err
	}
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		logits, err := eng.Forward(e.read(d, start, b, size), b)
		if err != nil {
			return errors.Wrapf(err, "evaluating samples %d-%d", start, start+b-1)
		}
		if err := f(logits, start, b); err != nil {
			return errors.Wrapf(err, "evaluating samples %d-%d", start, start+b-1)
		}
	}
	return nil
}

// read returns the values of the b samples of d (of size values each) from
// start on, read into e's buffer.
func (e *Evaluator) read(d *dataset.Dataset, start, b, size int) []float32 {
	if cap(e.x) < b*size {
		e.x = make([]float32, b*size)
	}
	x := e.x[:b*size]
	d.ReadRange(start, b, x)
	return x
}

func (e *Evaluator) session(b int) (*graph.Session, error) {
	if s, ok := e.sess[b]; ok {
		return s, nil
	}
	s, err := graph.New(e.m, graph.Options{Batch: b, Source: e.src, GorgoniaOps: e.gorgoniaOps})
	if err != nil {
		return nil, err
	}
	e.sess[b] = s
	return s, nil
}

// Evaluate runs the model over every sample of d, the last partial batch
// included.
func (e *Evaluator) Evaluate(d *dataset.Dataset) (Metrics, error) {
	if err := checkData(e.m, d); err != nil {
		return Metrics{}, err
	}
	classes := e.m.Spec.Classes()
	if e.Infer() {
		var t infer.Tally
		err := e.forward(d, func(logits []float32, start, b int) error {
			return infer.Add(&t, logits, d.Y[start:start+b], classes, false)
		})
		return t.Metrics(), err
	}
	n, size := d.N(), d.Size()
	var t infer.Tally
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		s, err := e.session(b)
		if err != nil {
			return Metrics{}, err
		}
		labels := d.Y[start : start+b]
		if _, err := s.Run(e.read(d, start, b, size), labels, nil); err != nil {
			return Metrics{}, errors.Wrapf(err, "evaluating samples %d-%d", start, start+b-1)
		}
		if err := infer.Add(&t, s.Logits(), labels, s.Classes(), false); err != nil {
			return Metrics{}, errors.Wrapf(err, "evaluating samples %d-%d", start, start+b-1)
		}
	}
	return t.Metrics(), nil
}

// Predict returns the logits of every sample of d, n rows of classes values
// (the class scores a trailing softmax reads).
func (e *Evaluator) Predict(d *dataset.Dataset) ([]float64, error) {
	if err := checkData(e.m, d); err != nil {
		return nil, err
	}
	n, size := d.N(), d.Size()
	out := make([]float64, 0, n*e.m.Spec.Classes())
	if e.Infer() {
		err := e.forward(d, func(logits []float32, _, _ int) error {
			for _, v := range logits {
				out = append(out, float64(v))
			}
			return nil
		})
		return out, err
	}
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		s, err := e.session(b)
		if err != nil {
			return nil, err
		}
		if _, err := s.Run(e.read(d, start, b, size), nil, nil); err != nil {
			return nil, err
		}
		out = append(out, s.Logits()...)
	}
	return out, nil
}

// Close releases every graph and the engine.
func (e *Evaluator) Close() {
	for _, s := range e.sess {
		s.Close()
	}
	e.sess = map[int]*graph.Session{}
	e.eng, e.view, e.x = nil, nil, nil
}

// Evaluate is a one-shot Evaluator: metrics of m (through src) on d.
func Evaluate(m *models.Model, src graph.WeightSource, d *dataset.Dataset, batch int) (Metrics, error) {
	e := NewEvaluator(m, src, batch)
	defer e.Close()
	return e.Evaluate(d)
}
