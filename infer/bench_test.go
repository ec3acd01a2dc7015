package infer

import (
	"fmt"
	"testing"

	"github.com/spred-go/spred/models"
)

// BenchmarkForward times Forward on zoo models pruned to 95% and 99% at
// random (random weights, random batch-norm statistics) at batch 1 and
// 100, with dense, CSR and the automatic choice of kernels; ns/op is per
// call, so divide by the batch for a sample.
func BenchmarkForward(b *testing.B) {
	r8, err := models.LookupEntry("resnet-8")
	if err != nil {
		b.Fatal(err)
	}
	for _, spec := range []models.Spec{lookup(b, "lenet-300-100"), lookup(b, "lenet-5"), r8.Spec} {
		for _, sparsity := range []float64{0.95, 0.99} {
			m := randomModel(b, spec, []float64{sparsity}, 1)
			for _, batch := range []int{1, 100} {
				x := randomInput(spec, batch, 2)
				for _, k := range []Kernels{Dense, Sparse, Auto} {
					b.Run(fmt.Sprintf("%s/sparsity=%g/batch=%d/%v", spec.Name, sparsity, batch, k), func(b *testing.B) {
						e, err := New(m, Options{Batch: batch, Kernels: k})
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						for b.Loop() {
							if _, err := e.Forward(x, batch); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		}
	}
}
