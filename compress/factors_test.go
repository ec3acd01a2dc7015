package compress

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

func smallCNN() models.Spec {
	return models.Spec{Name: "small-cnn", Input: []int{1, 8, 8}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "conv1", Filters: 3, Kernel: 3},
		{Kind: models.MaxPool2d, Kernel: 2}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc1", Units: 10}, {Kind: models.ReLU},
		{Kind: models.Dense, Name: "fc2", Units: 4}}}
}

func randomData(spec models.Spec, n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Shape: append([]int(nil), spec.Input...), Classes: spec.Classes()}
	for i := 0; i < n*spec.InputSize(); i++ {
		d.X = append(d.X, float32(rng.NormFloat64()))
	}
	for i := 0; i < n; i++ {
		d.Y = append(d.Y, rng.Intn(d.Classes))
	}
	return d
}

// TestSplitPreservesFunction: before any training step the rewritten
// network's outputs equal the dense network's.
func TestSplitPreservesFunction(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		m, err := models.New(smallCNN(), dt, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Split(m)
		if err != nil {
			t.Fatal(err)
		}
		d := randomData(m.Spec, 37, 2)
		dense := train.NewEvaluator(m, nil, 16)
		defer dense.Close()
		rewritten := train.NewEvaluator(m, f, 16)
		defer rewritten.Close()
		a, err := dense.Predict(d)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rewritten.Predict(d)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range a {
			worst = math.Max(worst, math.Abs(a[i]-b[i]))
		}
		if worst > 1e-6 {
			t.Errorf("%v: outputs differ by %g after the split", dt, worst)
		}
		if st := f.Stats(0); st.Imbalance > 1e-6 {
			t.Errorf("%v: balanced split has imbalance %g", dt, st.Imbalance)
		}
	}
}

// TestFactorGradients: ∂L/∂u = v⊙∂L/∂w and ∂L/∂v = u⊙∂L/∂w.
func TestFactorGradients(t *testing.T) {
	m, _ := models.New(smallCNN(), tensor.Float64, rand.New(rand.NewSource(3)))
	f, err := Split(m)
	if err != nil {
		t.Fatal(err)
	}
	// Unbalance the factors (keeping u⊙v) so that the two products differ.
	for _, p := range f.Pairs() {
		u, v := p.U.Data().([]float64), p.V.Data().([]float64)
		for i := range u {
			u[i] *= 2
			v[i] /= 2
		}
	}
	d := randomData(m.Spec, 5, 4)
	plain, err := graph.New(m, graph.Options{Batch: 5, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	fact, err := graph.New(m, graph.Options{Batch: 5, Train: true, Source: f})
	if err != nil {
		t.Fatal(err)
	}
	defer fact.Close()
	l1, _ := plain.Run(d.X, d.Y, nil)
	l2, _ := fact.Run(d.X, d.Y, nil)
	if math.Abs(l1-l2) > 1e-12 {
		t.Fatalf("losses differ: %v vs %v", l1, l2)
	}
	gw := map[string][]float64{}
	for _, l := range plain.Learnables() {
		g, _ := plain.Grad(l)
		gw[l.Name] = g.Data().([]float64)
	}
	checked := 0
	for _, p := range f.Pairs() {
		var gu, gv []float64
		for _, l := range fact.Learnables() {
			g, _ := fact.Grad(l)
			switch l.Name {
			case p.Name + ".u":
				gu = g.Data().([]float64)
				if !l.Decay {
					t.Errorf("%s not marked for decay", l.Name)
				}
			case p.Name + ".v":
				gv = g.Data().([]float64)
			}
		}
		u, v, g := p.U.Data().([]float64), p.V.Data().([]float64), gw[p.Name]
		for i := range g {
			if math.Abs(gu[i]-v[i]*g[i]) > 1e-12 || math.Abs(gv[i]-u[i]*g[i]) > 1e-12 {
				t.Fatalf("%s[%d]: ∂u %g vs v·∂w %g, ∂v %g vs u·∂w %g", p.Name, i, gu[i], v[i]*g[i], gv[i], u[i]*g[i])
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
	for _, l := range fact.Learnables() {
		if l.Decay && (l.Name == "conv1/b" || l.Name == "fc1/b" || l.Name == "fc2/b") {
			t.Errorf("bias %s marked for decay", l.Name)
		}
	}
}

func TestThresholdAndCollapse(t *testing.T) {
	spec := models.Spec{Name: "lin", Input: []int{2}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 2}}}
	m, _ := models.New(spec, tensor.Float64, rand.New(rand.NewSource(1)))
	_ = m.Params.Get("fc/W").SetFloat64s([]float64{0.5, -1e-4, 2e-3, -0.3})
	f, err := Split(m)
	if err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(1e-3); st.Small != 1 || st.Weights != 4 {
		t.Fatalf("stats %+v", st)
	}
	if n := f.Threshold(1e-3, nil); n != 1 {
		t.Fatalf("zeroed %d, want 1", n)
	}
	if err := f.Collapse(m); err != nil {
		t.Fatal(err)
	}
	got := m.Params.Get("fc/W").Float64s()
	want := []float64{0.5, 0, 2e-3, -0.3}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("collapsed %v, want %v", got, want)
		}
	}
	if got[1] != 0 || f.Pairs()[0].U.Data().([]float64)[1] != 0 || f.Pairs()[0].V.Data().([]float64)[1] != 0 {
		t.Fatal("threshold did not zero both factors exactly")
	}
}

func TestMaskHoldsZeros(t *testing.T) {
	m, _ := models.New(smallCNN(), tensor.Float32, rand.New(rand.NewSource(1)))
	w := m.Params.Get("fc1/W")
	vals := w.Float64s()
	for i := 0; i < len(vals); i += 3 {
		vals[i] = 0
	}
	_ = w.SetFloat64s(vals)
	mk := MaskOf(m)
	vals = w.Float64s()
	for i := range vals {
		vals[i] = 1
	}
	_ = w.SetFloat64s(vals)
	mk.Apply(m)
	for i, v := range w.Float64s() {
		if (i%3 == 0) != (v == 0) {
			t.Fatalf("entry %d = %v after masking", i, v)
		}
	}
}

// TestThresholdedWeightsStayDead: thresholding at every epoch start under
// SGD with momentum zeroes the velocity of what it zeroes, so no weight set
// to zero comes back during the next epoch (before the fix, the velocity
// moved most of them off zero again).
func TestThresholdedWeightsStayDead(t *testing.T) {
	spec := smallCNN()
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Split(m)
	if err != nil {
		t.Fatal(err)
	}
	var opt *train.SGD
	dead := map[string][]int{}
	revived, zeroed := 0, 0
	hooks := train.Hooks{
		Optimizer: func(o *train.SGD) { opt = o },
		BeforeEpoch: func(epoch int) error {
			for _, p := range f.Pairs() { // what the last epoch did to the dead
				u := models.Float64s(p.U.Data())
				for _, i := range dead[p.Name] {
					if u[i] != 0 {
						revived++
					}
				}
			}
			if epoch > 1 {
				zeroed += f.Threshold(0.02, opt)
			}
			for _, p := range f.Pairs() {
				u := models.Float64s(p.U.Data())
				dead[p.Name] = dead[p.Name][:0]
				for i, x := range u {
					if x == 0 {
						dead[p.Name] = append(dead[p.Name], i)
					}
				}
			}
			return nil
		},
	}
	cfg := train.Config{Epochs: 4, Batch: 20, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-3, Seed: 1}
	if _, err := train.Fit(context.Background(), m, train.Data{Train: randomData(spec, 200, 2)}, cfg, f, hooks, nil); err != nil {
		t.Fatal(err)
	}
	if zeroed == 0 {
		t.Fatal("nothing was thresholded: the check is empty")
	}
	if revived != 0 {
		t.Errorf("%d of the weights thresholded to zero came back to life (%d zeroed)", revived, zeroed)
	}
	// Without the optimizer, velocity survives and weights come back: the
	// check above can fail.
	m2, _ := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	f, _ = Split(m2)
	dead, revived, zeroed = map[string][]int{}, 0, 0
	hooks.Optimizer = func(*train.SGD) { opt = nil }
	if _, err := train.Fit(context.Background(), m2, train.Data{Train: randomData(spec, 200, 2)}, cfg, f, hooks, nil); err != nil {
		t.Fatal(err)
	}
	if revived == 0 {
		t.Errorf("with the velocity kept, no thresholded weight came back (%d zeroed)", zeroed)
	}
}
