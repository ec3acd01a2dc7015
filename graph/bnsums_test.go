package graph

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

// TestChannelSums checks channelSums against one plain chain per channel,
// bit for bit, for every kind, both element types and ranges of channels
// that hold whole groups of eight, a rest, or both, on values of mixed
// magnitudes so that the order of the additions shows in their rounding.
func TestChannelSums(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, chans := range []int{1, 7, 8, 19} {
		g := bnGeom{shape: tensor.Shape{3, chans, 5, 3}, n: 3, c: chans, hw: 15}
		x := make([]float64, 3*chans*15)
		y := make([]float64, len(x))
		mean := make([]float64, chans)
		for i := range x {
			x[i] = rng.NormFloat64() * math.Pow(10, float64(rng.Intn(7)-3))
			y[i] = rng.NormFloat64()
		}
		for c := range mean {
			mean[c] = rng.NormFloat64()
		}
		x32, y32 := make([]float32, len(x)), make([]float32, len(y))
		for i := range x {
			x32[i], y32[i] = float32(x[i]), float32(y[i])
		}
		for _, kind := range []sumKind{sumX, sumSquares, sumProduct} {
			for _, r := range [][2]int{{0, chans}, {1, chans}, {chans / 2, chans}} {
				got64, got32 := make([]float64, r[1]-r[0]), make([]float64, r[1]-r[0])
				channelSums(g, r[0], r[1], kind, x, y, mean, got64)
				channelSums(g, r[0], r[1], kind, x32, y32, mean, got32)
				for c := r[0]; c < r[1]; c++ {
					want64, want32 := plainChannelSum(g, c, kind, x, y, mean), plainChannelSum(g, c, kind, x32, y32, mean)
					if math.Float64bits(got64[c-r[0]]) != math.Float64bits(want64) || math.Float64bits(got32[c-r[0]]) != math.Float64bits(want32) {
						t.Fatalf("%d channels, kind %d, range %v, channel %d: %v and %v, the plain chain gives %v and %v",
							chans, kind, r, c, got64[c-r[0]], got32[c-r[0]], want64, want32)
					}
				}
			}
		}
	}
}

func plainChannelSum[T float32 | float64](g bnGeom, c int, kind sumKind, x, y []T, mean []float64) float64 {
	var s float64
	for b := 0; b < g.n; b++ {
		for i := 0; i < g.hw; i++ {
			off := (b*g.c+c)*g.hw + i
			switch kind {
			case sumX:
				s += float64(x[off])
			case sumSquares:
				d := float64(x[off]) - mean[c]
				s += d * d
			case sumProduct:
				s += float64(y[off]) * (float64(x[off]) - mean[c])
			}
		}
	}
	return s
}

// BenchmarkChannelSums times the mean's sums of a batch norm at resnet-20's
// first stage (100 images, 16 channels of 28×28), eight chains side by side
// and one chain per channel (the loop they replace).
func BenchmarkChannelSums(b *testing.B) {
	g := bnGeom{shape: tensor.Shape{100, 16, 28, 28}, n: 100, c: 16, hw: 784}
	x := make([]float32, 100*16*784)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	out := make([]float64, 16)
	b.Run("side-by-side", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			channelSums(g, 0, 16, sumX, x, nil, nil, out)
		}
	})
	b.Run("one-chain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for c := 0; c < 16; c++ {
				var s float64
				channel(g, x, c, func(p []float32, _ int) {
					for _, e := range p {
						s += float64(e)
					}
				})
				out[c] = s
			}
		}
	})
}
