package dataset

import (
	"math/rand"
	"reflect"
	"testing"
)

// countSource counts the values drawn from a seeded source.
type countSource struct {
	rand.Source64
	n int
}

func (c *countSource) Int63() int64   { c.n++; return c.Source64.Int63() }
func (c *countSource) Uint64() uint64 { c.n++; return c.Source64.Uint64() }

func newCounted(seed int64) (*rand.Rand, *countSource) {
	c := &countSource{Source64: rand.NewSource(seed).(rand.Source64)}
	return rand.New(c), c
}

// augmentInput returns n samples of shape [c,h,w] with distinct positive
// values.
func augmentInput(n, c, h, w int) []float32 {
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = float32(i + 1)
	}
	return x
}

// referenceAugment is Apply written plainly: pad with zeros, crop at the
// offsets the documented bits give, flip.
func referenceAugment(a Augment, src []float32, c, h, w, n int, rng *rand.Rand) []float32 {
	out := make([]float32, len(src))
	p := a.Pad
	ph, pw := h+2*p, w+2*p
	for i := range n {
		v := uint64(rng.Int63())
		flip := a.Flip && v&1 == 1
		k := uint64(2*p + 1)
		dy := int(((v >> 1) & (1<<31 - 1)) * k >> 31)
		dx := int(((v >> 32) & (1<<31 - 1)) * k >> 31)
		for ch := range c {
			padded := make([]float32, ph*pw)
			for y := range h {
				for x := range w {
					padded[(y+p)*pw+x+p] = src[((i*c+ch)*h+y)*w+x]
				}
			}
			for y := range h {
				for x := range w {
					sx := x
					if flip {
						sx = w - 1 - x
					}
					out[((i*c+ch)*h+y)*w+x] = padded[(y+dy)*pw+sx+dx]
				}
			}
		}
	}
	return out
}

func TestAugmentMatchesReference(t *testing.T) {
	const n, c, h, w = 40, 3, 5, 7
	src := augmentInput(n, c, h, w)
	for _, a := range []Augment{{Pad: 1}, {Pad: 2, Flip: true}, {Flip: true}, {Pad: 9, Flip: true}} {
		dst := make([]float32, len(src))
		rng, count := newCounted(7)
		if err := a.Apply(dst, src, []int{c, h, w}, n, rng); err != nil {
			t.Fatal(err)
		}
		if count.n != n {
			t.Errorf("%+v: %d draws for %d samples, want one each", a, count.n, n)
		}
		want := referenceAugment(a, src, c, h, w, n, rand.New(rand.NewSource(7)))
		if !reflect.DeepEqual(dst, want) {
			t.Errorf("%+v: Apply differs from the reference", a)
		}
		// Same seed, same output.
		again := make([]float32, len(src))
		if err := a.Apply(again, src, []int{c, h, w}, n, rand.New(rand.NewSource(7))); err != nil || !reflect.DeepEqual(again, dst) {
			t.Errorf("%+v: not deterministic (%v)", a, err)
		}
	}
}

func TestAugmentFlip(t *testing.T) {
	const n, c, h, w = 64, 2, 3, 4
	src := augmentInput(n, c, h, w)
	dst := make([]float32, len(src))
	if err := (Augment{Flip: true}).Apply(dst, src, []int{c, h, w}, n, rand.New(rand.NewSource(1))); err != nil {
		t.Fatal(err)
	}
	flips := 0
	twin := rand.New(rand.NewSource(1))
	for i := range n {
		flip := twin.Int63()&1 == 1
		if flip {
			flips++
		}
		for r := range c * h { // every row of every channel
			for x := range w {
				got, in := dst[(i*c*h+r)*w+x], src[(i*c*h+r)*w+x]
				if flip {
					in = src[(i*c*h+r)*w+w-1-x]
				}
				if got != in {
					t.Fatalf("sample %d (flip %v), row %d, column %d: %v, want %v", i, flip, r, x, got, in)
				}
			}
		}
	}
	if flips == 0 || flips == n {
		t.Errorf("%d of %d samples flipped", flips, n)
	}
}

func TestAugmentCrop(t *testing.T) {
	const n, c, h, w = 50, 1, 6, 6
	src := augmentInput(n, c, h, w)
	dst := make([]float32, len(src))

	// The zero value, and a pad of 0 without flips, copy and draw nothing.
	rng, count := newCounted(3)
	if err := (Augment{}).Apply(dst, src, []int{c, h, w}, n, rng); err != nil || !reflect.DeepEqual(dst, src) || count.n != 0 {
		t.Errorf("zero Augment: err %v, identity %v, %d draws", err, reflect.DeepEqual(dst, src), count.n)
	}
	if err := (Augment{}).Apply(dst, src, []int{c, h, w}, n, nil); err != nil {
		t.Errorf("zero Augment needs no rng: %v", err)
	}

	// With a pad, every value is 0 or one of the sample's own, the values
	// kept stay in order along rows, and some samples do move.
	const pad = 2
	if err := (Augment{Pad: pad}).Apply(dst, src, []int{c, h, w}, n, rand.New(rand.NewSource(3))); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for i := range n {
		lo, hi := float32(i*h*w+1), float32((i+1)*h*w)
		zeros := 0
		for j, v := range dst[i*h*w : (i+1)*h*w] {
			if v == 0 {
				zeros++
				continue
			}
			if v < lo || v > hi {
				t.Fatalf("sample %d, value %d: %v not from the sample", i, j, v)
			}
			if x := j % w; x > 0 && dst[i*h*w+j-1] != 0 && dst[i*h*w+j-1] != v-1 {
				t.Fatalf("sample %d, value %d: %v follows %v", i, j, v, dst[i*h*w+j-1])
			}
		}
		if zeros > 0 {
			moved++
		}
		// At most pad rows and pad columns are lost.
		if kept := h*w - zeros; kept < (h-pad)*(w-pad) {
			t.Errorf("sample %d keeps %d values, want at least %d", i, kept, (h-pad)*(w-pad))
		}
	}
	if moved == 0 {
		t.Error("no sample moved")
	}
}

func TestAugmentErrors(t *testing.T) {
	src, dst := make([]float32, 2*12), make([]float32, 2*12)
	rng := rand.New(rand.NewSource(1))
	for _, c := range []struct {
		name  string
		a     Augment
		shape []int
		n     int
		dst   []float32
		rng   *rand.Rand
		want  string
	}{
		{"negative pad", Augment{Pad: -1}, []int{1, 3, 4}, 2, dst, rng, "pad -1"},
		{"flat shape", Augment{Flip: true}, []int{12}, 2, dst, rng, "want [channels rows columns]"},
		{"zero dimension", Augment{Flip: true}, []int{1, 0, 4}, 2, dst, rng, "want [channels rows columns]"},
		{"short dst", Augment{Flip: true}, []int{1, 3, 4}, 2, dst[:20], rng, "dst 20"},
		{"too many samples", Augment{Flip: true}, []int{1, 3, 4}, 3, dst, rng, "need 36 values"},
		{"no rng", Augment{Pad: 1}, []int{1, 3, 4}, 2, dst, nil, "no random source"},
	} {
		err := c.a.Apply(c.dst, src, c.shape, c.n, c.rng)
		checkOneLine(t, c.name, err, c.want)
	}
}

func TestAugmentAllocs(t *testing.T) {
	const n = 16
	src := augmentInput(n, 3, 32, 32)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewSource(1))
	a := Augment{Pad: 4, Flip: true}
	shape := []int{3, 32, 32}
	allocs := testing.AllocsPerRun(10, func() {
		if err := a.Apply(dst, src, shape, n, rng); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Apply allocates %v times per call", allocs)
	}
}

func BenchmarkAugmentCIFARBatch(b *testing.B) {
	const n = 128
	src := augmentInput(n, 3, 32, 32)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewSource(1))
	a := Augment{Pad: 4, Flip: true}
	shape := []int{3, 32, 32}
	for b.Loop() {
		if err := a.Apply(dst, src, shape, n, rng); err != nil {
			b.Fatal(err)
		}
	}
}
