package sweep_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/sweep"
)

// tinyProblem is a small model and synthetic data in which only 3 of 20
// features matter.
func tinyProblem() (*models.Model, compress.Data, error) {
	rng := rand.New(rand.NewSource(1))
	data := &dataset.Dataset{Shape: []int{20}, Classes: 3}
	for i := 0; i < 300; i++ {
		c := i % 3
		for j := 0; j < 20; j++ {
			v := rng.NormFloat64()
			if j == c {
				v += 3
			}
			data.X = append(data.X, float32(v))
		}
		data.Y = append(data.Y, c)
	}
	spec := models.Spec{Name: "tiny-mlp", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 8}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		}}
	m, err := models.New(spec, tensor.Float32, rng)
	return m, compress.Data{Train: data, Test: data}, err
}

// tinyConfig is the configuration of every point of the tiny sweeps.
func tinyConfig(sweep.Point) compress.Config {
	return compress.Config{Threshold: 1e-3, EpochThreshold: true, Epochs: 3, Batch: 30,
		LR: 0.1, Momentum: 0.9, FinetuneEpochs: 1, Seed: 1}
}

// Run a resumable sweep of two λ values from Go, then tabulate it. A
// second Run of the same sweep finds both points done.
func ExampleRun() {
	m, data, err := tinyProblem()
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "sweep")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	opts := sweep.Options{
		Dir:    filepath.Join(dir, "lambdas"),
		Model:  m,
		Data:   data,
		Points: sweep.Points(sweep.MethodSpred, []float64{1e-3, 2e-2}, []float64{1e-3}),
		Config: tinyConfig,
		Progress: func(e sweep.Event) {
			switch e.Kind {
			case sweep.Skipped:
				fmt.Printf("skipped %s\n", e.Point.ID())
			case sweep.Finished:
				fmt.Printf("[%d/%d] %s\n", e.N, e.Of, e.Point.ID())
			}
		},
	}
	rs, err := sweep.Run(context.Background(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("the larger λ compresses more: %v\n", *rs[1].Ratio > *rs[0].Ratio)
	if _, err := sweep.Run(context.Background(), opts); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := sweep.Merge(opts.Dir, "tiny-mlp λ sweep", nil); err != nil {
		fmt.Println(err)
		return
	}
	files, _ := os.ReadDir(opts.Dir)
	for _, f := range files {
		fmt.Println(f.Name())
	}
	// Output:
	// [1/2] spred_lambda=1.0e-03_tau=1.0e-03
	// [2/2] spred_lambda=2.0e-02_tau=1.0e-03
	// the larger λ compresses more: true
	// skipped spred_lambda=1.0e-03_tau=1.0e-03
	// skipped spred_lambda=2.0e-02_tau=1.0e-03
	// spred_lambda=1.0e-03_tau=1.0e-03.json
	// spred_lambda=1.0e-03_tau=1.0e-03.safetensors
	// spred_lambda=2.0e-02_tau=1.0e-03.json
	// spred_lambda=2.0e-02_tau=1.0e-03.safetensors
	// sweep.csv
	// sweep.md
	// sweep.png
}
