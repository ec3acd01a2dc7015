package compress

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// filterNormsOf is the norm of every filter (first axis) of a weight.
func filterNormsOf(m *models.Model, name string) []float64 {
	p := m.Params.Get(name)
	w := p.Float64s()
	rows := len(w) / p.Shape()[0]
	out := make([]float64, p.Shape()[0])
	for r := range out {
		var s float64
		for _, v := range w[r*rows : (r+1)*rows] {
			s += v * v
		}
		out[r] = math.Sqrt(s)
	}
	return out
}

// ScaleFree finds the convolutions that only a batch norm reads: in the
// CIFAR ResNet every convolution and shortcut, never the dense layer; in a
// network without batch norm none.
func TestScaleFree(t *testing.T) {
	m := tinyResNet(t, tensor.Float32, 3)
	names, err := ScaleFree(m)
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for _, p := range m.Params.Prunable() {
		if len(p.Shape()) == 4 {
			convs = append(convs, p.Name)
		}
	}
	if !slices.Equal(names, convs) {
		t.Errorf("scale-free weights %v, want every convolution %v", names, convs)
	}
	if slices.Contains(names, "fc/W") {
		t.Errorf("the dense layer, read by no batch norm, is scale-free: %v", names)
	}
	plain := plainCNN(t)
	if names, err := ScaleFree(plain); err != nil || len(names) != 0 {
		t.Errorf("a CNN without batch norm: %v, %v", names, err)
	}
}

// With HoldNorms every filter a batch norm alone reads keeps its starting
// norm through Run (nothing is thresholded: τ is tiny) while the penalty
// shrinks the same filters without it, and the dense layer, which no batch
// norm reads, shrinks either way. A Pass stepped by hand holds them too.
func TestHoldNorms(t *testing.T) {
	data := Data{Train: noiseData(60, []int{3, 8, 8}, 3, 1)}
	cfg := Config{Lambda: 0.05, Threshold: 1e-30, Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1, EpochThreshold: true}
	start := tinyResNet(t, tensor.Float32, 3)
	held, err := ScaleFree(start)
	if err != nil {
		t.Fatal(err)
	}
	run := func(hold bool) *models.Model {
		m := tinyResNet(t, tensor.Float32, 3)
		c := cfg
		c.HoldNorms = hold
		rep, err := Run(context.Background(), m, data, c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Settings.HoldNorms != hold {
			t.Errorf("settings record hold_norms %v, want %v", rep.Settings.HoldNorms, hold)
		}
		return m
	}
	rel := func(a, b []float64) float64 {
		d := 0.0
		for i := range a {
			d = max(d, math.Abs(a[i]-b[i])/b[i])
		}
		return d
	}
	with, without := run(true), run(false)
	for _, name := range held {
		want := filterNormsOf(start, name)
		if d := rel(filterNormsOf(with, name), want); d > 1e-4 {
			t.Errorf("%s: filter norms moved by %.3g with HoldNorms", name, d)
		}
		if d := rel(filterNormsOf(without, name), want); d < 1e-2 {
			t.Errorf("%s: filter norms moved by only %.3g without HoldNorms: the test cannot tell", name, d)
		}
		if slices.Equal(with.Params.Get(name).Float64s(), start.Params.Get(name).Float64s()) {
			t.Errorf("%s did not train", name)
		}
	}
	if d := rel(filterNormsOf(with, "fc/W"), filterNormsOf(start, "fc/W")); d < 1e-2 {
		t.Errorf("fc/W, read by no batch norm, held its norms (moved by %.3g)", d)
	}

	c := cfg.Defaults()
	c.HoldNorms = true
	p, err := NewPass(tinyResNet(t, tensor.Float32, 3), c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.BeginEpoch(1)
	x, y := data.Train.X[:20*3*8*8], data.Train.Y[:20]
	for range 5 {
		if _, err := p.Step(x, y); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range held {
		if d := rel(filterNormsOf(out, name), filterNormsOf(start, name)); d > 1e-4 {
			t.Errorf("Pass.Step: %s's filter norms moved by %.3g", name, d)
		}
	}
}

// HoldNorms is refused for the other methods, structured passes, the λ
// search of a target without a λ, and a model with no convolution that
// only a batch norm reads; a target with a λ given is accepted.
func TestHoldNormsRefused(t *testing.T) {
	for _, c := range []Config{
		{Method: MethodL1, Lambda: 0.05, HoldNorms: true},
		{Method: MethodMagnitude, TargetSparsity: 0.8, HoldNorms: true},
		{Structure: StructureFilter, Lambda: 0.5, HoldNorms: true},
		{TargetRatio: 10, HoldNorms: true}, // the λ search
	} {
		if err := c.Defaults().Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s %s: %v, want ErrConfig", c.method(), c.Structure, err)
		}
	}
	if err := (Config{TargetRatio: 10, Lambda: 1e-3, HoldNorms: true}).Defaults().Validate(); err != nil {
		t.Errorf("a target with λ given: %v", err)
	}
	_, err := NewPass(plainCNN(t), Config{Lambda: 1e-4, HoldNorms: true})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("a CNN without batch norm: %v, want ErrConfig", err)
	}
}

// plainCNN is a convolutional network without batch norm.
func plainCNN(t *testing.T) *models.Model {
	t.Helper()
	m, err := models.New(smallCNN(), tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
