package train

import (
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

// skipTo draws and discards values until n have been drawn in all.
func (c *countingSource) skipTo(n uint64) error {
	if n < c.n {
		return errors.Errorf("cannot rewind the random source from %d to %d draws", c.n, n)
	}
	for c.n < n {
		c.Uint64()
	}
	return nil
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

// apply writes the state's values and momentum buffers into the learnables.
func apply(s *State, ls []*graph.Learnable, opt *SGD) error {
	if len(s.Values) != len(ls) {
		return errors.Errorf("resume: the state holds %d learnables, the graph has %d", len(s.Values), len(ls))
	}
	for _, l := range ls {
		v, ok := s.Values[l.Name]
		if !ok {
			return errors.Errorf("resume: the state has no values for %q", l.Name)
		}
		if err := setFloats(l.Value.Data(), v); err != nil {
			return errors.Wrapf(err, "resume: %s", l.Name)
		}
		if vel, ok := s.Velocity[l.Name]; ok {
			if len(vel) != len(v) {
				return errors.Errorf("resume: momentum of %q has %d values for %d weights", l.Name, len(vel), len(v))
			}
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
