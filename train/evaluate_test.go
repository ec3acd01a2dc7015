package train_test

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// evalSpecs are a dense network, a convolution with batch norm, and a
// residual block.
func evalSpecs() map[string]models.Spec {
	ce := models.LossSoftmaxCrossEntropy
	L := func(l models.Layer, inputs ...string) models.Layer { l.Inputs = inputs; return l }
	return map[string]models.Spec{
		"dense": {Name: "dense", Input: []int{12}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 9}, {Kind: models.ReLU},
			{Kind: models.Dropout, Rate: 0.5},
			{Kind: models.Dense, Name: "fc2", Units: 4}}},
		"conv-bn": {Name: "conv-bn", Input: []int{2, 8, 8}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1},
			{Kind: models.BatchNorm2d, Name: "bn1"}, {Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 5}}},
		"residual": {Name: "residual", Input: []int{2, 6, 6}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "stem", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "stem_bn"}, {Kind: models.ReLU, Name: "stem_relu"},
			{Kind: models.Conv2d, Name: "b.conv1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "b.bn1"}, {Kind: models.ReLU},
			{Kind: models.Conv2d, Name: "b.conv2", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "b.bn2"},
			L(models.Layer{Kind: models.Add, Name: "b.add"}, "b.bn2", "stem_relu"),
			{Kind: models.ReLU}, {Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3}, {Kind: models.Softmax}}},
	}
}

// evalModel is a float32 model of spec with random batch-norm statistics,
// and n random samples.
func evalModel(t *testing.T, spec models.Spec, n int, seed int64) (*models.Model, *dataset.Dataset) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		if p.Prunable {
			continue
		}
		v := p.Float64s()
		for i := range v {
			v[i] = 0.3 * rng.NormFloat64()
			if p.Name[len(p.Name)-4:] == "/var" {
				v[i] = 0.2 + rng.Float64()
			}
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	d := &dataset.Dataset{Shape: spec.Input, Classes: spec.Classes(), X: make([]float32, n*spec.InputSize()), Y: make([]int, n)}
	for i := range d.X {
		d.X[i] = float32(rng.NormFloat64())
	}
	for i := range d.Y {
		d.Y[i] = rng.Intn(d.Classes)
	}
	return m, d
}

// checkSame compares the engine's evaluation and logits of m through src
// with the graphs'.
func checkSame(t *testing.T, what string, ev *train.Evaluator, m *models.Model, src graph.WeightSource, d *dataset.Dataset) {
	t.Helper()
	if !ev.Infer() {
		t.Fatalf("%s: the evaluator does not run through infer", what)
	}
	gv := train.NewGraphEvaluator(m, src, 7)
	defer gv.Close()
	want, err := gv.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ev.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != d.N() || got.Correct != want.Correct || got.Accuracy != want.Accuracy || math.Abs(got.Loss-want.Loss) > 1e-5*math.Max(1, want.Loss) {
		t.Errorf("%s: engine %+v, graphs %+v", what, got, want)
	}
	wl, err := gv.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := ev.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(gl) != len(wl) {
		t.Fatalf("%s: %d logits, graphs %d", what, len(gl), len(wl))
	}
	for i := range gl {
		if math.Abs(gl[i]-wl[i]) > 1e-5*math.Max(1, math.Abs(wl[i])) {
			t.Fatalf("%s: logit %d is %v, graphs %v", what, i, gl[i], wl[i])
		}
	}
}

// TestEvaluatorMatchesGraphs: evaluating through infer, the plain model and
// the model its factors make (collapsed), gives the graphs' metrics and
// logits, also after the parameters changed under a reused evaluator.
func TestEvaluatorMatchesGraphs(t *testing.T) {
	for name, spec := range evalSpecs() {
		m, d := evalModel(t, spec, 23, 3)
		ev := train.NewEvaluator(m, nil, 10)
		checkSame(t, name+" plain", ev, m, nil, d)
		for _, p := range m.Params.All() { // a change the reused engine must see
			v := p.Float64s()
			for i := range v {
				v[i] *= 0.9
			}
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
		checkSame(t, name+" plain, changed", ev, m, nil, d)
		ev.Close()

		f, err := compress.RandomFactors(m, rand.New(rand.NewSource(5)))
		if err != nil {
			t.Fatal(err)
		}
		ev = train.NewEvaluator(m, f, 10)
		checkSame(t, name+" factors", ev, m, f, d)
		for _, p := range f.Pairs() {
			u := p.U.Data().([]float32)
			for i := range u {
				if i%3 == 0 {
					u[i] = 0
				}
			}
		}
		checkSame(t, name+" factors, changed", ev, m, f, d)
		ev.Close()
	}
}

// TestEvaluatorKeepsModel: evaluating through factors leaves the model's
// own weights as they were.
func TestEvaluatorKeepsModel(t *testing.T) {
	m, d := evalModel(t, evalSpecs()["conv-bn"], 9, 4)
	before := m.Params.Clone()
	f, err := compress.RandomFactors(m, rand.New(rand.NewSource(6)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Evaluate(m, f, d, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		w, v := before.Get(p.Name).Float64s(), p.Float64s()
		for i := range w {
			if w[i] != v[i] {
				t.Fatalf("%s[%d] changed from %v to %v", p.Name, i, w[i], v[i])
			}
		}
	}
}

// TestEvaluatorFloat64UsesGraphs: a float64 model is evaluated through the
// graphs, in float64.
func TestEvaluatorFloat64UsesGraphs(t *testing.T) {
	m, d := evalModel(t, evalSpecs()["dense"], 9, 5)
	ps, err := m.Params.AsType(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	m64 := &models.Model{Spec: m.Spec, Params: ps}
	ev := train.NewEvaluator(m64, nil, 4)
	defer ev.Close()
	if ev.Infer() {
		t.Fatal("a float64 model runs through infer")
	}
	got, err := ev.Evaluate(d)
	if err != nil {
		t.Fatal(err)
	}
	want, err := train.Evaluate(m, nil, d, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 9 || got.Correct != want.Correct || math.Abs(got.Loss-want.Loss) > 1e-5 {
		t.Errorf("float64 %+v, float32 %+v", got, want)
	}
}
