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

// Drive the spred pass from a training loop of one's own: the loop picks
// the batches and the epochs, the Pass steps, thresholds (clearing the
// momentum of the weights it zeroes) and collapses.
func ExamplePass() {
	rng := rand.New(rand.NewSource(1))
	data := &dataset.Dataset{Shape: []int{20}, Classes: 3}
	for i := 0; i < 600; i++ { // only feature c tells class c
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
	if _, err := train.Fit(context.Background(), m, train.Data{Train: data}, train.Config{Epochs: 5, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 1},
		nil, train.Hooks{}, nil); err != nil {
		fmt.Println(err)
		return
	}

	cfg := compress.DefaultConfig() // the recipe of `spred compress`, scaled to this small problem
	cfg.Lambda, cfg.Threshold, cfg.Epochs, cfg.Batch, cfg.LR = 0.02, 1e-3, 10, 30, 0.1
	p, err := compress.NewPass(m, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	x, y := make([]float32, 30*20), make([]int, 30)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		p.BeginEpoch(epoch)
		for start := 0; start+30 <= data.N(); start += 30 { // in order, no shuffling
			copy(x, data.X[start*20:(start+30)*20])
			copy(y, data.Y[start:start+30])
			if _, err := p.Step(x, y); err != nil {
				fmt.Println(err)
				return
			}
		}
		if st := p.FinishEpoch(); epoch%5 == 0 {
			fmt.Printf("epoch %d: %.0f%% of the weights below τ\n", epoch, 100*st.Sparsity)
		}
	}
	pruned, report, err := p.Finish()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range report.Layers {
		fmt.Printf("%s: %d of %d weights kept\n", l.Name, l.NonZero, l.Params)
	}
	metrics, err := train.Evaluate(pruned, nil, data, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("accuracy ≥ 95%%: %v\n", metrics.Accuracy >= 0.95)
	// Output:
	// epoch 5: 26% of the weights below τ
	// epoch 10: 86% of the weights below τ
	// fc1/W: 16 of 160 weights kept
	// fc2/W: 9 of 24 weights kept
	// accuracy ≥ 95%: true
}
