package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// elementwiseInput is n float32 values, mostly ordinary, with a few zeros
// of both signs, denormals and large values among them.
func elementwiseInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-41, 3e38, -2e38}
	for i := range x {
		if rng.Intn(10) == 0 {
			x[i] = special[rng.Intn(len(special))]
		} else {
			x[i] = float32(rng.NormFloat64())
		}
	}
	return x
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestAllFinite(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, avx := range simdLoops(t) {
		hasAVX2 = avx
		for _, n := range []int{1, 8, 31, 32, 33, 64, 100} {
			x := elementwiseInput(rng, n)
			if !AllFinite(x) {
				t.Fatalf("AVX2 %v, n %d: finite values reported as not finite", avx, n)
			}
			for p := 0; p < n; p++ {
				for _, v := range bad {
					old := x[p]
					x[p] = v
					if AllFinite(x) {
						t.Fatalf("AVX2 %v, n %d: %v at %d not seen", avx, n, v, p)
					}
					x[p] = old
				}
			}
		}
		if !AllFinite([]float32(nil)) {
			t.Fatal("an empty slice is finite")
		}
	}
	if AllFinite([]float64{1, math.Inf(1)}) || !AllFinite([]float64{1, -2}) {
		t.Fatal("float64 AllFinite")
	}
}

func TestMomentum(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const lr, mu, wd = 0.3, 0.9, 5e-4
	for _, avx := range simdLoops(t) {
		hasAVX2 = avx
		for _, n := range []int{0, 5, 8, 16, 24, 31, 32, 33, 48, 100, 257} {
			w, g, v := elementwiseInput(rng, n), elementwiseInput(rng, n), elementwiseInput(rng, n)
			ww, wv := append([]float32(nil), w...), append([]float32(nil), v...)
			for i := range ww {
				wv[i] = mu*wv[i] + (g[i] + wd*ww[i])
				ww[i] -= lr * wv[i]
			}
			Momentum(w, g, v, lr, mu, wd)
			sameBits(t, "Momentum w", w, ww)
			sameBits(t, "Momentum v", v, wv)
		}
	}
	w, g, v := []float64{1, 2}, []float64{0.5, -1}, []float64{0, 1}
	Momentum(w, g, v, 0.1, 0.9, 0.01)
	if math.Abs(v[0]-0.51) > 1e-15 || math.Abs(w[0]-0.949) > 1e-15 || math.Abs(v[1]-(0.9-1+0.02)) > 1e-15 {
		t.Fatalf("float64 Momentum: w %v v %v", w, v)
	}
}

// benchmarkElementwise times f over LeNet-300-100's 266,200 prunable
// weights (ordinary values: denormals would time the CPU's slow path),
// with the plain and the AVX2 loops.
func benchmarkElementwise(b *testing.B, f func(w, g, v []float32)) {
	rng := rand.New(rand.NewSource(1))
	n := 266200
	w, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range w {
		w[i], g[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	avx := hasAVX2
	defer func() { hasAVX2 = avx }()
	for _, loop := range []struct {
		name string
		avx  bool
	}{{"plain", false}, {"avx2", true}} {
		if loop.avx && !avx {
			continue
		}
		b.Run(loop.name, func(b *testing.B) {
			hasAVX2 = loop.avx
			b.SetBytes(int64(n * 4))
			for i := 0; i < b.N; i++ {
				f(w, g, v)
			}
		})
	}
}

func BenchmarkAllFinite(b *testing.B) {
	benchmarkElementwise(b, func(w, g, v []float32) { AllFinite(g) })
}

func BenchmarkMomentum(b *testing.B) {
	benchmarkElementwise(b, func(w, g, v []float32) { Momentum(w, g, v, 1e-9, 0.5, 1e-9) })
}

func TestAddReLU(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	negNaN := math.Float32frombits(math.Float32bits(float32(math.NaN())) | 1<<31)
	for _, avx := range simdLoops(t) {
		hasAVX2 = avx
		for _, n := range []int{0, 3, 8, 16, 31, 32, 33, 47, 100} {
			a, b := elementwiseInput(rng, n), elementwiseInput(rng, n)
			for i := range a {
				if i%9 == 4 {
					a[i], b[i] = negNaN, 1
				}
				if i%11 == 5 {
					a[i], b[i] = float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))
				}
			}
			want := make([]float32, n)
			for i := range want {
				want[i] = ReLU(a[i] + b[i])
			}
			y := make([]float32, n+2)
			y[n], y[n+1] = 7, 8
			AddReLU(y[:n], a, b)
			sameBits(t, "AddReLU", y[:n], want)
			sameBits(t, "AddReLU past n", y[n:], []float32{7, 8})
			AddReLU(a, a, b) // in place
			sameBits(t, "AddReLU in place", a, want)
		}
	}
}

// TestSumPlanes checks SumPlanes against the plain double loop, bit for
// bit, for every count of planes up to 19 (full groups of eight and the
// rest), planes wider and narrower than a group and a stride past the
// plane, on values of mixed magnitudes so that the order of the sums
// shows in their rounding; and that planes past the slice panic.
func TestSumPlanes(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, n := range []int{1, 5, 37} {
		stride := n + 3
		for count := 0; count < 20; count++ {
			x32 := make([]float32, count*stride)
			x64 := make([]float64, count*stride)
			for i := range x32 {
				v := rng.NormFloat64() * math.Pow(10, float64(rng.Intn(9)-4))
				x32[i], x64[i] = float32(v), v
			}
			var want32 float32
			var want64 float64
			for b := 0; b < count; b++ {
				var s32 float32
				var s64 float64
				for p := 0; p < n; p++ {
					s32 += x32[b*stride+p]
					s64 += x64[b*stride+p]
				}
				want32 += s32
				want64 += s64
			}
			if got := SumPlanes(x32, count, n, stride); math.Float32bits(got) != math.Float32bits(want32) {
				t.Fatalf("float32, %d planes of %d: %v, the plain loop gives %v", count, n, got, want32)
			}
			if got := SumPlanes(x64, count, n, stride); math.Float64bits(got) != math.Float64bits(want64) {
				t.Fatalf("float64, %d planes of %d: %v, the plain loop gives %v", count, n, got, want64)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("planes past the slice did not panic")
		}
	}()
	SumPlanes(make([]float32, 10), 3, 4, 4)
}

// TestMul checks Mul against the plain loop bit for bit on lengths around
// the 8- and 16-wide blocks, with zeros of both signs, infinities, NaNs
// and products that overflow or underflow float32.
func TestMul(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.NaN()), 3e38, 1e-39}
	for n := 0; n <= 41; n++ {
		a, b, y := make([]float32, n), make([]float32, n), make([]float32, n+1)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.Intn(4) == 0 {
				a[i] = special[rng.Intn(len(special))]
			}
		}
		y[n] = 7
		Mul(y[:n], a, b)
		for i := range a {
			if want := a[i] * b[i]; math.Float32bits(y[i]) != math.Float32bits(want) && !(y[i] != y[i] && want != want) {
				t.Fatalf("n %d, index %d: %v·%v gives %v, the plain loop %v", n, i, a[i], b[i], y[i], want)
			}
		}
		if y[n] != 7 {
			t.Fatalf("n %d: written past y", n)
		}
	}
}

// BenchmarkMul is the product u⊙v of LeNet-300-100's 266,200 weights.
func BenchmarkMul(b *testing.B) {
	n := 266200
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i%13)/13, float32(i%7)/7
	}
	b.Run("avx2", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Mul(z, x, y)
		}
	})
	b.Run("plain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				z[j] = v * y[j]
			}
		}
	})
}
