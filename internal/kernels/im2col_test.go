package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// naiveIm2Col is Im2Col written out from its definition.
func naiveIm2Col(g Conv, x []float64) []float64 {
	cols := make([]float64, g.Rows()*g.Cols())
	for b := 0; b < g.Batch; b++ {
		for c := 0; c < g.Ch; c++ {
			for ki := 0; ki < g.K; ki++ {
				for kj := 0; kj < g.K; kj++ {
					for oy := 0; oy < g.OH; oy++ {
						for ox := 0; ox < g.OW; ox++ {
							iy, ix := oy*g.S+ki-g.PT, ox*g.S+kj-g.PL
							if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
								continue
							}
							cols[((c*g.K+ki)*g.K+kj)*g.Cols()+(b*g.OH+oy)*g.OW+ox] = x[((b*g.Ch+c)*g.H+iy)*g.W+ix]
						}
					}
				}
			}
		}
	}
	return cols
}

// TestIm2ColCol2Im checks both against their definitions, for strides 1
// and 2 and paddings that are symmetric, one-sided, wider than the input
// and, with stride 1, keep the width (the shifted-plane path).
func TestIm2ColCol2Im(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, c := range []struct {
		b, ch, h, w, f, k, s int
		pads                 [4]int
	}{
		{2, 3, 6, 6, 2, 3, 1, [4]int{1, 1, 1, 1}},
		{1, 2, 5, 7, 2, 5, 1, [4]int{2, 2, 2, 2}},
		{2, 1, 4, 5, 1, 3, 1, [4]int{0, 0, 2, 2}},
		{1, 2, 4, 4, 1, 3, 1, [4]int{2, 2, 0, 0}},
		{1, 1, 3, 2, 1, 3, 1, [4]int{4, 1, 4, 1}},
		{1, 1, 2, 2, 1, 5, 1, [4]int{3, 2, 3, 2}},
		{3, 2, 5, 5, 2, 1, 1, [4]int{0, 0, 0, 0}},
		{2, 2, 7, 7, 3, 3, 2, [4]int{1, 1, 1, 1}},
		{1, 2, 6, 6, 2, 3, 1, [4]int{0, 0, 0, 0}},
		{2, 2, 4, 38, 1, 3, 1, [4]int{0, 1, 0, 0}}, // rows of 37, copied whole
		// Narrower output than input at stride 1: whole-row blocks
		// (copyRows, addRows), with tails of 0, 4 and 2 lanes, padding
		// above and below, and left padding that some kj read.
		{2, 3, 12, 12, 2, 5, 1, [4]int{0, 0, 0, 0}},
		{1, 2, 5, 14, 1, 3, 1, [4]int{2, 0, 2, 0}},
		{2, 1, 9, 30, 1, 5, 1, [4]int{1, 0, 0, 0}},
		{1, 1, 6, 10, 1, 3, 1, [4]int{0, 1, 0, 0}},
	} {
		g := NewConvPads(c.b, c.ch, c.h, c.w, c.f, c.k, c.s, c.pads)
		x := make([]float64, c.b*c.ch*c.h*c.w)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		want := naiveIm2Col(g, x)
		got := make([]float64, len(want))
		for i := range got {
			got[i] = 99 // every entry must be written
		}
		Im2Col(g, x, got)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: Im2Col entry %d is %v, want %v", c, i, got[i], want[i])
			}
		}
		// Col2Im is the transpose: <Im2Col(x), u> = <x, Col2Im(u)>, and
		// with u the indicator of one entry it moves that entry back.
		u := make([]float64, len(want))
		for i := range u {
			u[i] = float64(rng.Intn(7) - 3)
		}
		dx := make([]float64, len(x))
		Col2Im(g, append([]float64(nil), u...), dx)
		wantDx := make([]float64, len(x))
		for i := range wantDx {
			e := make([]float64, len(x))
			e[i] = 1
			for j, v := range naiveIm2Col(g, e) {
				wantDx[i] += v * u[j]
			}
		}
		for i := range wantDx {
			if dx[i] != wantDx[i] {
				t.Fatalf("%+v: Col2Im entry %d is %v, want %v", c, i, dx[i], wantDx[i])
			}
		}
		// float32, which has the assembly loops: the same values (copies,
		// and sums of small integers, are exact in both).
		x32, got32 := f32(x), make([]float32, len(want))
		for i := range got32 {
			got32[i] = 99
		}
		Im2Col(g, x32, got32)
		for i := range want {
			if got32[i] != float32(want[i]) {
				t.Fatalf("%+v: float32 Im2Col entry %d is %v, want %v", c, i, got32[i], want[i])
			}
		}
		dx32 := make([]float32, len(x))
		Col2Im(g, f32(u), dx32)
		for i := range wantDx {
			if dx32[i] != float32(wantDx[i]) {
				t.Fatalf("%+v: float32 Col2Im entry %d is %v, want %v", c, i, dx32[i], wantDx[i])
			}
		}
	}
}

// TestRows checks copyRows and addRows against their loops for every row
// width from 1 to 20 (the assembly's tails), keeps what lies between the
// rows, moves −0 and NaN as bits, and refuses slices too short.
func TestRows(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for cols := 1; cols <= 20; cols++ {
		rows, ds, ss := 3, cols+2, cols+5
		src := make([]float32, (rows-1)*ss+cols)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		src[0], src[len(src)-1] = float32(math.Copysign(0, -1)), float32(math.NaN())
		base := make([]float32, (rows-1)*ds+cols+1)
		for i := range base {
			base[i] = float32(rng.NormFloat64())
		}
		wantCopy, wantAdd := append([]float32(nil), base...), append([]float32(nil), base...)
		for r := 0; r < rows; r++ {
			for i := 0; i < cols; i++ {
				wantCopy[r*ds+i] = src[r*ss+i]
				wantAdd[r*ds+i] += src[r*ss+i]
			}
		}
		gotCopy, gotAdd := append([]float32(nil), base...), append([]float32(nil), base...)
		copyRows(gotCopy, src, rows, cols, ds, ss)
		addRows(gotAdd, src, rows, cols, ds, ss)
		for i := range base {
			if math.Float32bits(gotCopy[i]) != math.Float32bits(wantCopy[i]) {
				t.Fatalf("cols %d: copyRows entry %d is %v, want %v", cols, i, gotCopy[i], wantCopy[i])
			}
			if math.Float32bits(gotAdd[i]) != math.Float32bits(wantAdd[i]) {
				t.Fatalf("cols %d: addRows entry %d is %v, want %v", cols, i, gotAdd[i], wantAdd[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("copyRows into a slice one value short did not panic")
		}
	}()
	copyRows(make([]float32, 2*8+7), make([]float32, 100), 3, 8, 8, 8)
}

// TestAddBias: every length from 0 to 20 (the assembly's tails) against
// the plain sum, bit for bit, −0 + 0 giving +0, nothing past the end
// written.
func TestAddBias(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for n := 0; n <= 20; n++ {
		for _, b := range []float32{0, 0.75} {
			src := make([]float32, n)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			if n > 0 {
				src[0] = float32(math.Copysign(0, -1))
			}
			dst := make([]float32, n+1)
			dst[n] = 42
			AddBias(dst, src, b)
			for i, v := range src {
				if want := v + b; math.Float32bits(dst[i]) != math.Float32bits(want) {
					t.Fatalf("n %d, b %v: entry %d is %v, want %v", n, b, i, dst[i], want)
				}
			}
			if dst[n] != 42 {
				t.Fatalf("n %d: the entry past the end was written", n)
			}
		}
	}
	d64 := make([]float64, 3)
	AddBias(d64, []float64{1, math.Copysign(0, -1), -2}, 0)
	if d64[0] != 1 || math.Signbit(d64[1]) || d64[2] != -2 {
		t.Errorf("float64: %v", d64)
	}
}
