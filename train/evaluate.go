package train

import (
	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Evaluator computes the loss and accuracy of a model over whole data sets.
// It keeps one forward graph per batch size it needed (the full batch and
// the last partial one), all bound to the model's parameters, so it sees
// every update made to them. Close it when done.
type Evaluator struct {
	m     *models.Model
	src   graph.WeightSource
	batch int
	sess  map[int]*graph.Session

	gorgoniaOps bool // see Config.GorgoniaOps
}

// NewEvaluator makes an evaluator of m through src (nil means graph.Plain{})
// at batch samples per run (0 means 1000).
func NewEvaluator(m *models.Model, src graph.WeightSource, batch int) *Evaluator {
	if batch <= 0 {
		batch = 1000
	}
	return &Evaluator{m: m, src: src, batch: batch, sess: map[int]*graph.Session{}}
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
	n, size := d.N(), d.Size()
	var lossSum float64
	correct := 0
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		s, err := e.session(b)
		if err != nil {
			return Metrics{}, err
		}
		labels := d.Y[start : start+b]
		loss, err := s.Run(d.X[start*size:(start+b)*size], labels, nil)
		if err != nil {
			return Metrics{}, errors.Wrapf(err, "evaluating samples %d-%d", start, start+b-1)
		}
		lossSum += loss * float64(b)
		correct += Correct(s.Logits(), labels, s.Classes())
	}
	return Metrics{Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n), N: n}, nil
}

// Predict returns the logits of every sample of d, n rows of classes values.
func (e *Evaluator) Predict(d *dataset.Dataset) ([]float64, error) {
	if err := checkData(e.m, d); err != nil {
		return nil, err
	}
	n, size := d.N(), d.Size()
	var out []float64
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		s, err := e.session(b)
		if err != nil {
			return nil, err
		}
		if _, err := s.Run(d.X[start*size:(start+b)*size], nil, nil); err != nil {
			return nil, err
		}
		out = append(out, s.Logits()...)
	}
	return out, nil
}

// Close releases every graph.
func (e *Evaluator) Close() {
	for _, s := range e.sess {
		s.Close()
	}
	e.sess = map[int]*graph.Session{}
}

// Evaluate is a one-shot Evaluator: metrics of m (through src) on d.
func Evaluate(m *models.Model, src graph.WeightSource, d *dataset.Dataset, batch int) (Metrics, error) {
	e := NewEvaluator(m, src, batch)
	defer e.Close()
	return e.Evaluate(d)
}
