package compress

import (
	"context"
	"errors"
	"math"
	"sort"
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

// TestScaleThresholds: with a multiplier per weight, Threshold cuts each
// weight at τ times its multiplier (never one whose multiplier is 0), Stats
// counts what it would cut, and magnitudes rank the weights as Threshold
// compares them; nil restores one τ for all.
func TestScaleThresholds(t *testing.T) {
	m := trainedMLP(t)
	f, err := Split(m)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]float64{}
	for _, p := range f.Pairs() {
		u, v := p.U.Data().([]float32), p.V.Data().([]float32)
		for i := range u {
			before[p.Name] = append(before[p.Name], math.Abs(float64(u[i]*v[i])))
		}
	}
	all := append(append([]float64(nil), before["fc1/W"]...), before["fc2/W"]...)
	sorted := append([]float64(nil), all...)
	sort.Float64s(sorted)
	tau := (sorted[len(sorted)/2] + sorted[len(sorted)/2+1]) / 2 // no magnitude at τ
	scale := map[string]float64{"fc1/W": 0.5, "fc2/W": 0}
	f.ScaleThresholds(scale)
	scale["fc1/W"] = 2 // a copy is kept
	mags := f.magnitudes()
	if len(mags) != len(all) || mags[0] != all[0]/0.5 || !math.IsInf(mags[len(mags)-1], 1) {
		t.Fatalf("scaled magnitudes: %d of %d, first %v (|w| %v), last %v", len(mags), len(all), mags[0], all[0], mags[len(mags)-1])
	}
	small := f.Stats(tau).Small
	want := 0
	for _, a := range before["fc1/W"] {
		if a < float32Of(tau*0.5) {
			want++
		}
	}
	if want == 0 || want == len(before["fc1/W"]) {
		t.Fatalf("τ %v cuts %d of %d entries of fc1/W: not a test", tau, want, len(before["fc1/W"]))
	}
	if small != want {
		t.Errorf("Stats: %d below τ·0.5, want %d", small, want)
	}
	if n := f.Threshold(tau, nil); n != want {
		t.Errorf("Threshold zeroed %d, want %d", n, want)
	}
	for _, p := range f.Pairs() {
		u := p.U.Data().([]float32)
		for i := range u {
			a := before[p.Name][i]
			cut := p.Name == "fc1/W" && a < float32Of(tau*0.5)
			if (u[i] == 0) != (cut || a == 0) {
				t.Fatalf("%s[%d] |w| %v: zeroed %v, want %v (τ %v)", p.Name, i, a, u[i] == 0, cut, tau)
			}
		}
	}
	f.ScaleThresholds(nil)
	if got, want := f.Stats(tau).Small, countBelow(all, tau); got != want {
		t.Errorf("after ScaleThresholds(nil): %d below τ, want %d", got, want)
	}
}

func float32Of(x float64) float64 { return float64(float32(x)) }

func countBelow(xs []float64, tau float64) int {
	n := 0
	for _, x := range xs {
		if x < tau {
			n++
		}
	}
	return n
}

// TestLayerThreshold: with LayerThreshold, a held λ and a target ratio, a
// weight whose λ multiplier is small keeps more entries than under one τ
// (its threshold is τ times the multiplier), the ratio is still the one
// asked, and the report says so; without a λ per layer, on l1 and on a
// structured pass it is refused.
func TestLayerThreshold(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	base := Config{TargetRatio: 8, Lambda: 1e-3, LR: 0.3, Momentum: 0.9, Epochs: 4, Batch: 20, Threshold: 1e-3,
		EpochThreshold: true, Seed: 1, FinetuneEpochs: 1, LayerLambda: map[string]float64{"fc2/W": 0.1}}
	nonzero := func(rep *Report, name string) int {
		for _, l := range rep.Layers {
			if l.Name == name {
				return l.NonZero
			}
		}
		t.Fatalf("no layer %s in the report", name)
		return 0
	}
	one, err := Run(context.Background(), trainedMLP(t), data, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := base
	cfg.LayerThreshold = true
	scaled, err := Run(context.Background(), trainedMLP(t), data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := nonzero(one, "fc2/W"), nonzero(scaled, "fc2/W"); b <= a {
		t.Errorf("fc2/W (λ×0.1) keeps %d entries with τ scaled, %d with one τ: want more", b, a)
	}
	if r := scaled.Totals.CompressionRatio; r == nil || math.Abs(*r/8-1) > 0.15 {
		t.Errorf("ratio %v, asked 8", r)
	}
	if !scaled.Settings.LayerThreshold || one.Settings.LayerThreshold || !strings.Contains(scaled.Settings.Decay, "τ scaled likewise") {
		t.Errorf("settings: layer threshold %v (and %v without), decay %q", scaled.Settings.LayerThreshold, one.Settings.LayerThreshold, scaled.Settings.Decay)
	}
	for _, bad := range []Config{
		{LayerThreshold: true},
		{LayerThreshold: true, LayerScale: LayerScaleSize, Method: MethodL1},
		{LayerThreshold: true, LayerScale: LayerScaleSize, Structure: StructureNeuron},
	} {
		c := base
		c.LayerLambda, c.LayerScale, c.Structure, c.Method, c.LayerThreshold = bad.LayerLambda, bad.LayerScale, bad.Structure, bad.Method, bad.LayerThreshold
		if err := c.Validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "threshold per layer") {
			t.Errorf("%q %q %q: err %v, want the threshold-per-layer ErrConfig", bad.LayerScale, bad.Method, bad.Structure, err)
		}
	}
}
