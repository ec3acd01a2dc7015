package interop_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/spred-go/spred/interop"
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
	f.Fuzz(checkDecode)
}

// checkDecode is the property FuzzDecode checks for one input.
func checkDecode(t *testing.T, data []byte) {
	m, _, err := interop.Decode(data, interop.ImportOptions{})
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
