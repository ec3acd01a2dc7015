package compress

import (
	"context"
	"fmt"
)

// l1Method is MethodL1: subgradient L1 on w, then thresholding.
type l1Method struct{}

func (l1Method) Name() string { return MethodL1 }

func (l1Method) Info() MethodInfo {
	return MethodInfo{Summary: "subgradient L1 on w, then thresholding", Title: "L1", Phase: PhaseL1,
		Target: true, Lambda: true, Threshold: true, Resume: true}
}

func (l1Method) Defaults(c Config) Config { return c }

// DefaultConfig takes a dense-training rate of 0.02: L1 trains w itself,
// where spred's 0.3 moves w only at about 2·0.3·|w|.
func (l1Method) DefaultConfig(structure string) Config {
	c := methodDefault(MethodL1, structure)
	c.LR = 0.02
	return c
}

func (l1Method) Validate(Config) error { return nil }

// Settings leaves per-epoch thresholding, which L1 does not use, zero.
func (l1Method) Settings(c Config) Settings {
	s := SharedSettings(c)
	s.Lambda, s.Threshold = c.Lambda, c.Threshold
	s.Decay = "λ·sign(w) subgradient on the prunable weights; biases not penalised" + layerNote(c)
	return s
}

func (l1Method) Describe(c Config) string { return fmt.Sprintf("λ=%g τ=%g", c.Lambda, c.Threshold) }

func (l1Method) Train(ctx context.Context, s *Session) (*Mask, error) {
	return l1Phase(ctx, s.Model, s.Data, s.Config, s.Resume, s.Report, s.Recorder, s.eval, s.Checkpoint(0, nil))
}
