package compress

import (
	"context"
	"fmt"

	"github.com/pkg/errors"
)

// magnitudeMethod is MethodMagnitude: iterative magnitude pruning with
// retraining.
type magnitudeMethod struct{}

func (magnitudeMethod) Name() string { return MethodMagnitude }

func (magnitudeMethod) Info() MethodInfo {
	return MethodInfo{Summary: "iterative magnitude pruning with retraining", Title: "magnitude pruning", Phase: PhaseMagnitude,
		Target: true, Rounds: true, Resume: true}
}

// Defaults reads Rounds 0 as 3.
func (magnitudeMethod) Defaults(c Config) Config {
	if c.Rounds == 0 {
		c.Rounds = 3
	}
	return c
}

// DefaultConfig takes a dense-training rate of 0.02 and 3 rounds; it still
// needs Config.TargetSparsity, which has no default.
func (magnitudeMethod) DefaultConfig(structure string) Config {
	c := methodDefault(MethodMagnitude, structure)
	c.LR, c.Rounds = 0.02, 3
	return c
}

func (magnitudeMethod) Validate(c Config) error {
	if c.targetSparsity() == 0 {
		return errors.Wrap(ErrConfig, "method magnitude needs a target sparsity in (0, 1) or a target ratio > 1")
	}
	return nil
}

// Settings leaves λ, τ and per-epoch thresholding, which magnitude pruning
// does not use, zero.
func (magnitudeMethod) Settings(c Config) Settings {
	s := SharedSettings(c)
	s.TargetSparsity, s.Rounds, s.RetrainDecay = c.targetSparsity(), c.Rounds, c.RetrainDecay
	s.Decay = fmt.Sprintf("weight decay %g on the prunable weights while retraining; biases not decayed", c.RetrainDecay)
	return s
}

func (magnitudeMethod) Describe(c Config) string {
	if c.TargetRatio != 0 {
		return fmt.Sprintf("target ratio %g× in %d rounds, retraining decay %g", c.TargetRatio, c.Rounds, c.RetrainDecay)
	}
	return fmt.Sprintf("target sparsity %g in %d rounds, retraining decay %g", c.TargetSparsity, c.Rounds, c.RetrainDecay)
}

func (magnitudeMethod) Train(ctx context.Context, s *Session) (*Mask, error) {
	return magnitudePhase(ctx, s.Model, s.Data, s.Config, s.Resume, s.Report, s.Recorder, s.eval, s.Checkpoint)
}
