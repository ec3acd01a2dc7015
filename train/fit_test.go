package train

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
)

// blobs makes a separable 3-class problem: class c is centred at 2·e_c.
func blobs(n, dim int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Name: "blobs", Shape: []int{dim}, Classes: 3, ClassNames: []string{"a", "b", "c"}}
	for i := 0; i < n; i++ {
		c := i % 3
		for j := 0; j < dim; j++ {
			v := rng.NormFloat64() * 0.7
			if j == c {
				v += 2
			}
			d.X = append(d.X, float32(v))
		}
		d.Y = append(d.Y, c)
	}
	return d
}

func mlp(dim int) models.Spec {
	return models.Spec{Name: "mlp", Input: []int{dim}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU},
		{Kind: models.Dense, Name: "fc2", Units: 3}}}
}

func fitBlobs(t *testing.T, seed int64) (*models.Model, []EpochStats) {
	t.Helper()
	m, err := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(seed)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Epochs: 5, Batch: 20, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Seed: seed, EvalBatch: 64}
	hist, err := Fit(context.Background(), m, Data{Train: blobs(600, 6, 1), Test: blobs(301, 6, 2)}, cfg, nil, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, hist
}

func TestFitLearnsAndIsDeterministic(t *testing.T) {
	m1, h := fitBlobs(t, 3)
	if len(h) != 5 {
		t.Fatalf("%d epochs recorded", len(h))
	}
	if h[4].TrainLoss >= h[0].TrainLoss {
		t.Errorf("training loss did not fall: %v → %v", h[0].TrainLoss, h[4].TrainLoss)
	}
	if h[4].TestAcc < 0.9 {
		t.Errorf("test accuracy %v < 0.9 on separable blobs", h[4].TestAcc)
	}
	m2, _ := fitBlobs(t, 3)
	m3, _ := fitBlobs(t, 4)
	same := func(a, b *models.Model) bool {
		for _, p := range a.Params.All() {
			x, y := p.Value.Data().([]float32), b.Params.Get(p.Name).Value.Data().([]float32)
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
					return false
				}
			}
		}
		return true
	}
	if !same(m1, m2) {
		t.Error("same seed gave different parameters")
	}
	if same(m1, m3) {
		t.Error("different seeds gave identical parameters")
	}
}

// TestEvaluateCountsEverySample: 301 samples at batch 64 leave a partial
// batch of 45, which must be counted.
func TestEvaluateCountsEverySample(t *testing.T) {
	m, _ := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(1)))
	d := blobs(301, 6, 2)
	mt, err := Evaluate(m, nil, d, 64)
	if err != nil {
		t.Fatal(err)
	}
	if mt.N != 301 {
		t.Fatalf("evaluated %d samples, want 301", mt.N)
	}
	// The same metrics at batch 1 (every sample alone).
	one, err := Evaluate(m, nil, d, 1)
	if err != nil {
		t.Fatal(err)
	}
	if one.Accuracy != mt.Accuracy || math.Abs(one.Loss-mt.Loss) > 1e-5 {
		t.Fatalf("batch 64: %+v, batch 1: %+v", mt, one)
	}
}

// TestDivergenceNamesTheWeightDecay: when decay·lr ≥ 1 the decay alone
// overshoots, and the error names it instead of the learning rate.
func TestDivergenceNamesTheWeightDecay(t *testing.T) {
	m, _ := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(1)))
	cfg := Config{Epochs: 3, Batch: 20, LR: 0.1, WeightDecay: 1e9, Seed: 1}
	_, err := Fit(context.Background(), m, Data{Train: blobs(600, 6, 1)}, cfg, nil, Hooks{}, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got %v, want ErrDiverged", err)
	}
	if want := "the weight decay 1e+09 is the likely cause"; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "learning rate;") {
		t.Errorf("message %q does not say %q", err, want)
	}
}

func TestFitStopsOnDivergence(t *testing.T) {
	m, _ := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(1)))
	before := m.Params.Clone()
	cfg := Config{Epochs: 3, Batch: 20, LR: 1e30, Seed: 1}
	_, err := Fit(context.Background(), m, Data{Train: blobs(600, 6, 1)}, cfg, nil, Hooks{}, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got %v, want ErrDiverged", err)
	}
	if !strings.Contains(err.Error(), "epoch 1 step") || !strings.Contains(err.Error(), "smaller learning rate") {
		t.Errorf("message does not name the epoch/step or advise: %v", err)
	}
	for _, p := range m.Params.All() {
		if !p.Finite() {
			t.Fatalf("%s left non-finite", p.Name)
		}
		b := before.Get(p.Name).Float64s()
		for i, v := range p.Float64s() {
			if v != b[i] {
				t.Fatalf("%s not restored to the start of the epoch", p.Name)
			}
		}
	}
}

func TestFitRejectsMismatchedData(t *testing.T) {
	m, _ := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(1)))
	_, err := Fit(context.Background(), m, Data{Train: blobs(60, 5, 1)}, Config{Batch: 10}, nil, Hooks{}, nil)
	if err == nil || !strings.Contains(err.Error(), "takes 6") {
		t.Fatalf("got %v", err)
	}
}
