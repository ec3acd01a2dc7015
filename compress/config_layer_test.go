package compress

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestLayerLambda: a λ multiplier per weight reaches the factors' decay: a
// weight whose multiplier is 0 keeps every entry, the others are pruned as
// with the uniform λ; the report records the multipliers; a name that is
// no prunable weight and a structured pass are refused.
func TestLayerLambda(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	base := Config{Lambda: 2e-2, LR: 0.3, Momentum: 0.9, Epochs: 4, Batch: 20, Threshold: 1e-3, EpochThreshold: true, Seed: 1, FinetuneEpochs: 1}
	nonzero := func(rep *Report) map[string]int {
		out := map[string]int{}
		for _, l := range rep.Layers {
			out[l.Name] = l.NonZero
		}
		return out
	}
	uniform, err := Run(context.Background(), trainedMLP(t), data, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := base
	cfg.LayerLambda = map[string]float64{"fc2/W": 0}
	kept, err := Run(context.Background(), trainedMLP(t), data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, k := nonzero(uniform), nonzero(kept)
	if u["fc2/W"] >= 24 || k["fc2/W"] != 48 {
		t.Errorf("fc2/W non-zeros: uniform λ %d, multiplier 0 %d; fc1/W %d and %d", u["fc2/W"], k["fc2/W"], u["fc1/W"], k["fc1/W"])
	}
	if k["fc1/W"] >= 320 {
		t.Errorf("fc1/W not pruned under its own λ: %d of 320", k["fc1/W"])
	}
	if kept.Settings.LayerLambda != "fc2/W=0" || !strings.Contains(kept.Settings.Decay, "×0 on fc2/W") {
		t.Errorf("settings %v, decay %q", kept.Settings.LayerLambda, kept.Settings.Decay)
	}
	for _, bad := range []Config{
		{LayerLambda: map[string]float64{"fc9/W": 0.5}},
		{LayerLambda: map[string]float64{"fc1/b": 0.5}},
		{LayerLambda: map[string]float64{"fc1/W": math.NaN()}},
		{LayerScale: "sqrt"},
		{LayerScale: LayerScaleSize, Structure: StructureNeuron},
		{LayerScale: LayerScaleSize, Method: MethodMagnitude, TargetRatio: 4},
	} {
		c := base
		c.LayerLambda, c.LayerScale, c.Structure, c.Method, c.TargetRatio = bad.LayerLambda, bad.LayerScale, bad.Structure, bad.Method, bad.TargetRatio
		if _, err := Run(context.Background(), trainedMLP(t), data, c, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%v %q %q: err %v, want ErrConfig", bad.LayerLambda, bad.LayerScale, bad.Method, err)
		}
	}
}

// TestSizeScaledLambda: the size rule gives √(n/n_max) per prunable weight,
// and a multiplier given by name overrides it.
func TestSizeScaledLambda(t *testing.T) {
	m := trainedMLP(t) // fc1/W 20×16 = 320, fc2/W 16×3 = 48
	got := SizeScaledLambda(m)
	if len(got) != 2 || got["fc1/W"] != 1 || math.Abs(got["fc2/W"]-math.Sqrt(48.0/320)) > 1e-15 {
		t.Errorf("SizeScaledLambda = %v", got)
	}
	c, err := Config{LayerScale: LayerScaleSize, LayerLambda: map[string]float64{"fc1/W": 0.5}}.ResolveLayers(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.layers) != 2 || c.layers["fc1/W"] != 0.5 || c.layers["fc2/W"] != got["fc2/W"] || len(c.LayerLambda) != 1 {
		t.Errorf("resolved %v from %v", c.layers, c.LayerLambda)
	}
}
