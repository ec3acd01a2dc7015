package compress_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// TestFusedOpsKeepAccuracy trains both zoo models briefly with spred's u⊙v
// factors on real MNIST twice from the same seed: once through the graph
// package's fused ops (the default) and once through Gorgonia's own ops,
// the implementation before the optimisations. The final test accuracies
// must agree to 0.1 point and the trained weights closely: the two differ
// only in floating-point rounding.
func TestFusedOpsKeepAccuracy(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	dir, err := dataset.FindMNIST("")
	if err != nil {
		t.Skipf("MNIST data not available (scripts/fetch-mnist.sh): %v", err)
	}
	trainSet, testSet, err := dataset.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		model       string
		train, test int
	}{
		{"lenet-300-100", 3000, 10000},
		{"lenet-5", 800, 1000},
	} {
		t.Run(c.model, func(t *testing.T) {
			spec, err := models.Lookup(c.model)
			if err != nil {
				t.Fatal(err)
			}
			tr := trainSet.Subset(seq(c.train))
			te := testSet.Subset(seq(c.test))
			if tr, err = tr.Reshape(spec.Input); err != nil {
				t.Fatal(err)
			}
			if te, err = te.Reshape(spec.Input); err != nil {
				t.Fatal(err)
			}
			run := func(gorgoniaOps bool) (float64, []float64) {
				m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
				if err != nil {
					t.Fatal(err)
				}
				f, err := compress.Split(m)
				if err != nil {
					t.Fatal(err)
				}
				cfg := train.Config{Epochs: 1, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-4, Seed: 1, GorgoniaOps: gorgoniaOps}
				if _, err := train.Fit(context.Background(), m, train.Data{Train: tr}, cfg, f, train.Hooks{}, nil); err != nil {
					t.Fatal(err)
				}
				if err := f.Collapse(m); err != nil {
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
			fused, wf := run(false)
			ref, wr := run(true)
			t.Logf("%s after %d steps: test accuracy %.2f%% fused, %.2f%% Gorgonia ops", c.model, c.train/100, 100*fused, 100*ref)
			if math.Abs(fused-ref) > 0.001+1e-12 {
				t.Errorf("test accuracy %.4f with the fused ops, %.4f with Gorgonia's", fused, ref)
			}
			if fused < 0.3 {
				t.Errorf("test accuracy %.4f: the short run did not learn", fused)
			}
			var maxDiff, maxAbs float64
			for i := range wf {
				maxDiff = math.Max(maxDiff, math.Abs(wf[i]-wr[i]))
				maxAbs = math.Max(maxAbs, math.Abs(wr[i]))
			}
			if maxDiff > 1e-3*maxAbs {
				t.Errorf("weights differ by up to %.3g (largest weight %.3g)", maxDiff, maxAbs)
			}
			// Gorgonia's convolution sums in another order than the fused
			// one: identical weights would mean both runs took one path.
			if c.model == "lenet-5" && maxDiff == 0 {
				t.Error("the fused and Gorgonia runs gave bit-identical weights: GorgoniaOps had no effect")
			}
		})
	}
}

func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
