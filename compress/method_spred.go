package compress

import (
	"context"
	"fmt"

	"github.com/pkg/errors"
)

// spredMethod is MethodSpred: w = u⊙v with weight decay λ on u and v,
// element-wise or grouped (Config.Structure).
type spredMethod struct{}

func (spredMethod) Name() string { return MethodSpred }

func (spredMethod) Info() MethodInfo {
	return MethodInfo{Summary: "w = u⊙v with weight decay λ on u and v (element-wise or grouped)", Title: "spred", Phase: PhaseSpred,
		Structure: true, FromScratch: true, Target: true, Lambda: true, Threshold: true, Resume: true}
}

func (spredMethod) Defaults(c Config) Config { return c }

// DefaultConfig is DefaultConfig, with a learning rate of 0.05 for a
// grouped structure: a unit's factors move w_unit at about lr·‖w_unit‖₂,
// near 1 for a trained neuron.
func (spredMethod) DefaultConfig(structure string) Config {
	c := methodDefault(MethodSpred, structure)
	if c.Structure != "" {
		c.LR = 0.05
	}
	return c
}

func (spredMethod) Validate(c Config) error {
	if c.Lambda == 0 && c.TargetRatio == 0 && c.TargetSparsity == 0 {
		return errors.Wrapf(ErrConfig, "lambda is 0: method spred then penalises nothing and compresses nothing (DefaultConfig has %g; or ask for a TargetRatio)", DefaultConfig().Lambda)
	}
	return nil
}

func (spredMethod) Settings(c Config) Settings {
	s := SharedSettings(c)
	s.Method, s.Structure, s.Lambda, s.Threshold, s.EpochThreshold, s.FromScratch = MethodSpred, structureSetting(c), c.Lambda, c.Threshold, c.EpochThreshold, c.FromScratch
	s.Decay = decaySetting(c) + layerNote(c)
	return s
}

func (spredMethod) Describe(c Config) string {
	switch {
	case c.TargetRatio != 0 && c.Lambda != 0:
		return fmt.Sprintf("target ratio %g× (λ=%g held, the final τ set to the ratio; τ=%g during the run)", c.TargetRatio, c.Lambda, c.Threshold)
	case c.TargetSparsity != 0 && c.Lambda != 0:
		return fmt.Sprintf("target sparsity %g (λ=%g held, the final τ set to the sparsity; τ=%g during the run)", c.TargetSparsity, c.Lambda, c.Threshold)
	case c.TargetRatio != 0:
		return fmt.Sprintf("target ratio %g× (λ found during the run, measured at τ=%g)", c.TargetRatio, c.Threshold)
	case c.TargetSparsity != 0:
		return fmt.Sprintf("target sparsity %g (λ found during the run, measured at τ=%g)", c.TargetSparsity, c.Threshold)
	}
	return fmt.Sprintf("λ=%g τ=%g", c.Lambda, c.Threshold)
}

func (spredMethod) Train(ctx context.Context, s *Session) (*Mask, error) {
	if s.Config.structured() {
		return structuredPhase(ctx, s.Model, s.Data, s.Config, s.Resume, s.Report, s.Recorder, s.eval, s.Checkpoint(0, nil))
	}
	return spredPhase(ctx, s.Model, s.Data, s.Config, s.Resume, s.Report, s.Recorder, s.eval, s.Checkpoint(0, nil))
}

// methodDefault is DefaultConfig for method and structure ("" or
// StructureElement: element-wise).
func methodDefault(method, structure string) Config {
	c := DefaultConfig()
	c.Method = method
	if structure != StructureElement {
		c.Structure = structure
	}
	return c
}
