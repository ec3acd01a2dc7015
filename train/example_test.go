package train_test

import (
	"context"
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Build a tiny MLP and train it on two well separated classes.
func Example() {
	rng := rand.New(rand.NewSource(1))
	data := &dataset.Dataset{Shape: []int{2}, Classes: 2}
	for i := 0; i < 200; i++ {
		c := i % 2
		data.X = append(data.X, float32(2*c-1)+float32(rng.NormFloat64()*0.3), float32(rng.NormFloat64()))
		data.Y = append(data.Y, c)
	}
	spec := models.Spec{Name: "tiny", Input: []int{2}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 8}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 2},
		}}
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := train.Config{Epochs: 3, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1}
	if _, err := train.Fit(context.Background(), m, train.Data{Train: data}, cfg, nil, train.Hooks{}, nil); err != nil {
		fmt.Println(err)
		return
	}
	metrics, err := train.Evaluate(m, nil, data, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d parameters, accuracy %.2f\n", m.Params.Count(), metrics.Accuracy)
	// Output: 42 parameters, accuracy 1.00
}
