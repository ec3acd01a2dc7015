package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/internal/npy"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// randomArray writes n random samples of the given per-sample shape to
// path and returns them.
func randomArray(t *testing.T, path string, n int, shape []int, seed int64) *npy.Array {
	t.Helper()
	a := &npy.Array{Shape: append([]int{n}, shape...)}
	a.Data = make([]float32, a.Len())
	rng := rand.New(rand.NewSource(seed))
	for i := range a.Data {
		a.Data[i] = float32(rng.Float64())
	}
	if err := npy.WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	return a
}

// enginePredict is what spred predict must compute: the engine's logits of
// m on x, batch samples at a time.
func enginePredict(t *testing.T, m *models.Model, x []float32, batch int) []float32 {
	t.Helper()
	size := m.Spec.InputSize()
	n := len(x) / size
	e, err := infer.New(m, infer.Options{Batch: min(batch, n)})
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for i := 0; i < n; i += e.Batch() {
		k := min(e.Batch(), n-i)
		y, err := e.Forward(x[i*size:(i+k)*size], k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, y...)
	}
	return out
}

// predict runs spred predict and reads the logits it wrote.
func predict(t *testing.T, args ...string) *npy.Array {
	t.Helper()
	code, stdout, stderr := runApp(t, append([]string{"predict"}, args...)...)
	if code != 0 {
		t.Fatalf("spred predict %v: exit %d: %s", args, code, stderr)
	}
	if !strings.HasPrefix(stdout, "wrote ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout %q", stdout)
	}
	for i, a := range args {
		if a == "--out" {
			y, err := npy.ReadFile(args[i+1])
			if err != nil {
				t.Fatal(err)
			}
			return y
		}
	}
	t.Fatal("no --out")
	return nil
}

func sameLogits(t *testing.T, what string, got *npy.Array, n, classes int, want []float32) {
	t.Helper()
	if len(got.Shape) != 2 || got.Shape[0] != n || got.Shape[1] != classes {
		t.Fatalf("%s: logits of shape %v, want [%d %d]", what, got.Shape, n, classes)
	}
	for i := range want {
		if math.Float32bits(got.Data[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: logit %d is %g, the engine gives %g", what, i, got.Data[i], want[i])
		}
	}
}

// TestPredictMatchesEngine: spred predict writes exactly the logits the
// inference engine computes, for dense and sparse safetensors files and for
// the ONNX file interop.WriteFile writes of the same model, with a partial
// last batch; an MLP also takes image-shaped inputs of its flat size.
func TestPredictMatchesEngine(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		zoo   string
		input []int // per sample, as the array holds it
		batch int   // --batch; 0 leaves the default, 256
	}{
		{"lenet-5", []int{1, 28, 28}, 3},
		{"lenet-300-100", []int{1, 28, 28}, 0},
		{"lenet-300-100", []int{784}, 4},
		{"resnet-8", []int{3, 32, 32}, 2},
	} {
		t.Run(fmt.Sprintf("%s/%v/batch%d", c.zoo, c.input, c.batch), func(t *testing.T) {
			dense, m := prunedModel(t, dir, c.zoo, 0.3)
			sparse := filepath.Join(dir, c.zoo+"-sparse.safetensors")
			if err := models.WriteSparseFile(sparse, m); err != nil {
				t.Fatal(err)
			}
			onnxPath := filepath.Join(dir, c.zoo+".onnx")
			if err := interop.WriteFile(onnxPath, m, interop.ExportOptions{}); err != nil {
				t.Fatal(err)
			}
			imported, _, err := interop.ReadFile(onnxPath, interop.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const n = 7
			in := filepath.Join(dir, "x.npy")
			x := randomArray(t, in, n, c.input, 3)
			batch := c.batch
			if batch == 0 {
				batch = 256
			}
			classes := m.Spec.Classes()
			want := enginePredict(t, m, x.Data, batch)
			for _, f := range []struct {
				name, path string
				want       []float32
			}{
				{"dense", dense, want},
				{"sparse", sparse, want},
				{"onnx", onnxPath, enginePredict(t, imported, x.Data, batch)},
			} {
				args := []string{"--model", f.path, "--input", in, "--out", filepath.Join(dir, f.name+".npy")}
				if c.batch != 0 {
					args = append(args, "--batch", fmt.Sprint(c.batch))
				}
				sameLogits(t, f.name, predict(t, args...), n, classes, f.want)
			}
			// The ONNX file holds the same model: its logits agree with the
			// safetensors file's up to rounding.
			onnxLogits := enginePredict(t, imported, x.Data, batch)
			for i := range want {
				if d := math.Abs(float64(onnxLogits[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("logit %d: %g from the ONNX file, %g from the safetensors file", i, onnxLogits[i], want[i])
				}
			}
		})
	}
}

// TestPredictFloat64: a float64 array gives the logits of its values
// rounded to float32.
func TestPredictFloat64(t *testing.T) {
	dir := t.TempDir()
	model, m := prunedModel(t, dir, "lenet-300-100", 1)
	x := randomArray(t, filepath.Join(dir, "x32.npy"), 3, []int{784}, 5)
	// The same values as float64, in a file built by hand.
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 784), }"
	f64 := []byte("\x93NUMPY\x01\x00\x76\x00" + dict + strings.Repeat(" ", 118-len(dict)-1) + "\n")
	for _, v := range x.Data {
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(v)))
	}
	in := filepath.Join(dir, "x64.npy")
	if err := os.WriteFile(in, f64, 0o644); err != nil {
		t.Fatal(err)
	}
	got := predict(t, "--model", model, "--input", in, "--out", filepath.Join(dir, "y.npy"))
	sameLogits(t, "float64", got, 3, 10, enginePredict(t, m, x.Data, 256))
}
