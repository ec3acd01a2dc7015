package sensitivity

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

func convSpec() models.Spec {
	return models.Spec{
		Name:  "small-lenet",
		Input: []int{1, 10, 10},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 3}, {Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc1", Units: 6}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

func testModel(t *testing.T) (*models.Model, *dataset.Dataset) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	m, err := models.New(convSpec(), tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		if !p.Prunable {
			v := make([]float64, p.Len())
			for i := range v {
				v[i] = 0.1 * rng.NormFloat64()
			}
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := &dataset.Dataset{Shape: []int{1, 10, 10}, Classes: 3}
	for i := 0; i < 90; i++ {
		for j := 0; j < 100; j++ {
			d.X = append(d.X, float32(rng.NormFloat64()))
		}
		d.Y = append(d.Y, i%3)
	}
	return m, d
}

func TestRunCurves(t *testing.T) {
	m, d := testModel(t)
	before := m.Params.Clone()
	fr := []float64{0, 0.5, 0.99}
	var seen int
	pts, err := Run(context.Background(), m, d, Config{Fractions: fr}, func(Point) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	// conv1: sparsity and units; fc1: sparsity and units; fc2: sparsity only.
	if len(pts) != 5*len(fr) || seen != 1+len(pts) {
		t.Fatalf("%d points, %d reported", len(pts), seen)
	}
	for _, p := range m.Params.All() {
		a, b := p.Float64s(), before.Get(p.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("Run modified %s", p.Name)
			}
		}
	}
	base, err := train.Evaluate(m, nil, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	flops, _ := models.FLOPs(m.Spec)
	for _, p := range pts {
		if p.Fraction == 0 && (p.Accuracy != base.Accuracy || p.Removed != 0 || p.FLOPs != flops) {
			t.Errorf("%+v at fraction 0: want accuracy %v, FLOPs %d", p, base.Accuracy, flops)
		}
		if want := int(math.Floor(p.Fraction * float64(p.Of))); p.Removed != want {
			t.Errorf("%+v: removed %d, want %d", p, p.Removed, want)
		}
	}
	// Half the filters of conv1 removed: check the point against the same
	// removal done here, thinned into a smaller model.
	var pt Point
	for _, p := range pts {
		if p.Layer == "conv1" && p.Curve == Units && p.Fraction == 0.5 {
			pt = p
		}
	}
	if pt.Removed != 2 || pt.Of != 4 {
		t.Fatalf("conv1 units point %+v", pt)
	}
	w := m.Params.Get("conv1/W").Float64s()
	norms := make([]float64, 4)
	for i, x := range w {
		norms[i/9] += x * x
	}
	keep := []int{}
	for j := range norms {
		smaller := 0
		for k := range norms {
			if norms[k] < norms[j] || (norms[k] == norms[j] && k < j) {
				smaller++
			}
		}
		if smaller >= 2 {
			keep = append(keep, j)
		}
	}
	sm := models.Spec{Name: "kept", Input: []int{1, 10, 10}, Loss: models.LossSoftmaxCrossEntropy, Layers: append([]models.Layer(nil), convSpec().Layers...)}
	sm.Layers[0].Filters = 2
	small, err := models.New(sm, tensor.Float32, rand.New(rand.NewSource(2)))
	if err != nil {
		t.Fatal(err)
	}
	cw, cb := m.Params.Get("conv1/W").Float64s(), m.Params.Get("conv1/b").Float64s()
	fw := m.Params.Get("fc1/W").Float64s() // [4·16, 6]
	var sw, sb, sf []float64
	for _, j := range keep {
		sw = append(sw, cw[j*9:(j+1)*9]...)
		sb = append(sb, cb[j])
	}
	for _, j := range keep {
		sf = append(sf, fw[j*16*6:(j+1)*16*6]...)
	}
	set := func(name string, v []float64) {
		if err := small.Params.Get(name).SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	set("conv1/W", sw)
	set("conv1/b", sb)
	set("fc1/W", sf)
	for _, n := range []string{"fc1/b", "fc2/W", "fc2/b"} {
		set(n, m.Params.Get(n).Float64s())
	}
	want, err := train.Evaluate(small, nil, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pt.Accuracy != want.Accuracy || math.Abs(pt.Loss-want.Loss) > 1e-5 {
		t.Errorf("conv1 with 2 of 4 filters removed: accuracy %v loss %v, the smaller model gives %v %v", pt.Accuracy, pt.Loss, want.Accuracy, want.Loss)
	}
	if f, _ := models.FLOPs(sm); pt.FLOPs != f {
		t.Errorf("FLOPs %d, the smaller model has %d", pt.FLOPs, f)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, pts); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != len(pts)+1 || rows[0][0] != "layer" || len(rows[1]) != 8 {
		t.Errorf("CSV: %d rows, %v", len(rows), err)
	}
	buf.Reset()
	if err := Plot(pts, "small", &buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG")) {
		t.Error("Plot did not write a PNG")
	}
}

// Magnitude pruning zeroes exactly the k smallest weights.
func TestPruneSmallest(t *testing.T) {
	p := models.NewParam("w", true, tensor.Float64, []int{5})
	if err := p.SetFloat64s([]float64{0.3, -0.1, 2, -0.05, 0.1}); err != nil {
		t.Fatal(err)
	}
	if err := pruneSmallest(p, 3); err != nil {
		t.Fatal(err)
	}
	got := p.Float64s()
	want := []float64{0.3, 0, 2, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	m, d := testModel(t)
	for _, fr := range [][]float64{{1}, {-0.1}, {math.NaN()}} {
		if _, err := Run(context.Background(), m, d, Config{Fractions: fr}, nil); err == nil {
			t.Errorf("fractions %v: no error", fr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, m, d, Config{}, nil); err == nil {
		t.Error("cancelled context: no error")
	}
}

// TestRunResidual: a residual network with batch norm gets the sparsity
// curve of every prunable layer and no units curve (its channels are
// coupled across layers).
func TestRunResidual(t *testing.T) {
	spec := models.Spec{Name: "res", Input: []int{1, 10, 10}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn1"},
		{Kind: models.ReLU, Name: "r1"},
		{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 3, Padding: 1},
		{Kind: models.Add, Inputs: []string{"c2", "r1"}},
		{Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc", Units: 3}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	_, d := testModel(t)
	pts, err := Run(context.Background(), m, d, Config{Fractions: []float64{0, 0.5}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	flops, _ := models.FLOPs(spec)
	curves := map[string]int{}
	for _, p := range pts {
		curves[p.Layer+" "+p.Curve]++
		if p.FLOPs <= 0 || p.FLOPs > flops {
			t.Errorf("%+v: FLOPs %d, the model has %d", p, p.FLOPs, flops)
		}
	}
	want := map[string]int{"c1 sparsity": 2, "c2 sparsity": 2, "fc sparsity": 2}
	if len(curves) != len(want) {
		t.Errorf("curves %v, want %v", curves, want)
	}
	for k, n := range want {
		if curves[k] != n {
			t.Errorf("curves %v, want %v", curves, want)
		}
	}
}
