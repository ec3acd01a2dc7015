package compress_test

import (
	"context"
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Compress a small model trained on synthetic data in which only 3 of 20
// features matter: the first layer loses most of its weights.
func Example() {
	rng := rand.New(rand.NewSource(1))
	data := &dataset.Dataset{Shape: []int{20}, Classes: 3}
	for i := 0; i < 900; i++ {
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
	if err != nil {
		fmt.Println(err)
		return
	}
	// Train it densely first, as a user's own code would.
	if _, err := train.Fit(context.Background(), m, train.Data{Train: data},
		train.Config{Epochs: 5, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 1}, nil, train.Hooks{}, nil); err != nil {
		fmt.Println(err)
		return
	}

	cfg := compress.Config{Lambda: 0.02, Threshold: 1e-3, EpochThreshold: true, Epochs: 10, Batch: 30,
		LR: 0.1, Momentum: 0.9, FinetuneEpochs: 2, Seed: 1}
	report, err := compress.Run(context.Background(), m, compress.Data{Train: data, Test: data}, cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range report.Layers {
		fmt.Printf("%s: %d of %d weights kept\n", l.Name, l.NonZero, l.Params)
	}
	fmt.Printf("accuracy after fine-tuning ≥ 95%%: %v\n", *report.Accuracy.Finetuned >= 0.95)
	fmt.Printf("compression ratio over prunable weights ≥ 4: %v\n", *report.Totals.CompressionRatio >= 4)
	// Output:
	// fc1/W: 9 of 160 weights kept
	// fc2/W: 7 of 24 weights kept
	// accuracy after fine-tuning ≥ 95%: true
	// compression ratio over prunable weights ≥ 4: true
}
