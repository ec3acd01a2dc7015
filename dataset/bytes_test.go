package dataset

import (
	"math"
	"math/rand"
	"reflect"
	"testing"
)

// pixelPair returns the same random images held as bytes and as float32.
func pixelPair(n int, shape []int, seed int64) (b, f *Dataset) {
	rng := rand.New(rand.NewSource(seed))
	size := 1
	for _, v := range shape {
		size *= v
	}
	b = &Dataset{Name: "img", Pixels: make([]uint8, n*size), Y: make([]int, n), Shape: shape, Classes: 3,
		ClassNames: []string{"a", "b", "c"}}
	for i := range b.Pixels {
		b.Pixels[i] = uint8(rng.Intn(256))
	}
	for i := range b.Y {
		b.Y[i] = rng.Intn(3)
	}
	f = &Dataset{Name: b.Name, X: make([]float32, len(b.Pixels)), Y: cloneInts(b.Y), Shape: cloneInts(shape),
		Classes: b.Classes, ClassNames: cloneStrings(b.ClassNames)}
	for i, p := range b.Pixels {
		f.X[i] = float32(p) / 255 // the loaders' conversion before bytes were kept
	}
	return b, f
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestPixelValue(t *testing.T) {
	for p := range 256 {
		if got, want := PixelValue(uint8(p)), float32(p)/255; math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("PixelValue(%d) = %v, want %v", p, got, want)
		}
	}
	if PixelValue(0) != 0 || PixelValue(255) != 1 {
		t.Errorf("PixelValue(0), PixelValue(255) = %v, %v", PixelValue(0), PixelValue(255))
	}
}

func TestBytesReadAsFloats(t *testing.T) {
	b, f := pixelPair(7, []int{2, 3, 4}, 1)
	if !b.IsBytes() || f.IsBytes() || b.Values() != 7*24 || b.Values() != f.Values() {
		t.Fatalf("IsBytes %v %v, Values %d %d", b.IsBytes(), f.IsBytes(), b.Values(), f.Values())
	}
	s := b.Size()
	gb, gf := make([]float32, 7*s), make([]float32, 7*s)
	for i := range 7 {
		b.Read(i, gb[:s])
		f.Read(i, gf[:s])
		if !sameBits(gb[:s], gf[:s]) {
			t.Fatalf("Read(%d): bytes %v, floats %v", i, gb[:s], gf[:s])
		}
	}
	b.ReadRange(2, 5, gb)
	f.ReadRange(2, 5, gf)
	if !sameBits(gb[:5*s], gf[:5*s]) || !sameBits(gf[:5*s], f.X[2*s:]) {
		t.Errorf("ReadRange(2, 5) differs")
	}
	idx := []int{6, 0, 6, 3}
	b.ReadBatch(idx, gb)
	f.ReadBatch(idx, gf)
	if !sameBits(gb[:4*s], gf[:4*s]) || !sameBits(gf[s:2*s], f.X[:s]) {
		t.Errorf("ReadBatch(%v) differs", idx)
	}
	if fl := b.Floats(); fl.IsBytes() || fl.Pixels != nil || !sameBits(fl.X, f.X) || !b.IsBytes() {
		t.Errorf("Floats: X %d values, Pixels %d; source still bytes: %v", len(fl.X), len(fl.Pixels), b.IsBytes())
	}
	if f.Floats() != f {
		t.Errorf("Floats of a float data set is not the data set")
	}
	// X, when set, is what is read.
	both := *f
	both.Pixels = make([]uint8, len(f.X))
	both.Read(1, gb[:s])
	if !sameBits(gb[:s], f.X[s:2*s]) {
		t.Errorf("with X and Pixels set, Read did not read X")
	}
}

func TestBytesSubsetReshape(t *testing.T) {
	b, f := pixelPair(6, []int{1, 4, 4}, 2)
	idx := []int{5, 1, 1, 0}
	sb, sf := b.Subset(idx), f.Subset(idx)
	if !sb.IsBytes() || sf.IsBytes() || !reflect.DeepEqual(sb.Y, sf.Y) || !sameBits(sb.Floats().X, sf.X) {
		t.Fatalf("Subset(%v): bytes %v, floats %v", idx, sb, sf)
	}
	sb.Pixels[0]++
	if b.Pixels[5*16] == sb.Pixels[0] {
		t.Errorf("Subset shares Pixels with its source")
	}
	r, err := b.Reshape([]int{16})
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsBytes() || &r.Pixels[0] != &b.Pixels[0] || r.X != nil {
		t.Errorf("Reshape does not share Pixels")
	}
}

func TestBytesStatsNormalize(t *testing.T) {
	b, f := pixelPair(9, []int{3, 5, 5}, 3)
	mb, sb := b.ChannelStats()
	mf, sf := f.ChannelStats()
	if !sameBits(mb, mf) || !sameBits(sb, sf) {
		t.Fatalf("ChannelStats: bytes %v %v, floats %v %v", mb, sb, mf, sf)
	}
	view, err := b.Reshape([]int{75})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dataset{b, f} {
		if err := d.Normalize(mf, sf); err != nil {
			t.Fatal(err)
		}
	}
	if b.IsBytes() || b.Pixels != nil || !sameBits(b.X, f.X) {
		t.Errorf("Normalize of bytes: Pixels %d, X differs from the float form's", len(b.Pixels))
	}
	// The view keeps the bytes and their values.
	x := make([]float32, 75)
	view.Read(0, x)
	if !view.IsBytes() || x[0] != PixelValue(view.Pixels[0]) {
		t.Errorf("Normalize changed a view sharing Pixels")
	}
}

func TestReadPanics(t *testing.T) {
	b, _ := pixelPair(2, []int{2}, 4)
	for name, f := range map[string]func(){
		"Read(2)":          func() { b.Read(2, make([]float32, 2)) },
		"Read(-1)":         func() { b.Read(-1, make([]float32, 2)) },
		"short dst":        func() { b.Read(0, make([]float32, 1)) },
		"ReadRange(1, 2)":  func() { b.ReadRange(1, 2, make([]float32, 4)) },
		"ReadBatch([0 5])": func() { b.ReadBatch([]int{0, 5}, make([]float32, 4)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
