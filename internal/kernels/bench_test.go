package kernels

import (
	"math/rand"
	"testing"
)

// The hot loops at LeNet-5's sizes (batch 100), for benchstat:
//
//	go test -run x -bench . -count 10 ./internal/kernels > new.txt; benchstat old.txt new.txt

var lenet5Conv2 = NewConv(100, 20, 12, 12, 50, 5, 1, 0)

func randSlice(n int) []float32 {
	rng := rand.New(rand.NewSource(1))
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32() - 0.5
	}
	return v
}

func BenchmarkIm2ColLeNet5Conv2(b *testing.B) {
	g := lenet5Conv2
	x, cols := randSlice(g.Batch*g.Ch*g.H*g.W), make([]float32, g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		Im2Col(g, x, cols)
	}
}

func BenchmarkCol2ImLeNet5Conv2(b *testing.B) {
	g := lenet5Conv2
	dx, cols := make([]float32, g.Batch*g.Ch*g.H*g.W), randSlice(g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		clear(dx)
		Col2Im(g, cols, dx)
	}
}

func BenchmarkGemmLeNet5Conv2(b *testing.B) {
	g := lenet5Conv2
	w, cols, out := randSlice(g.Filters*g.Rows()), randSlice(g.Rows()*g.Cols()), make([]float32, g.Filters*g.Cols())
	b.SetBytes(0)
	for i := 0; i < b.N; i++ {
		Gemm(false, false, g.Filters, g.Cols(), g.Rows(), 1, w, g.Rows(), cols, g.Cols(), 0, out, g.Cols())
	}
	b.ReportMetric(2*float64(g.Filters*g.Cols()*g.Rows())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMaxPoolLeNet5Pool1(b *testing.B) {
	x := randSlice(100 * 20 * 24 * 24)
	y, arg := make([]float32, len(x)/4), make([]int32, len(x)/4)
	for i := 0; i < b.N; i++ {
		MaxPool(2, 2, 100*20, 24, 24, x, y, arg)
	}
}

func BenchmarkPool22ValuesLeNet5Pool1(b *testing.B) {
	x := randSlice(100 * 20 * 24 * 24)
	y := make([]float32, len(x)/4)
	for i := 0; i < b.N; i++ {
		Pool22Values(24, 24, 100*20, x, y)
	}
}

func benchmarkCSR(b *testing.B, density float64) {
	// LeNet-300-100's fc1 as a transposed CSR (300×784) times a batch of 100.
	rng := rand.New(rand.NewSource(2))
	w := randSlice(300 * 784)
	for i := range w {
		if rng.Float64() > density {
			w[i] = 0
		}
	}
	m := NewCSR(w, 300, 784)
	x, y := randSlice(784*100), make([]float32, 300*100)
	for i := 0; i < b.N; i++ {
		m.MulDense(x, 100, y)
	}
}

func BenchmarkCSRDensity10(b *testing.B) { benchmarkCSR(b, 0.10) }
func BenchmarkCSRDensity1(b *testing.B)  { benchmarkCSR(b, 0.01) }

// resnet20Stage1 is one chunk (4 images) of a 3×3 convolution of
// resnet-20's first stage on Fashion-MNIST, as graph's Conv2D builds it.
var resnet20Stage1 = NewConv(4, 16, 28, 28, 16, 3, 1, 1)

func BenchmarkIm2ColResNet20Stage1(b *testing.B) {
	g := resnet20Stage1
	x, cols := randSlice(g.Batch*g.Ch*g.H*g.W), make([]float32, g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		Im2Col(g, x, cols)
	}
}

func BenchmarkCol2ImResNet20Stage1(b *testing.B) {
	g := resnet20Stage1
	dx, cols := make([]float32, g.Batch*g.Ch*g.H*g.W), randSlice(g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		clear(dx)
		Col2Im(g, cols, dx)
	}
}

// BenchmarkTranspose: a batch of 100 MNIST images, as the inference
// engine's sparse dense layers transpose their input.
func BenchmarkTranspose(b *testing.B) {
	a, t := randSlice(100*784), make([]float32, 100*784)
	for i := 0; i < b.N; i++ {
		Transpose(t, a, 100, 784)
	}
}

// BenchmarkSumPlanesLeNet5Conv1 is the bias gradient of LeNet-5's first
// convolution for one filter: 100 planes of 24×24 at a stride of 20 planes.
func BenchmarkSumPlanesLeNet5Conv1(b *testing.B) {
	x := randSlice(100 * 20 * 24 * 24)
	for i := 0; i < b.N; i++ {
		SumPlanes(x, 100, 576, 20*576)
	}
}
