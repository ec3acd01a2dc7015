package graph_test

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

// TestConvChunksKeepAccuracy: Conv2D's weight gradient sums the products
// of chunks of images, which rounds differently from one product over the
// whole batch; LeNet-5 trained on MNIST for 20 steps of 100 either way
// reaches the same test accuracy (within 1 of 1000 images) and weights
// within 1e-3 of each other.
func TestConvChunksKeepAccuracy(t *testing.T) {
	// The chunks are this package's own convolutions'.
	defer func(b string) { graph.ConvBackend = b }(graph.ConvBackend)
	graph.ConvBackend = "go"
	dir, err := dataset.FindMNIST("")
	if err != nil {
		t.Skipf("MNIST data not available (scripts/fetch-mnist.sh): %v", err)
	}
	trainSet, testSet, err := dataset.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := models.Lookup("lenet-5")
	if err != nil {
		t.Fatal(err)
	}
	idx := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	}
	tr, err := trainSet.Subset(idx(2000)).Reshape(spec.Input)
	if err != nil {
		t.Fatal(err)
	}
	te, err := testSet.Subset(idx(1000)).Reshape(spec.Input)
	if err != nil {
		t.Fatal(err)
	}
	run := func(chunkBytes int) (float64, []float64) {
		defer graph.SetChunkBytes(graph.SetChunkBytes(chunkBytes))
		m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		cfg := train.Config{Epochs: 1, Batch: 100, LR: 0.02, Momentum: 0.9, WeightDecay: 1e-4, Seed: 1}
		if _, err := train.Fit(context.Background(), m, train.Data{Train: tr}, cfg, nil, train.Hooks{}, nil); err != nil {
			t.Fatal(err)
		}
		met, err := train.Evaluate(m, nil, te, 500)
		if err != nil {
			t.Fatal(err)
		}
		var w []float64
		for _, p := range m.Params.All() {
			w = append(w, p.Float64s()...)
		}
		return met.Accuracy, w
	}
	whole, ww := run(1 << 40)
	chunked, wc := run(64 << 10) // every layer in several chunks
	t.Logf("LeNet-5 after 20 steps: test accuracy %.2f%% whole batch, %.2f%% in chunks", 100*whole, 100*chunked)
	if math.Abs(whole-chunked) > 0.001+1e-12 {
		t.Errorf("test accuracy %.4f with one product, %.4f in chunks", whole, chunked)
	}
	same, worst := true, 0.0
	for i := range ww {
		same = same && ww[i] == wc[i]
		worst = max(worst, math.Abs(ww[i]-wc[i]))
	}
	t.Logf("largest weight difference %.3g", worst)
	if same {
		t.Errorf("the chunked weight gradient gave the very same weights: the chunks were not exercised")
	}
	if worst > 1e-3 {
		t.Errorf("weights differ by up to %g", worst)
	}
}
