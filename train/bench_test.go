package train

import (
	"context"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// BenchmarkRecalibrate times Recalibrate on resnet-8 for 1×28×28 images,
// 4 batches of 100 random images, its graph's build included (the
// allocations are mostly the graph's), for benchstat.
func BenchmarkRecalibrate(b *testing.B) {
	e, err := models.LookupEntry("resnet-8")
	if err != nil {
		b.Fatal(err)
	}
	spec, err := e.ForInput([]int{1, 28, 28})
	if err != nil {
		b.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		b.Fatal(err)
	}
	d := images(400, spec.Input, 5)
	b.ReportAllocs()
	for b.Loop() {
		if err := Recalibrate(context.Background(), m, nil, d, 4, 100, 1); err != nil {
			b.Fatal(err)
		}
	}
}
