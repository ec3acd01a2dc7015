package npy

import (
	"bytes"
	"errors"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

// FuzzRead: no input makes Read panic or allocate much more than the input
// justifies (4 bytes per input byte for the values, plus the header and the
// read buffer); every failure is one line wrapping ErrFormat or
// ErrUnsupported, and every array read writes and reads back unchanged.
func FuzzRead(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(checkRead)
}

func seeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, a := range []*Array{
		{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
		{Shape: []int{}, Data: []float32{7}},
		{Shape: []int{0, 4}, Data: nil},
	} {
		out = append(out, encode(t, a))
	}
	out = append(out,
		file(1, dict("<f8", "False", "(2,)"), f64s(0.5, -1)),
		file(2, dict("<f4", "False", "(1, 1)"), f32s(3)),
		file(3, dict("<f4", "False", "(1,)"), f32s(4)))
	for _, b := range badFiles() {
		out = append(out, b.file)
	}
	return out
}

func checkRead(t *testing.T, data []byte) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a, err := decode(data)
	runtime.ReadMemStats(&after)
	if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(4*len(data)+2*chunk+MaxHeaderLen+1<<20); alloc > limit {
		t.Fatalf("read of %d bytes allocated %d bytes (limit %d)", len(data), alloc, limit)
	}
	if err != nil {
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error matches neither ErrFormat nor ErrUnsupported: %v", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("message has several lines: %q", err)
		}
		return
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("array read fails Validate: %v", err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatalf("array read does not write: %v", err)
	}
	again, err := decode(buf.Bytes())
	if err != nil {
		t.Fatalf("written array does not read: %v", err)
	}
	if !sameBits(a, again) {
		t.Fatalf("array changed in a write and read: %v, then %v", a.Shape, again.Shape)
	}
}

// TestReadMutations checks FuzzRead's property on seeded random mutations
// (1 to 4 bytes overwritten, or a cut) of the seeds, so that plain test
// runs cover more than the seed corpus.
func TestReadMutations(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	seeds := seeds(t)
	for i := 0; i < 3000; i++ {
		b := append([]byte(nil), seeds[rng.Intn(len(seeds))]...)
		if len(b) == 0 {
			continue
		}
		if rng.Intn(5) == 0 {
			b = b[:rng.Intn(len(b))]
		} else {
			for k := rng.Intn(4); k >= 0; k-- {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
		}
		checkRead(t, b)
	}
}
