package graph

import (
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// benchmarkStep times one training step (forward and backward) of a zoo
// model at batch 100.
func benchmarkStep(b *testing.B, name string, dt tensor.Dtype) {
	spec, err := models.Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSpec(b, spec, dt)
}

func benchmarkSpec(b *testing.B, spec models.Spec, dt tensor.Dtype) {
	rng := rand.New(rand.NewSource(1))
	m, err := models.New(spec, dt, rng)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 100
	s, err := New(m, Options{Batch: batch, Train: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	x := make([]float32, batch*spec.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(x, y, rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)*600, "s/epoch")
}

func BenchmarkStepLeNet300(b *testing.B) { benchmarkStep(b, "lenet-300-100", tensor.Float32) }
func BenchmarkStepLeNet5(b *testing.B)   { benchmarkStep(b, "lenet-5", tensor.Float32) }

// BenchmarkStepResNet8 is ResNet-8 on CIFAR-sized images (3×32×32).
func BenchmarkStepResNet8(b *testing.B) { benchmarkStep(b, "resnet-8", tensor.Float32) }

// BenchmarkReLUGrad is the ReLU gradient at resnet-20's first stage on
// Fashion-MNIST (100×16×28×28), signs at random.
func BenchmarkReLUGrad(b *testing.B) {
	shape := tensor.Shape{100, 16, 28, 28}
	rng := rand.New(rand.NewSource(1))
	x, dy := make([]float32, shape.TotalSize()), make([]float32, shape.TotalSize())
	for i := range x {
		x[i], dy[i] = rng.Float32()-0.5, rng.Float32()
	}
	op := &reluOp{unary: unary{shape: shape, grad: true}}
	xt := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))
	dt := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(dy))
	b.SetBytes(int64(12 * len(x)))
	for i := 0; i < b.N; i++ {
		if _, err := op.Do(xt, dt); err != nil {
			b.Fatal(err)
		}
	}
}
