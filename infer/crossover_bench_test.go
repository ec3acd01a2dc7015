package infer

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/spred-go/spred/internal/kernels"
)

// BenchmarkDenseCrossover times one dense layer (LeNet-300-100's fc1,
// 784×300) with the dense BLAS product and with CSR at several densities
// and batches, on inputs that are half zeros (as after a ReLU): the
// measurements behind the batch-dependent crossover of Auto.
func BenchmarkDenseCrossover(b *testing.B) {
	const in, out = 784, 300
	rng := rand.New(rand.NewSource(1))
	for _, density := range []float64{0.01, 0.05, 0.1, 0.2, 0.3} {
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

// BenchmarkConvCrossover times one convolution, dense (im2col and a BLAS
// product) and direct sparse, at several densities and batches: resnet-8's
// first-stage 3×3 (16 channels, 28×28, padding 1), its stride-2 3×3 into the
// second stage, and LeNet-5's second 5×5 (20 to 50 channels, 12×12). The
// measurements behind ConvCrossover.
func BenchmarkConvCrossover(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, c := range []struct {
		name                    string
		ch, h, filters, k, s, p int
	}{
		{"resnet8-stage1", 16, 28, 16, 3, 1, 1},
		{"resnet8-stage2-in", 16, 28, 32, 3, 2, 1},
		{"lenet5-conv2", 20, 12, 50, 5, 1, 0},
	} {
		for _, density := range []float64{0.05, 0.2, 0.4, 0.6} {
			w := make([]float32, c.filters*c.ch*c.k*c.k)
			for i := range w {
				if rng.Float64() < density {
					w[i] = float32(rng.NormFloat64())
				}
			}
			bias := make([]float32, c.filters)
			for _, batch := range []int{1, 100} {
				g := kernels.NewConv(batch, c.ch, c.h, c.h, c.filters, c.k, c.s, c.p)
				x := make([]float32, batch*c.ch*c.h*c.h)
				for i := range x {
					if rng.Float64() < 0.5 {
						x[i] = float32(rng.Float64())
					}
				}
				y := make([]float32, batch*c.filters*g.OH*g.OW)
				for _, sparse := range []bool{false, true} {
					s := newConv(g, 1, w, bias, sparse)
					s.chunk = batch
					perImage := (g.Rows() + g.Filters) * g.OH * g.OW
					if sparse {
						perImage = max(1, s.direct.Scratch(1))
					}
					sc := &scratch{f: make([]float32, batch*perImage)}
					name := "dense"
					if sparse {
						name = "sparse"
					}
					b.Run(fmt.Sprintf("%s/density=%g/batch=%d/%s", c.name, density, batch, name), func(b *testing.B) {
						for b.Loop() {
							s.run(batch, [][]float32{x}, y, sc)
						}
					})
				}
			}
		}
	}
}
