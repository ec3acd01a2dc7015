package train

import (
	"context"
	"math"
	"math/rand"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// State is a resumable snapshot of a Fit run, taken at the end of every
// epoch and when the run is interrupted. Handing it back through
// Config.Resume continues the run exactly: the result is bit-identical to a
// run that was never interrupted. Values are stored as float64, which holds
// float32 values exactly.
type State struct {
	// Epoch is the epoch to run next (1-based) and Step the number of its
	// steps already done (0 when it has not started).
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
	// Draws counts the values drawn from the seeded random source so far;
	// EpochDraws those drawn before epoch Epoch shuffled the data.
	Draws      uint64 `json:"draws"`
	EpochDraws uint64 `json:"epoch_draws"`
	// LossSum and Correct accumulate the training loss and the correct
	// predictions of the Step steps done in epoch Epoch.
	LossSum float64 `json:"loss_sum"`
	Correct int     `json:"correct"`
	// Values and Velocity hold every learnable and its momentum buffer by
	// name; Values also holds the model's buffers (batch-norm running
	// statistics), which training updates too.
	Values   map[string][]float64 `json:"values"`
	Velocity map[string][]float64 `json:"velocity"`
	// History holds the statistics of the epochs already finished.
	History []EpochStats `json:"history"`
}

// countingSource counts the values drawn from a seeded source, so that a
// resumed run can skip exactly as many.
type countingSource struct {
	src rand.Source64
	n   uint64
}

func newCountingSource(seed int64) *countingSource {
	return &countingSource{src: rand.NewSource(seed).(rand.Source64)}
}

func (c *countingSource) Int63() int64   { c.n++; return c.src.Int63() }
func (c *countingSource) Uint64() uint64 { c.n++; return c.src.Uint64() }
func (c *countingSource) Seed(s int64)   { c.src.Seed(s); c.n = 0 }

// skipTo draws and discards values until n have been drawn in all. It
// checks ctx every few thousand draws, so that a long replay can be
// interrupted.
func (c *countingSource) skipTo(ctx context.Context, n uint64) error {
	if n < c.n {
		return errors.Errorf("cannot rewind the random source from %d to %d draws", c.n, n)
	}
	for c.n < n {
		if c.n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c.Uint64()
	}
	return nil
}

// ErrResume is returned (wrapped, naming the field) when Config.Resume is a
// State that the run could not have written: an epoch beyond its epochs, a
// step beyond an epoch, more draws than its epochs could have made, values
// of another shape or not finite.
var ErrResume = errors.New("the resume state does not fit this run")

// bounds are what a run's configuration and data allow a State to hold.
type bounds struct {
	epochs, steps, batch int
	// perEpoch is the most values an epoch can draw from the random
	// source: the shuffle, the dropout masks and the augmentation, with
	// room for the rare redraws of rand's rejection sampling.
	perEpoch uint64
}

// drawsPerEpoch bounds the values one epoch of a run on n samples draws:
// the shuffle (one per sample), every dropout mask (one per activation of
// every dropout layer, per sample of a batch) and the augmentation (one per
// sample), doubled for rand's rare redraws.
func drawsPerEpoch(m *models.Model, cfg Config, n int) (uint64, error) {
	shapes, err := m.Spec.Shapes()
	if err != nil {
		return 0, err
	}
	var perSample uint64
	for i, l := range m.Spec.Layers {
		if l.Kind == models.Dropout {
			k := uint64(1)
			for _, d := range shapes[i] {
				k *= uint64(d)
			}
			perSample += k
		}
	}
	if !cfg.Augment.IsZero() {
		perSample++
	}
	steps := uint64(n / cfg.Batch)
	return 2*(uint64(n)+steps*uint64(cfg.Batch)*perSample) + 64, nil
}

// check reports the first field of s that a run within b could not have
// written, wrapping ErrResume.
func (s *State) check(b bounds) error {
	bad := func(field, format string, args ...interface{}) error {
		return errors.Wrapf(ErrResume, "field %s: "+format, append([]interface{}{field}, args...)...)
	}
	switch {
	case s.Epoch < 1 || s.Epoch > b.epochs+1:
		return bad("Epoch", "%d is outside 1..%d (a run of %d epochs)", s.Epoch, b.epochs+1, b.epochs)
	case s.Step < 0 || s.Step >= b.steps:
		return bad("Step", "%d is outside 0..%d (%d steps per epoch)", s.Step, b.steps-1, b.steps)
	case s.Epoch == b.epochs+1 && s.Step != 0:
		return bad("Step", "%d after the last epoch", s.Step)
	case len(s.History) != s.Epoch-1:
		return bad("History", "%d epochs for a state at epoch %d", len(s.History), s.Epoch)
	}
	done := uint64(s.Epoch - 1) // the epochs the state has finished
	switch {
	case s.EpochDraws > done*b.perEpoch:
		return bad("EpochDraws", "%d is more than %d epochs can draw (%d)", s.EpochDraws, done, done*b.perEpoch)
	case s.Draws < s.EpochDraws:
		return bad("Draws", "%d is fewer than EpochDraws %d", s.Draws, s.EpochDraws)
	case s.Step == 0 && s.Draws != s.EpochDraws:
		return bad("Draws", "%d differs from EpochDraws %d before the epoch's first step", s.Draws, s.EpochDraws)
	case s.Draws-s.EpochDraws > b.perEpoch:
		return bad("Draws", "%d is more than an epoch can draw after EpochDraws %d (%d)", s.Draws, s.EpochDraws, b.perEpoch)
	case !(s.LossSum >= 0) || math.IsInf(s.LossSum, 0) || (s.Step == 0 && s.LossSum != 0):
		return bad("LossSum", "%v after %d steps", s.LossSum, s.Step)
	case s.Correct < 0 || s.Correct > s.Step*b.batch:
		return bad("Correct", "%d after %d steps of %d samples", s.Correct, s.Step, b.batch)
	}
	for name, v := range s.Values {
		if i := firstNonFinite(v); i >= 0 {
			return bad("Values", "%s[%d] is %v", name, i, v[i])
		}
	}
	for name, v := range s.Velocity {
		if _, ok := s.Values[name]; !ok {
			return bad("Velocity", "%q is not among the values", name)
		}
		if i := firstNonFinite(v); i >= 0 {
			return bad("Velocity", "%s[%d] is %v", name, i, v[i])
		}
	}
	return nil
}

func firstNonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

// capture records the learnables and momentum buffers into s.
func capture(s *State, ls []*graph.Learnable, opt *SGD) {
	s.Values = map[string][]float64{}
	s.Velocity = map[string][]float64{}
	for _, l := range ls {
		s.Values[l.Name] = models.Float64s(l.Value.Data())
		if v := opt.Velocity(l.Name); v != nil {
			s.Velocity[l.Name] = v
		}
	}
}

// apply writes the state's values and momentum buffers into the
// learnables, after checking that every one of them is there with the
// learnable's size (nothing is written otherwise).
func apply(s *State, ls []*graph.Learnable, opt *SGD) error {
	if len(s.Values) != len(ls) {
		return errors.Wrapf(ErrResume, "field Values: %d tensors, the graph has %d", len(s.Values), len(ls))
	}
	for _, l := range ls {
		v, ok := s.Values[l.Name]
		if !ok {
			return errors.Wrapf(ErrResume, "field Values: no values for %q", l.Name)
		}
		if n := l.Value.Shape().TotalSize(); len(v) != n {
			return errors.Wrapf(ErrResume, "field Values: %q has %d values, its shape %v holds %d", l.Name, len(v), l.Value.Shape(), n)
		}
		if vel, ok := s.Velocity[l.Name]; ok && len(vel) != len(v) {
			return errors.Wrapf(ErrResume, "field Velocity: %q has %d values for %d weights", l.Name, len(vel), len(v))
		}
	}
	for _, l := range ls {
		v := s.Values[l.Name]
		if err := setFloats(l.Value.Data(), v); err != nil {
			return errors.Wrapf(err, "resume: %s", l.Name)
		}
		if vel, ok := s.Velocity[l.Name]; ok {
			opt.SetVelocity(l.Name, l.Value.Dtype() == tensor.Float32, vel)
		}
	}
	return nil
}

func setFloats(data interface{}, src []float64) error {
	switch d := data.(type) {
	case []float32:
		if len(d) != len(src) {
			return errors.Errorf("%d values for %d slots", len(src), len(d))
		}
		for i, x := range src {
			d[i] = float32(x)
		}
	case []float64:
		if len(d) != len(src) {
			return errors.Errorf("%d values for %d slots", len(src), len(d))
		}
		copy(d, src)
	default:
		return errors.Errorf("unsupported storage %T", d)
	}
	return nil
}
