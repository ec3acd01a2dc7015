package interop_test

import (
	"math"
	"math/rand"
	"reflect"
	"sync"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// tinyCNN is a small network with every layer kind the exporter writes.
func tinyCNN() models.Spec {
	return models.Spec{
		Name:  "tiny-cnn",
		Input: []int{1, 8, 8},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 3, Kernel: 3, Padding: 1}, // 3×8×8
			{Kind: models.MaxPool2d, Kernel: 2},                                     // 3×4×4
			{Kind: models.Conv2d, Name: "conv2", Filters: 4, Kernel: 2, Stride: 2},  // 4×2×2
			{Kind: models.ReLU},
			{Kind: models.Flatten},
			{Kind: models.Dropout, Rate: 0.5},
			{Kind: models.Dense, Name: "fc1", Units: 5}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// tinyMLP is a 6-4-3 MLP.
// activationsCNN has every activation kind and a trailing softmax.
func activationsCNN() models.Spec {
	return models.Spec{
		Name:  "activations",
		Input: []int{2, 5, 5},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 3, Kernel: 3, Padding: 1}, {Kind: models.LeakyReLU, Alpha: 0.2},
			{Kind: models.Conv2d, Name: "conv2", Filters: 3, Kernel: 3}, {Kind: models.ReLU6}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc1", Units: 6}, {Kind: models.Tanh},
			{Kind: models.Dense, Name: "fc2", Units: 5}, {Kind: models.Sigmoid},
			{Kind: models.Dense, Name: "fc3", Units: 4}, {Kind: models.LeakyReLU},
			{Kind: models.Dense, Name: "fc4", Units: 3}, {Kind: models.Softmax}},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

func tinyMLP() models.Spec {
	return models.Spec{
		Name:   "tiny-mlp",
		Input:  []int{6},
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc1", Units: 4}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 3}},
		Loss:   models.LossSoftmaxCrossEntropy,
	}
}

// randomModel makes a model of spec with random weights and biases.
func randomModel(t testing.TB, spec models.Spec, seed int64) *models.Model {
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
		vals := make([]float64, p.Len())
		for i := range vals {
			vals[i] = 0.1 * rng.NormFloat64()
		}
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
	}
	acc := 0.9876
	m.Meta = models.Provenance{Tool: "spred test", Seed: seed, Data: "mnist", Accuracy: &acc, Extra: map[string]string{"command": "test"}}
	return m
}

// prune zeroes all prunable weights but a fraction keep of them.
func prune(t testing.TB, m *models.Model, keep float64, seed int64) *models.Model {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	for _, p := range m.Params.Prunable() {
		vals := p.Float64s()
		for i := range vals {
			if rng.Float64() >= keep {
				vals[i] = 0
			}
		}
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// sameModel checks that got has want's spec and bit-identical parameters.
func sameModel(t testing.TB, want, got *models.Model) {
	t.Helper()
	if !reflect.DeepEqual(want.Spec, got.Spec) {
		t.Fatalf("spec: got %+v, want %+v", got.Spec, want.Spec)
	}
	for _, w := range want.Params.All() {
		g := got.Params.Get(w.Name)
		if g == nil || g.Prunable != w.Prunable || !reflect.DeepEqual(g.Shape(), w.Shape()) {
			t.Fatalf("param %q: got %+v", w.Name, g)
		}
		gv, wv := g.Float64s(), w.Float64s()
		for i := range wv {
			if math.Float32bits(float32(gv[i])) != math.Float32bits(float32(wv[i])) {
				t.Fatalf("param %q value %d: got %v, want %v", w.Name, i, gv[i], wv[i])
			}
		}
	}
	if len(got.Params.All()) != len(want.Params.All()) {
		t.Fatalf("%d params, want %d", len(got.Params.All()), len(want.Params.All()))
	}
}

// withoutDropout returns spec without its dropout layers (what an export
// and import give back).
func withoutDropout(spec models.Spec) models.Spec {
	out := spec
	out.Layers = nil
	for _, l := range spec.Layers {
		if l.Kind != models.Dropout {
			out.Layers = append(out.Layers, l)
		}
	}
	return out
}

// mutate decodes an ONNX file, lets f change it, and encodes it again.
func mutate(t testing.TB, b []byte, f func(mp *onnx.ModelProto)) []byte {
	t.Helper()
	var mp onnx.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	f(&mp)
	out, err := proto.Marshal(&mp)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func encode(t testing.TB, m *models.Model, opts interop.ExportOptions) []byte {
	t.Helper()
	b, err := interop.Encode(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	mnistOnce sync.Once
	mnistTest *dataset.Dataset
	mnistErr  error
)

// mnist returns the first n MNIST test images.
func mnist(t testing.TB, n int) *dataset.Dataset {
	t.Helper()
	mnistOnce.Do(func() { _, mnistTest, mnistErr = dataset.LoadMNIST("") })
	if mnistErr != nil {
		t.Fatalf("MNIST: %v (run scripts/fetch-mnist.sh)", mnistErr)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return mnistTest.Subset(idx)
}

// predict returns the logits of m on d, one row per sample.
func predict(t testing.TB, m *models.Model, d *dataset.Dataset) [][]float64 {
	t.Helper()
	e := train.NewEvaluator(m, nil, 100)
	defer e.Close()
	flat, err := e.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Spec.Classes()
	rows := make([][]float64, d.N())
	for i := range rows {
		rows[i] = flat[i*c : (i+1)*c]
	}
	return rows
}

// compareLogits checks that two sets of logits differ by at most tol and
// pick the same class everywhere; it returns the largest difference.
func compareLogits(t testing.TB, what string, want, got [][]float64, tol float64) float64 {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range want {
		if len(want[i]) != len(got[i]) {
			t.Fatalf("%s: row %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			worst = math.Max(worst, math.Abs(want[i][j]-got[i][j]))
		}
		if argmax(want[i]) != argmax(got[i]) {
			t.Errorf("%s: sample %d: class %d, want %d", what, i, argmax(got[i]), argmax(want[i]))
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Errorf("%s: logits differ by up to %g (tolerance %g)", what, worst, tol)
	}
	return worst
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
