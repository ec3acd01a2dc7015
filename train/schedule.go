package train

import (
	"math"

	"github.com/pkg/errors"
)

// Learning-rate schedules.
const (
	Constant = "constant" // η at every epoch
	Step     = "step"     // η·γ^⌊epoch/StepEvery⌋
	Cosine   = "cosine"   // η·(1+cos(π·epoch/epochs))/2, from η down towards 0
)

// RateFunc is a learning rate of one's own (Config.Rate): the rate of step
// (1-based, of steps per epoch) of epoch (1-based).
type RateFunc func(epoch, step, steps int) float64

// Schedule gives the learning rate of an epoch (0-based) out of epochs.
type Schedule struct {
	Kind      string  // Constant (also ""), Step or Cosine
	StepEvery int     // Step: epochs between decays (0 means 1/3 of the run, at least 1)
	Gamma     float64 // Step: decay factor (0 means 0.1)
}

// Validate reports an unknown kind or out-of-range values.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "", Constant, Step, Cosine:
	default:
		return errors.Errorf("unknown schedule %q (want constant, step or cosine)", s.Kind)
	}
	if s.StepEvery < 0 {
		return errors.Errorf("schedule step must be ≥ 0, got %d", s.StepEvery)
	}
	if s.Gamma < 0 || s.Gamma > 1 || math.IsNaN(s.Gamma) {
		return errors.Errorf("schedule gamma must be in [0, 1], got %v", s.Gamma)
	}
	return nil
}

// Rate returns the learning rate of epoch (0-based) for base rate lr.
func (s Schedule) Rate(lr float64, epoch, epochs int) float64 {
	switch s.Kind {
	case Step:
		every := s.StepEvery
		if every <= 0 {
			every = max(1, epochs/3)
		}
		gamma := s.Gamma
		if gamma == 0 {
			gamma = 0.1
		}
		return lr * math.Pow(gamma, float64(epoch/every))
	case Cosine:
		if epochs <= 0 {
			return lr
		}
		return lr * (1 + math.Cos(math.Pi*float64(epoch)/float64(epochs))) / 2
	}
	return lr
}
