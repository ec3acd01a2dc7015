package infer

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkDenseCrossover times one dense layer (LeNet-300-100's fc1,
// 784×300) with the dense BLAS product and with CSR at several densities
// and batches, on inputs that are half zeros (as after a ReLU): the
// measurements behind the batch-dependent crossover of Auto.
func BenchmarkDenseCrossover(b *testing.B) {
	const in, out = 784, 300
	rng := rand.New(rand.NewSource(1))
	for _, density := range []float64{0.005, 0.01, 0.02, 0.05} {
		w := make([]float32, in*out)
		for i := range w {
			if rng.Float64() < density {
				w[i] = float32(rng.NormFloat64())
			}
		}
		bias := make([]float32, out)
		for _, batch := range []int{1, 10, 100} {
			// Distinct inputs per call, as in real use: a few repeated
			// ones would let the branch predictor learn their zeros.
			xs := make([][]float32, 64)
			for k := range xs {
				xs[k] = make([]float32, batch*in)
				for i := range xs[k] {
					if rng.Float64() < 0.5 {
						xs[k][i] = float32(rng.Float64())
					}
				}
			}
			y := make([]float32, batch*out)
			for _, sparse := range []bool{false, true} {
				s := newDense(in, out, w, bias, sparse)
				sc := &scratch{f: make([]float32, batch*(in+out))}
				name := "dense"
				if sparse {
					name = "csr"
				}
				b.Run(fmt.Sprintf("density=%g/batch=%d/%s", density, batch, name), func(b *testing.B) {
					i := 0
					for b.Loop() {
						s.run(batch, [][]float32{xs[i%len(xs)]}, y, sc)
						i++
					}
				})
			}
		}
	}
}
