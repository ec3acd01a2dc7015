package train

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
)

// Config configures Fit. The zero value of every field means its default.
type Config struct {
	Epochs      int     // passes over the training data; 0 means 10
	Batch       int     // samples per step; 0 means 100. The last partial batch of an epoch is skipped.
	LR          float64 // base learning rate; 0 means 0.05
	Momentum    float64 // momentum μ; 0 means none
	Nesterov    bool    // Nesterov momentum
	WeightDecay float64 // λ, applied to the learnables marked Decay; 0 means none
	L1          float64 `json:",omitempty"` // subgradient L1 coefficient on the learnables marked Decay (see SGD.L1); 0 means none
	// DecayScale multiplies WeightDecay and L1 for the learnables it names
	// (SGD.Scale); a learnable it does not name keeps them as they are.
	DecayScale map[string]float64 `json:",omitempty"`
	Schedule   Schedule           // learning-rate schedule; zero value is constant
	// Rate, when set, gives the learning rate of every step in place of LR
	// and Schedule: any function of the epoch (1-based), the step about to
	// be taken (1-based) and the steps per epoch, such as a warm-up. It
	// must return a finite rate ≥ 0. EpochStats.LR is then the rate of the
	// epoch's last step. It is not part of a configuration's JSON, so a
	// run resumed from a checkpoint needs the same function again.
	Rate      RateFunc `json:"-"`
	Seed      int64    // seeds shuffling and dropout
	EvalBatch int      // samples per evaluation run (see Evaluator); 0 means 1000
	Dtype     tensor.Dtype
	// Augment transforms every training batch (random crops and flips,
	// drawn from the run's seeded source); the zero value leaves the data
	// as it is.
	Augment dataset.Augment `json:",omitzero"`
	// GorgoniaOps builds the graphs from Gorgonia's own layer ops instead of
	// the fused ones (see graph.Options.GorgoniaOps): slower, for checking.
	GorgoniaOps bool `json:",omitempty"`
	// Resume continues the run a Hooks.Checkpoint State was taken from
	// (same model, data and configuration); nil starts afresh. A State the
	// run could not have written (see ErrResume) is refused before
	// anything is changed.
	Resume *State
}

// Defaults returns c with every zero field replaced by its default.
func (c Config) Defaults() Config {
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.LR == 0 {
		c.LR = 0.05
	}
	if c.EvalBatch == 0 {
		c.EvalBatch = 1000
	}
	if c.Schedule.Kind == "" {
		c.Schedule.Kind = Constant
	}
	return c
}

// Validate reports the first out-of-range field.
func (c Config) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case c.Epochs < 0:
		return errors.Errorf("epochs must be ≥ 0, got %d", c.Epochs)
	case c.Batch < 0:
		return errors.Errorf("batch must be ≥ 0, got %d", c.Batch)
	case c.EvalBatch < 0:
		return errors.Errorf("eval batch must be ≥ 0, got %d", c.EvalBatch)
	case c.LR < 0 || bad(c.LR):
		return errors.Errorf("learning rate must be ≥ 0 and finite, got %v", c.LR)
	case c.Momentum < 0 || c.Momentum >= 1 || bad(c.Momentum):
		return errors.Errorf("momentum must be in [0, 1), got %v", c.Momentum)
	case c.WeightDecay < 0 || bad(c.WeightDecay):
		return errors.Errorf("weight decay must be ≥ 0 and finite, got %v", c.WeightDecay)
	case c.L1 < 0 || bad(c.L1):
		return errors.Errorf("L1 coefficient must be ≥ 0 and finite, got %v", c.L1)
	}
	for _, name := range sortedKeys(c.DecayScale) {
		if f := c.DecayScale[name]; f < 0 || bad(f) {
			return errors.Errorf("decay scale of %q must be ≥ 0 and finite, got %v", name, f)
		}
	}
	if err := c.Augment.Validate(); err != nil {
		return err
	}
	return c.Schedule.Validate()
}

// sortedKeys returns the keys of m in order, for checks that report the
// first bad entry the same way every time.
func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
