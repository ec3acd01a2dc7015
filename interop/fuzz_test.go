package interop_test

import (
	"errors"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// FuzzDecode: no input makes the ONNX reader panic; every failure is one
// line matching one of the package's errors, and every model it returns
// passes Check and survives an export and import unchanged.
func FuzzDecode(f *testing.F) {
	mlp := encode(f, randomModel(f, tinyMLP(), 1), interop.ExportOptions{})
	cnn := encode(f, randomModel(f, tinyCNN(), 2), interop.ExportOptions{})
	f.Add(mlp)
	f.Add(cnn)
	f.Add(encode(f, prune(f, randomModel(f, tinyCNN(), 3), 0.1, 1), interop.ExportOptions{Sparse: true}))
	f.Add(mutate(f, cnn, func(mp *onnx.ModelProto) { torchFlatten(f, mp) }))
	f.Add(encode(f, bnModel(f, tinyResNet(), 4), interop.ExportOptions{Opset: 17}))
	for _, b := range append(badFiles(f), badGraphs(f)...) {
		f.Add(b.file)
	}
	// Sparse initializers within and over the expansion bound.
	f.Add(sparseFile(f, 2000, 10, 40))
	f.Add(sparseFile(f, 4000, 100, 40))
	f.Fuzz(checkDecode)
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkDecode is the property FuzzDecode checks for one input; it also
// checks that the model's values and the memory Decode takes stay within
// what the file's size allows (models.MaxSparseExpansion dense values per
// byte of sparse initializers, a few copies of each value).
func checkDecode(t *testing.T, data []byte) {
	var m *models.Model
	var err error
	budget := uint64(models.MaxSparseExpansion) * uint64(max(len(data), 1<<12))
	if alloc := allocated(func() { m, _, err = interop.Decode(data, interop.ImportOptions{}) }); alloc > 64*uint64(len(data))+4*8*budget+8<<20 {
		t.Fatalf("%d-byte file allocated %d bytes", len(data), alloc)
	}
	if err == nil {
		values := 0
		for _, p := range m.Params.All() {
			values += p.Len()
		}
		if uint64(values) > uint64(len(data))/4+budget {
			t.Fatalf("%d-byte file gave %d values", len(data), values)
		}
	}
	if err != nil {
		if !errors.Is(err, interop.ErrFormat) && !errors.Is(err, interop.ErrUnsupported) && !errors.Is(err, interop.ErrShape) {
			t.Fatalf("error matches none of ErrFormat, ErrUnsupported, ErrShape: %v", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("message has several lines: %q", err)
		}
		return
	}
	if err := m.Check(); err != nil {
		t.Fatalf("imported model fails Check: %v", err)
	}
	b, err := interop.Encode(m, interop.ExportOptions{})
	if err != nil {
		t.Fatalf("imported model does not export: %v", err)
	}
	again, _, err := interop.Decode(b, interop.ImportOptions{})
	if err != nil {
		t.Fatalf("re-exported model does not import: %v", err)
	}
	sameModel(t, m, again)
}

// TestDecodeMutations checks FuzzDecode's property on 5000 seeded random
// mutations (1 to 4 bytes overwritten, or a cut) of valid and bad files, so
// that plain test runs cover more than the seed corpus.
func TestDecodeMutations(t *testing.T) {
	seeds := [][]byte{
		encode(t, randomModel(t, tinyCNN(), 2), interop.ExportOptions{}),
		encode(t, prune(t, randomModel(t, tinyCNN(), 3), 0.1, 1), interop.ExportOptions{Sparse: true}),
		encode(t, bnModel(t, tinyResNet(), 4), interop.ExportOptions{}),
	}
	for _, b := range append(badFiles(t), badGraphs(t)...) {
		if len(b.file) > 0 {
			seeds = append(seeds, b.file)
		}
	}
	rng := rand.New(rand.NewSource(1))
	imported := 0
	for i := 0; i < 5000; i++ {
		b := append([]byte(nil), seeds[rng.Intn(len(seeds))]...)
		if rng.Intn(8) == 0 {
			b = b[:rng.Intn(len(b))]
		} else {
			for k := 0; k <= rng.Intn(4); k++ {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
		}
		if _, _, err := interop.Decode(b, interop.ImportOptions{}); err == nil {
			imported++
		}
		checkDecode(t, b)
	}
	t.Logf("%d of 5000 mutated files imported", imported)
}
