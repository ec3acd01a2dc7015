package models_test

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/models"
)

// resnet20 is the zoo's ResNet-20 for small images.
func resnet20(t testing.TB) models.Spec {
	t.Helper()
	s, err := models.CIFARResNet("resnet-20", 3, []int{3, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randomNormModel is randomModel with batch norms that do something: scales
// of both signs, shifts, means and positive variances.
func randomNormModel(t testing.TB, spec models.Spec, seed int64) *models.Model {
	t.Helper()
	m := randomModel(t, spec, seed)
	rng := rand.New(rand.NewSource(seed + 100))
	for _, l := range spec.Layers {
		if l.Kind != models.BatchNorm2d {
			continue
		}
		for _, role := range []string{models.RoleScale, models.RoleShift, models.RoleMean, models.RoleVar} {
			p := m.Params.Get(models.ParamName(l.Name, role))
			v := p.Float64s()
			for i := range v {
				switch role {
				case models.RoleScale:
					v[i] = (0.5 + rng.Float64()) * float64(1-2*rng.Intn(2))
				case models.RoleVar:
					v[i] = 0.2 + 2*rng.Float64()
				default:
					v[i] = 0.5 * rng.NormFloat64()
				}
			}
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return m
}

func layerIndex(t testing.TB, s models.Spec, name string) int {
	t.Helper()
	for i, l := range s.Layers {
		if l.Name == name {
			return i
		}
	}
	t.Fatalf("no layer %q", name)
	return 0
}

// spaceOf is the channel space of the output of the named layer.
func spaceOf(t testing.TB, s models.Spec, name string) *models.ChannelSpace {
	t.Helper()
	cs, err := models.CoupledChannels(s)
	if err != nil {
		t.Fatal(err)
	}
	return cs.Space(layerIndex(t, s, name))
}

func names(s models.Spec, idx []int) string {
	var out []string
	for _, i := range idx {
		out = append(out, s.Layers[i].Name)
	}
	return strings.Join(out, " ")
}

func setEntry(t testing.TB, m *models.Model, name string, i int, v float64) {
	t.Helper()
	p := m.Params.Get(name)
	w := p.Float64s()
	w[i] = v
	if err := p.SetFloat64s(w); err != nil {
		t.Fatal(err)
	}
}

// zeroChannel zeroes channel c of the space of the named layer's output:
// filter (or unit) c and bias c of its producers and the scale and shift c
// of its batch norms; only those named in only, if any.
func zeroChannel(t testing.TB, m *models.Model, layer string, c int, only ...string) {
	t.Helper()
	s := spaceOf(t, m.Spec, layer)
	skip := func(i int) bool { return len(only) > 0 && !containsString(only, m.Spec.Layers[i].Name) }
	for _, i := range s.Producers {
		l := m.Spec.Layers[i]
		if skip(i) {
			continue
		}
		killIn(t, m, l.Name, c)
		if !l.NoBias {
			setEntry(t, m, models.BiasName(l.Name), c, 0)
		}
	}
	for _, i := range s.Norms {
		if skip(i) {
			continue
		}
		setEntry(t, m, models.ParamName(m.Spec.Layers[i].Name, models.RoleScale), c, 0)
		setEntry(t, m, models.ParamName(m.Spec.Layers[i].Name, models.RoleShift), c, 0)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sameLogits checks that a and b give the same logits through the
// inference engine on random inputs, to 1e-5 relative to the largest.
func sameLogits(t testing.TB, a, b *models.Model, seed int64) {
	t.Helper()
	const n = 6
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, n*a.Spec.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	var out [2][]float32
	for k, m := range []*models.Model{a, b} {
		e, err := infer.New(m, infer.Options{Batch: n})
		if err != nil {
			t.Fatal(err)
		}
		if out[k], err = e.Forward(x, n); err != nil {
			t.Fatal(err)
		}
	}
	scale, diff := 1.0, 0.0
	for i := range out[0] {
		scale = math.Max(scale, math.Abs(float64(out[0][i])))
		diff = math.Max(diff, math.Abs(float64(out[0][i]-out[1][i])))
	}
	if diff/scale > 1e-5 || math.IsNaN(diff) {
		t.Fatalf("logits differ by %.3g (relative %.3g) after thinning", diff, diff/scale)
	}
}

func TestCoupledChannelsResNet(t *testing.T) {
	s := resnet20(t)
	cs, err := models.CoupledChannels(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Spaces) != 14 { // input, 3 stages, 9 inside blocks, class scores
		t.Errorf("%d spaces, want 14", len(cs.Spaces))
	}
	for _, c := range []struct {
		layer, producers, norms, readers string
		channels                         int
	}{
		{"layer1.2.add", "conv1 layer1.0.conv2 layer1.1.conv2 layer1.2.conv2", "bn1 layer1.0.bn2 layer1.1.bn2 layer1.2.bn2",
			"layer1.0.conv1 layer1.1.conv1 layer1.2.conv1 layer2.0.conv1 layer2.0.shortcut.0", 16},
		{"layer2.0.shortcut.1", "layer2.0.conv2 layer2.0.shortcut.0 layer2.1.conv2 layer2.2.conv2",
			"layer2.0.bn2 layer2.0.shortcut.1 layer2.1.bn2 layer2.2.bn2", "layer2.1.conv1 layer2.2.conv1 layer3.0.conv1 layer3.0.shortcut.0", 32},
		{"avgpool", "layer3.0.conv2 layer3.0.shortcut.0 layer3.1.conv2 layer3.2.conv2",
			"layer3.0.bn2 layer3.0.shortcut.1 layer3.1.bn2 layer3.2.bn2", "layer3.1.conv1 layer3.2.conv1 fc", 64},
		{"layer2.1.relu1", "layer2.1.conv1", "layer2.1.bn1", "layer2.1.conv2", 32},
	} {
		sp := cs.Space(layerIndex(t, s, c.layer))
		var readers []int
		for _, r := range sp.Readers {
			readers = append(readers, r.Layer)
			if r.Per != 1 {
				t.Errorf("%s: reader %s reads %d values per channel", c.layer, s.Layers[r.Layer].Name, r.Per)
			}
		}
		for what, got := range map[string][2]string{
			"producers": {names(s, sp.Producers), c.producers},
			"norms":     {names(s, sp.Norms), c.norms},
			"readers":   {names(s, readers), c.readers},
		} {
			if got[0] != got[1] {
				t.Errorf("space of %s: %s %q, want %q", c.layer, what, got[0], got[1])
			}
		}
		if sp.Channels != c.channels || sp.Fixed != "" {
			t.Errorf("space of %s: %d channels, fixed %q", c.layer, sp.Channels, sp.Fixed)
		}
	}
	if f := cs.Space(models.InputIndex).Fixed; f == "" {
		t.Error("the input's space is not fixed")
	}
	if f := cs.Space(len(s.Layers) - 1).Fixed; f == "" {
		t.Error("the class scores' space is not fixed")
	}

	// A depthwise convolution ties its input and output spaces.
	dw := models.Spec{Name: "dw", Input: []int{2, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3},
		{Kind: models.Conv2d, Name: "dw", Filters: 4, Kernel: 3, Groups: 4},
		{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 1},
		{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 2},
	}}
	for _, name := range []string{"c1", "dw"} {
		if f := spaceOf(t, dw, name).Fixed; !strings.Contains(f, "grouped convolution") {
			t.Errorf("space of %s: fixed %q", name, f)
		}
	}
	if sp := spaceOf(t, dw, "c2"); sp.Fixed != "" || sp.Readers[0].Per != 2*2 {
		t.Errorf("space of c2: %+v", sp)
	}
}

// Channels zeroed as whole coupled groups leave the ResNet; the thinned
// model is the same ResNet with fewer channels and computes the same
// function. A channel zeroed in only some producers of a residual space,
// or whose batch norm still outputs a shift, stays.
func TestThinResNet(t *testing.T) {
	m := randomNormModel(t, resnet20(t), 1)
	zeroChannel(t, m, "layer1.0.add", 3) // the stage-1 residual space, 4 producers, 4 batch norms
	zeroChannel(t, m, "layer1.0.add", 5)
	zeroChannel(t, m, "layer1.1.conv1", 0) // inside a block
	zeroChannel(t, m, "layer1.1.conv1", 7)
	// Batch norm scale and shift zero, filter alive: the channel is zero.
	setEntry(t, m, "layer3.0.bn1/scale", 2, 0)
	setEntry(t, m, "layer3.0.bn1/shift", 2, 0)
	// Only some producers dead: the add still carries the channel.
	zeroChannel(t, m, "avgpool", 4, "layer3.0.conv2", "layer3.0.bn2", "layer3.0.shortcut.0", "layer3.0.shortcut.1", "layer3.1.conv2", "layer3.1.bn2")
	// Every filter dead but one batch norm outputs its shift.
	zeroChannel(t, m, "layer2.0.add", 1)
	setEntry(t, m, "layer2.1.bn2/shift", 1, 0.3)
	// A channel no reader reads.
	killInputs(t, m, "layer2.2.conv2", 6, 7)

	th, rep := thinChecked(t, m)
	want := map[string]int{"conv1": 14, "layer1.0.conv2": 14, "layer1.1.conv2": 14, "layer1.2.conv2": 14,
		"layer1.1.conv1": 14, "layer3.0.conv1": 63, "layer2.2.conv1": 31}
	for i, l := range th.Spec.Layers {
		orig := m.Spec.Layers[i]
		if l.Kind != models.Conv2d {
			if l.Kind != orig.Kind || l.Name != orig.Name || l.Units != orig.Units {
				t.Errorf("layer %d changed: %v, was %v", i, l, orig)
			}
			continue
		}
		f, ok := want[l.Name]
		if !ok {
			f = orig.Filters
		}
		if l.Filters != f {
			t.Errorf("%s: %d filters, want %d", l.Name, l.Filters, f)
		}
	}
	got := units(rep)
	if u := got["layer2.0.conv1"]; u[2] != 16 || u[3] != 14 {
		t.Errorf("layer2.0.conv1 inputs %v, want 16 → 14", u)
	}
	if u := got["fc"]; u != [4]int{10, 10, 64, 64} {
		t.Errorf("fc %v", u)
	}
	if rep.FLOPsAfter >= rep.FLOPsBefore {
		t.Errorf("FLOPs %d → %d", rep.FLOPsBefore, rep.FLOPsAfter)
	}
	if p := th.Params.Get("layer1.2.bn2/mean"); p.Len() != 14 {
		t.Errorf("layer1.2.bn2/mean has %d entries, want 14", p.Len())
	}
	sameLogits(t, m, th, 2)

	again, rep2, err := models.Thin(th)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.FLOPsAfter != rep2.FLOPsBefore {
		t.Errorf("thinning twice removes more: %d → %d", rep2.FLOPsBefore, rep2.FLOPsAfter)
	}
	sameLogits(t, th, again, 3)
}

// dagSpec has a residual block on a flattened image feeding a small MLP,
// so that a residual channel is several input features of the dense layer
// and dense neurons are thinned too.
func dagSpec() models.Spec {
	return models.Spec{Name: "dag", Input: []int{2, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 5, Kernel: 3, Padding: 1},
		{Kind: models.ReLU, Name: "r1"},
		{Kind: models.Conv2d, Name: "c2", Filters: 5, Kernel: 3, Padding: 1},
		{Kind: models.BatchNorm2d, Name: "bn2"},
		{Kind: models.Add, Name: "add", Inputs: []string{"bn2", "r1"}},
		{Kind: models.MaxPool2d, Name: "pool", Kernel: 2, Padding: 1},
		{Kind: models.AvgPool2d, Name: "avg", Kernel: 2, Stride: 1},
		{Kind: models.Flatten, Name: "flat"},
		{Kind: models.Dropout, Rate: 0.5, Name: "drop"},
		{Kind: models.Dense, Name: "fc1", Units: 7}, {Kind: models.ReLU},
		{Kind: models.Dense, Name: "fc2", Units: 3},
	}}
}

func TestThinDAGFlattenAndDense(t *testing.T) {
	m := randomNormModel(t, dagSpec(), 1)
	zeroChannel(t, m, "add", 1) // c1 and c2 filter 1, bn2 entry 1
	zeroChannel(t, m, "add", 4)
	zeroChannel(t, m, "fc1", 2)   // a dead neuron
	killInputs(t, m, "fc2", 5, 6) // an unread neuron
	th, rep := thinChecked(t, m)
	sp := spaceOf(t, m.Spec, "add")
	if r := sp.Readers; len(r) != 2 || m.Spec.Layers[r[1].Layer].Name != "fc1" || r[1].Per != 9 {
		t.Fatalf("readers of the residual space %+v", r)
	}
	checkUnits(t, rep, map[string][4]int{
		"c1":  {5, 3, 2, 2},
		"c2":  {5, 3, 5, 3},
		"fc1": {7, 5, 45, 27},
		"fc2": {3, 3, 7, 5},
	})
	sameLogits(t, m, th, 2)

	// Every channel of the residual space dead: one zero channel stays.
	m = randomNormModel(t, dagSpec(), 2)
	for c := 0; c < 5; c++ {
		zeroChannel(t, m, "add", c)
	}
	th, rep = thinChecked(t, m)
	if u := units(rep)["c2"]; u[1] != 1 {
		t.Errorf("c2 keeps %d filters, want 1", u[1])
	}
	sameLogits(t, m, th, 3)
}

// Random coupled groups zeroed in ResNet-8: thinning keeps the function and
// a second pass removes nothing.
func TestThinRandomCoupledGroups(t *testing.T) {
	spec, err := models.CIFARResNet("resnet-8", 1, []int{3, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := models.CoupledChannels(spec)
	if err != nil {
		t.Fatal(err)
	}
	for seed := int64(1); seed <= 6; seed++ {
		m := randomNormModel(t, spec, seed)
		rng := rand.New(rand.NewSource(seed))
		removed := 0
		for _, sp := range cs.Spaces {
			if sp.Fixed != "" {
				continue
			}
			member := spec.Layers[sp.Members[0]].Name
			for c := 0; c < sp.Channels; c++ {
				if rng.Float64() < 0.3 {
					zeroChannel(t, m, member, c)
					removed++
				}
			}
		}
		th, rep := thinChecked(t, m)
		sameLogits(t, m, th, seed)
		kept := 0
		for _, l := range rep.Layers {
			kept += l.UnitsBefore - l.UnitsAfter
		}
		if kept == 0 || removed == 0 {
			t.Errorf("seed %d: %d channels zeroed, %d units removed", seed, removed, kept)
		}
		_, rep2, err := models.Thin(th)
		if err != nil {
			t.Fatal(err)
		}
		if rep2.FLOPsAfter != rep2.FLOPsBefore {
			t.Errorf("seed %d: thinning twice removes more", seed)
		}
	}
}

func TestThinnable(t *testing.T) {
	for _, s := range []models.Spec{thinMLPSpec(), thinConvSpec(1)} {
		if err := models.ChainThinnable(s); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	for _, s := range []models.Spec{resnet20(t), dagSpec()} {
		if models.ChainThinnable(s) == nil {
			t.Errorf("%s is thinned as a chain", s.Name)
		}
		if err := models.Thinnable(s); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	if models.Thinnable(models.Spec{}) == nil {
		t.Error("an empty spec is thinnable")
	}
}

// A grouped convolution fixes the spaces it reads and writes: their dead
// channels stay; the others are thinned as usual.
func TestThinGroupedConv(t *testing.T) {
	spec := models.Spec{Name: "dw", Input: []int{2, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3},
		{Kind: models.Conv2d, Name: "dw", Filters: 4, Kernel: 3, Groups: 4},
		{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 1},
		{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 2},
	}}
	m := randomNormModel(t, spec, 1)
	zeroChannel(t, m, "c1", 0)
	zeroChannel(t, m, "dw", 1)
	zeroChannel(t, m, "c2", 1)
	th, rep := thinChecked(t, m)
	checkUnits(t, rep, map[string][4]int{
		"c1": {4, 4, 2, 2},
		"dw": {4, 4, 4, 4},
		"c2": {3, 2, 4, 4},
		"fc": {2, 2, 12, 8},
	})
	sameLogits(t, m, th, 2)
}

// An add of a flattened image and a dense layer's output fixes both spaces.
func TestThinAddOfLayouts(t *testing.T) {
	spec := models.Spec{Name: "mix", Input: []int{1, 4, 4}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3},
		{Kind: models.Flatten, Name: "flat"},
		{Kind: models.Dense, Name: "fc1", Units: 8},
		{Kind: models.Add, Name: "add", Inputs: []string{"fc1", "flat"}},
		{Kind: models.Dense, Name: "fc2", Units: 2},
	}}
	m := randomNormModel(t, spec, 1)
	zeroChannel(t, m, "c", 0)
	zeroChannel(t, m, "fc1", 3)
	for _, name := range []string{"c", "fc1"} {
		if f := spaceOf(t, spec, name).Fixed; f == "" {
			t.Errorf("space of %s is not fixed", name)
		}
	}
	th, rep := thinChecked(t, m)
	if rep.FLOPsAfter != rep.FLOPsBefore {
		t.Errorf("FLOPs %d → %d", rep.FLOPsBefore, rep.FLOPsAfter)
	}
	sameLogits(t, m, th, 2)
}
