package compress

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
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
// and shifts of their batch norms. The split is balanced (g_c² =
// ‖V_group‖², g_c·V = w; a zero group gives g_c = 0 and V = 0), the
// network computes the same function through the source, and the penalty
// at balance is λ Σ‖w_group‖₂ plus λ‖w‖₁ of the rest.
func TestSplitCoupled(t *testing.T) {
	m := tinyResNet(t, tensor.Float64, 1)
	// One channel zero in its whole group (group 3: channel 3 of the
	// first space grouped).
	cs, err := models.CoupledChannels(m.Spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := SplitCoupled(m, StructureFilter)
	if err != nil {
		t.Fatal(err)
	}
	zero := c.Groups()[3]
	for a, name := range zero.Params {
		p := m.Params.Get(name)
		v := p.Float64s()
		for _, i := range zero.Index[a] {
			v[i] = 0
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	if c, err = SplitCoupled(m, StructureFilter); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Groups()); n != 2*(16+32+64) {
		t.Errorf("%d groups, want %d (3 residual spaces and 3 inside blocks)", n, 2*(16+32+64))
	}
	if n := len(c.Spaces()); n != 6 || c.Spaces()[0].G.Shape()[0] != cs.Spaces[c.Spaces()[0].Space].Channels {
		t.Errorf("%d spaces, want 6 with one scale per channel", n)
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
	gOf := map[int][]float64{}
	for _, sp := range c.Spaces() {
		gOf[sp.Space] = sp.G.Data().([]float64)
	}
	norms := c.GroupNorms()
	pen := 0.0
	for k, grp := range c.Groups() {
		g := gOf[grp.Space][grp.Channel]
		s, sv := 0.0, 0.0
		for a, name := range grp.Params {
			w, v := m.Params.Get(name).Float64s(), c.Factor(name).Data().([]float64)
			for _, i := range grp.Index[a] {
				s += w[i] * w[i]
				sv += v[i] * v[i]
				if math.Abs(g*v[i]-w[i]) > 1e-15*(1+math.Abs(w[i])) {
					t.Fatalf("group %d: g·V = %v, w = %v at %s[%d]", k, g*v[i], w[i], name, i)
				}
			}
		}
		if math.Abs(g*g-sv) > 1e-12*(1+sv) || g < 0 {
			t.Errorf("group %d: g = %v, ‖V‖² = %v: not balanced", k, g, sv)
		}
		if math.Abs(norms[k]-math.Sqrt(s)) > 1e-12*(1+math.Sqrt(s)) {
			t.Errorf("group %d: norm %v, ‖w_group‖ %v", k, norms[k], math.Sqrt(s))
		}
		if k == 3 && (g != 0 || sv != 0 || s != 0) {
			t.Errorf("the zero group: g %v, ‖V‖² %v, ‖w‖² %v", g, sv, s)
		}
		pen += math.Sqrt(s)
	}
	for _, x := range m.Params.Get("fc/W").Float64s() {
		pen += math.Abs(x)
	}
	const lambda = 0.2
	if got := c.Penalty(lambda); math.Abs(got-lambda*pen) > 1e-9*pen {
		t.Errorf("penalty %v, want λ(Σ‖w_group‖₂ + ‖fc‖₁) = %v", got, lambda*pen)
	}
	d := noiseData(5, []int{3, 8, 8}, 3, 2)
	a, b := predict(t, m, nil, d), predict(t, m, c, d)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(a[i])) {
			t.Fatalf("output %d is %v through the source, %v plain", i, b[i], a[i])
		}
	}
	sess, err := graph.New(m, graph.Options{Batch: 5, Source: c, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	names := map[string]bool{}
	for _, l := range sess.Learnables() {
		names[l.Name] = true
		grouped := strings.HasSuffix(l.Name, ".g") || strings.HasSuffix(l.Name, ".V")
		if l.Decay != (grouped || strings.HasSuffix(l.Name, ".u") || strings.HasSuffix(l.Name, ".v")) {
			t.Errorf("%s: decay %v", l.Name, l.Decay)
		}
	}
	for _, n := range []string{c.Spaces()[0].Name, "conv1/W.V", "bn1/scale.V", "bn1/shift.V", "fc/W.u", "fc/b"} {
		if !names[n] {
			t.Errorf("no learnable %s", n)
		}
	}
	if names["bn1/scale"] || names["conv1/W"] {
		t.Error("a grouped parameter is itself a learnable")
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

// The gradients of the loss with respect to every g and to V of weights,
// batch-norm scales and shifts, through the broadcast products, match
// central finite differences on a tiny residual network.
func TestCoupledGradients(t *testing.T) {
	m := tinyResNet(t, tensor.Float64, 4)
	c, err := SplitCoupled(m, StructureFilter)
	if err != nil {
		t.Fatal(err)
	}
	d := noiseData(5, []int{3, 8, 8}, 3, 6)
	sess, err := graph.New(m, graph.Options{Batch: 5, Source: c, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	checked := checkGradients(t, sess, d.X, d.Y, func(name string) string {
		switch {
		case strings.HasSuffix(name, ".g"):
			return "g"
		case strings.HasSuffix(name, "/W.V"):
			return "weight"
		case strings.HasSuffix(name, "/scale.V"):
			return "scale"
		case strings.HasSuffix(name, "/shift.V"):
			return "shift"
		}
		return ""
	}, ends)
	// 6 spaces; 9 convolutions (the stem, two per block, two shortcuts)
	// and their 9 batch norms.
	if checked["g"] != 6*3 || checked["weight"] != 9*3 || checked["scale"] != 9*3 || checked["shift"] != 9*3 {
		t.Errorf("checked %v", checked)
	}
}

// momentumLog records ZeroVelocity calls.
type momentumLog map[string][]int

func (l momentumLog) ZeroVelocity(name string, idx []int) { l[name] = append(l[name], idx...) }

// Threshold zeroes the groups below tau whole — g_c and the group's
// entries of every V — and their velocity; Collapse writes g·V into the
// weights, biases, scales and shifts of the model, which then computes
// what the factors did.
func TestCoupledThreshold(t *testing.T) {
	m := tinyResNet(t, tensor.Float64, 2)
	c, err := SplitCoupled(m, StructureMixed)
	if err != nil {
		t.Fatal(err)
	}
	// Shrink the groups unevenly so that a few fall below tau.
	for _, sp := range c.Spaces() {
		g := sp.G.Data().([]float64)
		for ch := range g {
			if ch%5 == 0 {
				g[ch] *= 1e-3
			}
		}
	}
	before := c.GroupNorms()
	const tau = 1e-2
	want := 0
	for _, n := range before {
		if n < tau {
			want++
		}
	}
	log := momentumLog{}
	units, _ := c.Threshold(tau, log)
	if units != want || want == 0 {
		t.Errorf("Threshold zeroed %d groups, want %d (> 0)", units, want)
	}
	after := c.GroupNorms()
	gOf := map[int][]float64{}
	names := map[int]string{}
	for _, sp := range c.Spaces() {
		gOf[sp.Space] = sp.G.Data().([]float64)
		names[sp.Space] = sp.Name
	}
	zeroG := map[string]map[int]bool{}
	for n, idx := range log {
		zeroG[n] = map[int]bool{}
		for _, i := range idx {
			zeroG[n][i] = true
		}
	}
	for k, grp := range c.Groups() {
		if before[k] >= tau {
			if after[k] != before[k] {
				t.Fatalf("group %d above tau changed: %v → %v", k, before[k], after[k])
			}
			continue
		}
		if g := gOf[grp.Space][grp.Channel]; g != 0 || !zeroG[names[grp.Space]][grp.Channel] {
			t.Fatalf("group %d: g = %v after Threshold (velocity zeroed: %v)", k, g, zeroG[names[grp.Space]][grp.Channel])
		}
		for a, name := range grp.Params {
			v := c.Factor(name).Data().([]float64)
			for _, i := range grp.Index[a] {
				if v[i] != 0 || !zeroG[name+".V"][i] {
					t.Fatalf("group %d: %s.V[%d] = %v in a zero group (velocity zeroed: %v)", k, name, i, v[i], zeroG[name+".V"][i])
				}
			}
		}
	}
	d := noiseData(5, []int{3, 8, 8}, 3, 2)
	through := predict(t, m, c, d)
	if err := c.Collapse(m); err != nil {
		t.Fatal(err)
	}
	for k, grp := range c.Groups() {
		for a, name := range grp.Params {
			w, v := m.Params.Get(name).Float64s(), c.Factor(name).Data().([]float64)
			for _, i := range grp.Index[a] {
				if w[i] != gOf[grp.Space][grp.Channel]*v[i] {
					t.Fatalf("group %d: %s[%d] = %v after Collapse, g·V = %v", k, name, i, w[i], gOf[grp.Space][grp.Channel]*v[i])
				}
			}
		}
	}
	plain := predict(t, m, nil, d)
	for i := range plain {
		if math.Abs(plain[i]-through[i]) > 1e-12*(1+math.Abs(plain[i])) {
			t.Fatalf("output %d is %v after Collapse, %v through the factors", i, plain[i], through[i])
		}
	}
}

// --structure filter on a tiny ResNet: the group lasso through g·V zeroes
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

// biasResNet has residual spaces of conv2d layers with biases and of dense
// layers: a conv block and a dense block, each adding into its input.
func biasResNet() models.Spec {
	return models.Spec{
		Name:  "bias-resnet",
		Input: []int{2, 6, 6},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1}, {Kind: models.ReLU, Name: "r1"},
			{Kind: models.Conv2d, Name: "c2", Filters: 4, Kernel: 3, Padding: 1},
			{Kind: models.Add, Name: "a1", Inputs: []string{"c2", "r1"}}, {Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "d1", Units: 5}, {Kind: models.ReLU, Name: "r2"},
			{Kind: models.Dense, Name: "d2", Units: 5},
			{Kind: models.Add, Name: "a2", Inputs: []string{"d2", "r2"}}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "out", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// On conv2d and dense residual spaces with biases (structure mixed): the
// groups hold weights and biases, the split computes the same function,
// the penalty is the group lasso at balance, and the gradients of g and of
// V of weights and biases match finite differences.
func TestCoupledDenseAndBiases(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	m, err := models.New(biasResNet(), tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	// Biases away from zero: at zero a sample whose block input is all
	// zero sits on the kink of a ReLU, where no finite difference holds.
	for _, p := range m.Params.All() {
		if strings.HasSuffix(p.Name, "/b") {
			v := p.Float64s()
			for i := range v {
				v[i] = 0.3 * rng.NormFloat64()
			}
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, err := SplitCoupled(m, StructureMixed)
	if err != nil {
		t.Fatal(err)
	}
	var spaces []string
	for _, sp := range c.Spaces() {
		spaces = append(spaces, strings.Join(sp.Params, " "))
	}
	if got, want := strings.Join(spaces, "; "), "c1/W c1/b c2/W c2/b; d1/W d1/b d2/W d2/b"; got != want {
		t.Fatalf("spaces %q, want %q", got, want)
	}
	pen := 0.0
	for _, grp := range c.Groups() {
		s := 0.0
		for a, name := range grp.Params {
			w := m.Params.Get(name).Float64s()
			for _, i := range grp.Index[a] {
				s += w[i] * w[i]
			}
		}
		pen += math.Sqrt(s)
	}
	for _, x := range m.Params.Get("out/W").Float64s() {
		pen += math.Abs(x)
	}
	if got := c.Penalty(1); math.Abs(got-pen) > 1e-12*pen {
		t.Errorf("penalty %v, want Σ‖w_group‖₂ + ‖out/W‖₁ = %v", got, pen)
	}
	d := noiseData(4, []int{2, 6, 6}, 3, 3)
	a, b := predict(t, m, nil, d), predict(t, m, c, d)
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(a[i])) {
			t.Fatalf("output %d is %v through the source, %v plain", i, b[i], a[i])
		}
	}
	sess, err := graph.New(m, graph.Options{Batch: 4, Source: c, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	checked := checkGradients(t, sess, d.X, d.Y, factors, every)["factor"]
	// g of 4 and 5 channels; c1 [4, 2, 3, 3], c2 [4, 4, 3, 3], d1 [36, 5]
	// and d2 [5, 5], with their biases.
	if want := 4 + 5 + (72 + 4) + (144 + 4) + (180 + 5) + (25 + 5); checked != want {
		t.Errorf("checked %d entries, want %d", checked, want)
	}
}

// --structure mixed on conv2d and dense residual spaces with biases: whole
// channels of both go, and the thinned model computes what the
// thresholded one did.
func TestRunStructuredMixedResidual(t *testing.T) {
	data := Data{Train: noiseData(40, []int{2, 6, 6}, 3, 1), Test: noiseData(20, []int{2, 6, 6}, 3, 2)}
	cfg := Config{Structure: StructureMixed, Lambda: 0.5, Threshold: 1e-3, Epochs: 30, Batch: 10,
		LR: 0.02, Momentum: 0.9, Seed: 1}
	m, err := models.New(biasResNet(), tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), m, data, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	removed := map[string]int{}
	for _, l := range rep.Thin.Layers {
		removed[l.Name] = l.UnitsBefore - l.UnitsAfter
	}
	t.Logf("removed %v; accuracy %v → %v", removed, *rep.Accuracy.Thresholded, *rep.Accuracy.Thinned)
	if removed["c1"] != removed["c2"] || removed["d1"] != removed["d2"] || removed["c1"]+removed["d1"] == 0 {
		t.Errorf("removed %v: want whole coupled channels, some", removed)
	}
	if *rep.Accuracy.Thinned != *rep.Accuracy.Thresholded || math.Abs(*rep.Loss.Thinned-*rep.Loss.Thresholded) > 1e-5 {
		t.Errorf("accuracy %v / loss %v after thinning, %v / %v before", *rep.Accuracy.Thinned, *rep.Loss.Thinned,
			*rep.Accuracy.Thresholded, *rep.Loss.Thresholded)
	}
}
