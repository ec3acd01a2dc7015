package npy

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/interop/interoptest"
)

// python runs a NumPy script with dir as its argument and returns its
// standard output; the test is skipped when NumPy is missing (failed with
// SPRED_REQUIRE_INTEROP=1).
func python(t *testing.T, script, dir string) []byte {
	t.Helper()
	py := interoptest.PythonWith(t, "numpy")
	out, err := exec.Command(py, "-c", script, dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return out
}

// TestReadNumPyFiles reads files numpy.save and numpy.lib.format write:
// float32 and float64, versions 1.0 to 3.0, a scalar, an empty array; and
// refuses the ones it does not read with the documented message.
func TestReadNumPyFiles(t *testing.T) {
	dir := t.TempDir()
	python(t, `
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
a = np.arange(24, dtype='<f4').reshape(2, 3, 4) / 7
np.save(d + '/f4.npy', a)
np.save(d + '/f8.npy', np.arange(5) / 3)
np.save(d + '/scalar.npy', np.float32(2.5))
np.save(d + '/empty.npy', np.zeros((0, 5), dtype='<f4'))
np.save(d + '/image.npy', np.full((3, 1, 28, 28), -0.25, dtype='<f4'))
for v in (2, 3):
    with open(d + '/v%d.npy' % v, 'wb') as f:
        fmt.write_array(f, a, version=(v, 0))
np.save(d + '/fortran.npy', np.asfortranarray(a))
np.save(d + '/big.npy', a.astype('>f4'))
np.save(d + '/int.npy', np.arange(3))
np.save(d + '/u8.npy', np.arange(3, dtype=np.uint8))
np.save(d + '/f2.npy', np.arange(3, dtype=np.float16))
with open(d + '/truncated.npy', 'wb') as f:
    f.write(open(d + '/f4.npy', 'rb').read()[:-5])
`, dir)
	f4 := make([]float32, 24)
	for i := range f4 {
		f4[i] = float32(i) / 7
	}
	f8 := make([]float32, 5)
	for i := range f8 {
		f8[i] = float32(float64(i) / 3)
	}
	image := make([]float32, 3*28*28)
	for i := range image {
		image[i] = -0.25
	}
	for name, want := range map[string]*Array{
		"f4":     {[]int{2, 3, 4}, f4},
		"v2":     {[]int{2, 3, 4}, f4},
		"v3":     {[]int{2, 3, 4}, f4},
		"f8":     {[]int{5}, f8},
		"scalar": {[]int{}, []float32{2.5}},
		"empty":  {[]int{0, 5}, []float32{}},
		"image":  {[]int{3, 1, 28, 28}, image},
	} {
		got, err := ReadFile(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !sameBits(got, want) {
			t.Errorf("%s: got %v %v, want %v %v", name, got.Shape, got.Data, want.Shape, want.Data)
		}
	}
	for name, msg := range map[string]string{
		"fortran":   "array of shape [2 3 4] is in Fortran order",
		"big":       "dtype '>f4' is big-endian",
		"int":       "dtype '<i8' is not read",
		"u8":        "dtype '|u1' is not read",
		"f2":        "dtype '<f2' is not read",
		"truncated": "truncated: shape [2 3 4] of '<f4' needs 96 data bytes, the file has 91",
	} {
		if _, err := ReadFile(filepath.Join(dir, name+".npy")); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, msg)
		}
	}
}

// TestWriteMatchesNumPy: NumPy reads what Write writes (shape, dtype,
// C order, values), and numpy.save writes the same bytes for the same
// float32 array.
func TestWriteMatchesNumPy(t *testing.T) {
	dir := t.TempDir()
	arrays := map[string]*Array{
		"matrix": {[]int{2, 3}, []float32{1, -2.5, float32(math.Pi), 1e-30, 0, 3e38}},
		"vector": {[]int{4}, []float32{0.1, 0.2, 0.3, 0.4}},
		"scalar": {[]int{}, []float32{7}},
		"empty":  {[]int{0, 10}, nil},
		"image":  {[]int{2, 1, 3, 3}, make([]float32, 18)},
	}
	for name, a := range arrays {
		if err := WriteFile(filepath.Join(dir, name+".npy"), a); err != nil {
			t.Fatal(err)
		}
	}
	out := python(t, `
import sys, json, os, numpy as np
d = sys.argv[1]
res = {}
for f in sorted(os.listdir(d)):
    if not f.endswith('.npy') or f.startswith('np_'):
        continue
    a = np.load(os.path.join(d, f))
    np.save(os.path.join(d, 'np_' + f), a)
    res[f[:-4]] = {'shape': list(a.shape), 'dtype': a.dtype.str, 'c': bool(a.flags.c_contiguous),
                   'values': [float(v) for v in a.ravel()]}
print(json.dumps(res))
`, dir)
	var got map[string]struct {
		Shape  []int     `json:"shape"`
		Dtype  string    `json:"dtype"`
		C      bool      `json:"c"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for name, a := range arrays {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: NumPy did not read it", name)
			continue
		}
		if g.Dtype != "<f4" || !g.C || !sameBits(&Array{Shape: g.Shape, Data: float32s(g.Values)}, &Array{Shape: a.Shape, Data: append([]float32{}, a.Data...)}) {
			t.Errorf("%s: NumPy read %+v, wrote %v %v", name, g, a.Shape, a.Data)
		}
		ours, err := os.ReadFile(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join(dir, "np_"+name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if string(ours) != string(theirs) {
			t.Errorf("%s: numpy.save writes\n%q, we write\n%q", name, theirs, ours)
		}
	}
}

func float32s(vs []float64) []float32 {
	out := make([]float32, len(vs))
	for i, v := range vs {
		out[i] = float32(v)
	}
	return out
}
