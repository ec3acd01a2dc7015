package train

import (
	"context"
	"math/rand"
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
)

// TestDeterministicAcrossGOMAXPROCS: gonum's matrix products split large
// products across goroutines, each output block summed in a fixed order, so
// the result must not depend on the number of threads.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	spec := models.Spec{Name: "wide", Input: []int{784}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Dense, Name: "fc1", Units: 300}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 10}}}
	rng := rand.New(rand.NewSource(1))
	d := &dataset.Dataset{Shape: []int{784}, Classes: 10}
	for i := 0; i < 400; i++ {
		for j := 0; j < 784; j++ {
			d.X = append(d.X, rng.Float32())
		}
		d.Y = append(d.Y, i%10)
	}
	fit := func(procs int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m, _ := models.New(spec, tensor.Float32, rand.New(rand.NewSource(2)))
		if _, err := Fit(context.Background(), m, Data{Train: d}, Config{Epochs: 1, Batch: 200, LR: 0.05, Momentum: 0.9, Seed: 1}, nil, Hooks{}, nil); err != nil {
			t.Fatal(err)
		}
		return m.Params.Get("fc1/W").Float64s()
	}
	a, b := fit(1), fit(4)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("GOMAXPROCS 1 and 4 differ at fc1/W[%d]: %v vs %v", i, a[i], b[i])
		}
	}
}
