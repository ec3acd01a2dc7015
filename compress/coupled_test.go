package compress

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// tinyResNet is ResNet-8 on 3×8×8 images, with batch norms that do
// something (random scales, shifts and running statistics).
func tinyResNet(t *testing.T, dt tensor.Dtype, seed int64) *models.Model {
	t.Helper()
	spec, err := models.CIFARResNet("resnet-8", 1, []int{3, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(seed))
	m, err := models.New(spec, dt, rng)
	if err != nil {
		t.Fatal(err)
	}
	infos, _ := spec.Params()
	for _, pi := range infos {
		p := m.Params.Get(pi.Name)
		v := p.Float64s()
		for i := range v {
			switch pi.Role {
			case models.RoleScale:
				v[i] = 0.5 + rng.Float64()
			case models.RoleShift, models.RoleMean:
				v[i] = 0.3 * rng.NormFloat64()
			case models.RoleVar:
				v[i] = 0.5 + rng.Float64()
			}
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// The coupled groups of ResNet-8 are its channel spaces: a residual space
// groups the filters of every convolution adding into it with the scales
// and shifts of their batch norms; the network computes the same function
// through the source; the penalty is λ Σ‖group‖₂ plus L1 on the rest.
func TestSplitCoupled(t *testing.T) {
	m := tinyResNet(t, tensor.Float64, 1)
	c, err := SplitCoupled(m, StructureFilter)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Groups()); n != 2*(16+32+64) {
		t.Errorf("%d groups, want %d (3 residual spaces and 3 inside blocks)", n, 2*(16+32+64))
	}
	var stage2 *ChannelGroup
	for _, g := range c.Groups() {
		if strings.Contains(strings.Join(g.Params, " "), "layer2.0.shortcut.0/W") {
			stage2 = g
			break
		}
	}
	if stage2 == nil {
		t.Fatal("no group holds the stage-2 shortcut")
	}
	want := "layer2.0.conv2/W layer2.0.shortcut.0/W layer2.0.bn2/scale layer2.0.bn2/shift layer2.0.shortcut.1/scale layer2.0.shortcut.1/shift"
	if got := strings.Join(stage2.Params, " "); got != want || len(stage2.Index[0]) != 32*9 || len(stage2.Index[1]) != 16 {
		t.Errorf("stage-2 group %q (%d, %d entries), want %q", got, len(stage2.Index[0]), len(stage2.Index[1]), want)
	}
	if pairs := c.Elementwise().Pairs(); len(pairs) != 1 || pairs[0].Name != "fc/W" {
		t.Errorf("element-wise weights %d, want fc/W only", len(pairs))
	}
	d := noiseData(5, []int{3, 8, 8}, 3, 2)
	a, b := predict(t, m, nil, d), predict(t, m, c, d)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(a[i])) {
			t.Fatalf("output %d is %v through the source, %v plain", i, b[i], a[i])
		}
	}
	const lambda = 0.2
	pen := 0.0
	for _, g := range c.Groups() {
		s := 0.0
		for k, name := range g.Params {
			v := m.Params.Get(name).Float64s()
			for _, i := range g.Index[k] {
				s += v[i] * v[i]
			}
		}
		pen += math.Sqrt(s)
	}
	for _, x := range m.Params.Get("fc/W").Float64s() {
		pen += math.Abs(x)
	}
	if got := c.Penalty(lambda); math.Abs(got-lambda*pen) > 1e-9*pen {
		t.Errorf("penalty %v, want %v", got, lambda*pen)
	}

	if _, err := SplitCoupled(m, StructureNeuron); err == nil || !strings.Contains(err.Error(), "groups no layer") {
		t.Errorf("neuron on a ResNet whose only dense layer gives the scores: %v", err)
	}
	if _, err := SplitGroups(m, StructureFilter); err == nil || !strings.Contains(err.Error(), "SplitCoupled") {
		t.Errorf("SplitGroups on a ResNet: %v", err)
	}
	chain, _ := models.New(structSpec(), tensor.Float64, rand.New(rand.NewSource(1)))
	if _, err := SplitCoupled(chain, StructureFilter); err == nil {
		t.Error("SplitCoupled on a chain: no error")
	}
}

// Prox is group soft thresholding: every norm shrinks by the step, to zero
// at most; Threshold zeroes the groups below tau, whole.
func TestCoupledProx(t *testing.T) {
	m := tinyResNet(t, tensor.Float64, 2)
	c, err := SplitCoupled(m, StructureMixed)
	if err != nil {
		t.Fatal(err)
	}
	before := c.GroupNorms()
	s := 1.01 * minPositive(before) // zeroes the smallest group at least
	zeroed := c.Prox(s, nil)
	after := c.GroupNorms()
	want := 0
	for k := range before {
		w := math.Max(0, before[k]-s)
		if w == 0 {
			want++
		}
		if math.Abs(after[k]-w) > 1e-12 {
			t.Fatalf("group %d: norm %v after the step, want %v", k, after[k], w)
		}
	}
	if zeroed != want || want == 0 {
		t.Errorf("Prox zeroed %d groups, want %d (> 0)", zeroed, want)
	}
	units, _ := c.Threshold(1.01*minPositive(after), nil)
	if units == 0 {
		t.Error("Threshold zeroed no group")
	}
	for k, g := range c.Groups() {
		if c.GroupNorms()[k] != 0 {
			continue
		}
		for a, name := range g.Params {
			v := m.Params.Get(name).Float64s()
			for _, i := range g.Index[a] {
				if v[i] != 0 {
					t.Fatalf("group %d: %s[%d] = %v in a zero group", k, name, i, v[i])
				}
			}
		}
	}
}

// --structure filter on a tiny ResNet: the proximal group lasso zeroes
// channels as whole coupled groups, Thin removes them from every layer of
// their space, and the thinned model computes what the thresholded one
// did. Same seed, same model.
func TestRunStructuredResNet(t *testing.T) {
	data := Data{Train: noiseData(60, []int{3, 8, 8}, 3, 1), Test: noiseData(30, []int{3, 8, 8}, 3, 2)}
	cfg := Config{Structure: StructureFilter, Lambda: 0.7, Threshold: 1e-3, Epochs: 10, Batch: 20,
		LR: 0.1, Momentum: 0.9, Seed: 1}
	run := func() (*models.Model, *Report) {
		m := tinyResNet(t, tensor.Float32, 3)
		rep, err := Run(context.Background(), m, data, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m, rep
	}
	m, rep := run()
	if rep.Thin == nil {
		t.Fatal("no thinning report")
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, l := range rep.Thin.Layers {
		removed += l.UnitsBefore - l.UnitsAfter
	}
	cs, err := models.CoupledChannels(m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range cs.Spaces { // the producers of a space keep the same filters
		for _, i := range sp.Producers {
			if f := m.Spec.Layers[i].Filters; m.Spec.Layers[i].Kind == models.Conv2d && f != sp.Channels {
				t.Errorf("%s has %d filters in a space of %d channels", m.Spec.Layers[i].Name, f, sp.Channels)
			}
		}
	}
	t.Logf("removed %d filters; FLOPs %d → %d; accuracy %v → %v", removed, rep.Thin.FLOPsBefore, rep.Thin.FLOPsAfter,
		*rep.Accuracy.Thresholded, *rep.Accuracy.Thinned)
	if removed == 0 || rep.Thin.FLOPsAfter >= rep.Thin.FLOPsBefore {
		t.Errorf("the group lasso removed nothing: %+v", rep.Thin.Layers)
	}
	if *rep.Accuracy.Thinned != *rep.Accuracy.Thresholded || math.Abs(*rep.Loss.Thinned-*rep.Loss.Thresholded) > 1e-5 {
		t.Errorf("accuracy %v / loss %v after thinning, %v / %v before", *rep.Accuracy.Thinned, *rep.Loss.Thinned,
			*rep.Accuracy.Thresholded, *rep.Loss.Thresholded)
	}
	if !strings.Contains(rep.Settings.Decay, "coupled channels") {
		t.Errorf("decay setting %q", rep.Settings.Decay)
	}
	again, _ := run()
	for _, p := range m.Params.All() {
		a, b := p.Float64s(), again.Params.Get(p.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("second run differs at %s[%d]", p.Name, i)
			}
		}
	}
}

func minPositive(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		if x > 0 && x < m {
			m = x
		}
	}
	return m
}
