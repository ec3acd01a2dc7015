package models_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// prune zeroes the prunable weights of m except a fraction keep of them,
// chosen with a seeded random stream, and returns m.
func prune(t testing.TB, m *models.Model, keep float64, seed int64) *models.Model {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	for _, p := range m.Params.Prunable() {
		vals := p.Float64s()
		for i := range vals {
			if rng.Float64() >= keep {
				vals[i] = 0
			}
		}
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func encodeSparse(t testing.TB, m *models.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := models.EncodeSparse(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sparseMeta returns the MetaSparse entries of a file (nil if none).
func sparseMeta(t testing.TB, b []byte) map[string]models.SparseEntry {
	t.Helper()
	h, _ := splitFile(t, b)
	js, ok := h["__metadata__"].(map[string]any)[models.MetaSparse].(string)
	if !ok {
		return nil
	}
	var out map[string]models.SparseEntry
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// wideSpec is a 64-64-2 MLP, wide enough for the index form.
func wideSpec() models.Spec {
	return models.Spec{
		Name:  "wide",
		Input: []int{64},
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 64}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 2},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// wantEncoding is the form EncodeSparse should pick for n values of which
// k are stored: the smallest, with 192 bytes of header for a sparse form,
// dense on ties, and the index form only when n ≤ 8·MaxSparseExpansion·k
// (512·k).
func wantEncoding(n, k int) string {
	dense, mask, index := 4*n, (n+7)/8+4*k+192, 8*k+192
	indexOK := k > 0 && n <= 512*k
	switch {
	case dense <= mask && (!indexOK || dense <= index):
		return ""
	case indexOK && index < mask:
		return models.EncodingIndex
	}
	return models.EncodingBitmask
}

func TestSparseRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		spec models.Spec
		keep float64
		// the forms that must occur among the parameters
		forms []string
	}{
		{"tiny dense", tinySpec(), 1, []string{""}},
		{"tiny all zero", tinySpec(), 0, []string{""}}, // too small to gain
		{"wide all zero", wideSpec(), 0, []string{models.EncodingBitmask}},
		{"wide 10%", wideSpec(), 0.1, []string{"", models.EncodingBitmask}},
		{"wide 1%", wideSpec(), 0.01, []string{"", models.EncodingIndex}},
		{"lenet-300-100 10%", must(models.Lookup("lenet-300-100")), 0.1, []string{"", models.EncodingBitmask}},
		{"lenet-300-100 1%", must(models.Lookup("lenet-300-100")), 0.01, []string{"", models.EncodingIndex}},
		{"lenet-5 5%", must(models.Lookup("lenet-5")), 0.05, []string{"", models.EncodingBitmask}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := prune(t, newModel(t, c.spec, tensor.Float32), c.keep, 2)
			b := encodeSparse(t, m)
			got, err := decode(b)
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, m, got)
			meta := sparseMeta(t, b)
			seen := map[string]bool{}
			for _, p := range m.Params.All() {
				want := wantEncoding(p.Len(), p.NonZero())
				e, ok := meta[p.Name]
				if e.Encoding != want || ok != (want != "") {
					t.Errorf("%s (%d of %d stored) stored as %q, want %q", p.Name, p.NonZero(), p.Len(), e.Encoding, want)
				}
				if ok && (e.Stored != p.NonZero() || !reflect.DeepEqual(e.Shape, p.Shape())) {
					t.Errorf("%s: entry %+v, want %d stored of shape %v", p.Name, e, p.NonZero(), p.Shape())
				}
				seen[want] = true
			}
			for _, f := range c.forms {
				if !seen[f] {
					t.Errorf("no parameter stored in form %q", f)
				}
			}
			if meta == nil && !bytes.Equal(b, encode(t, m)) {
				t.Error("a file with nothing stored sparse differs from the dense file")
			}
			if again := encodeSparse(t, m); !bytes.Equal(b, again) {
				t.Error("encoding the same model twice gives different bytes")
			}
			size, err := models.EncodedSize(m, true)
			if err != nil || size != int64(len(b)) {
				t.Errorf("EncodedSize(sparse) = %d, %v; the file has %d bytes", size, err, len(b))
			}
			dense := encode(t, m)
			if len(b) > len(dense) {
				t.Errorf("sparse file %d bytes, dense %d", len(b), len(dense))
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSparseNegativeZero: -0 is stored, so the round trip is bit for bit.
func TestSparseNegativeZero(t *testing.T) {
	m := prune(t, newModel(t, wideSpec(), tensor.Float32), 0.05, 3)
	w := m.Params.Get("fc1/W").Value.Data().([]float32)
	w[0], w[7] = float32(math.Copysign(0, -1)), 0
	got, err := decode(encodeSparse(t, m))
	if err != nil {
		t.Fatal(err)
	}
	g := got.Params.Get("fc1/W").Value.Data().([]float32)
	if math.Float32bits(g[0]) != 1<<31 || math.Float32bits(g[7]) != 0 {
		t.Errorf("got %v (bits %x) and %v, want -0 and +0", g[0], math.Float32bits(g[0]), g[7])
	}
	sameModel(t, m, got)
}

// TestSparseSizeAtTenfold: at 10× compression of the prunable weights the
// native sparse file is at least 5× smaller than the dense one.
func TestSparseSizeAtTenfold(t *testing.T) {
	for _, name := range []string{"lenet-300-100", "lenet-5"} {
		m := prune(t, newModel(t, must(models.Lookup(name)), tensor.Float32), 0.1, 4)
		dense, err := models.EncodedSize(m, false)
		if err != nil {
			t.Fatal(err)
		}
		sparse, err := models.EncodedSize(m, true)
		if err != nil {
			t.Fatal(err)
		}
		if ratio := float64(dense) / float64(sparse); ratio < 5 {
			t.Errorf("%s at 10×: dense %d bytes, sparse %d: only %.2f× smaller", name, dense, sparse, ratio)
		} else {
			t.Logf("%s at 10×: dense %d bytes, sparse %d, %.2f× smaller", name, dense, sparse, ratio)
		}
	}
}

func TestWriteSparseFileReadFile(t *testing.T) {
	m := prune(t, newModel(t, wideSpec(), tensor.Float64), 0.2, 5)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := models.WriteSparseFile(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := models.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m, got)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sparse, err := models.IsSparseFile(bytes.NewReader(b), int64(len(b))); !sparse || err != nil {
		t.Errorf("IsSparseFile = %v, %v", sparse, err)
	}
	dense := encode(t, m)
	if sparse, err := models.IsSparseFile(bytes.NewReader(dense), int64(len(dense))); sparse || err != nil {
		t.Errorf("IsSparseFile(dense) = %v, %v", sparse, err)
	}
	nan := newModel(t, tinySpec(), tensor.Float32)
	nan.Params.Get("fc2/W").Value.Data().([]float32)[1] = float32(math.Inf(1))
	if err := models.WriteSparseFile(filepath.Join(t.TempDir(), "x"), nan); err == nil || !strings.Contains(err.Error(), "fc2/W") {
		t.Errorf("Inf weight: got %v, want an error naming fc2/W", err)
	}
}

// sparseTensor is one tensor of a hand-built file.
type sparseTensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// handFile assembles a safetensors file of the tiny spec from tensors laid
// out in order, with meta as the MetaSparse metadata (omitted when nil).
func handFile(t testing.TB, meta any, tensors []sparseTensor) []byte {
	t.Helper()
	return specFile(t, tinySpec(), meta, tensors)
}

// specFile is handFile for any spec.
func specFile(t testing.TB, s models.Spec, meta any, tensors []sparseTensor) []byte {
	t.Helper()
	spec, _ := models.MarshalSpec(s)
	md := map[string]string{models.MetaSpec: string(spec)}
	if meta != nil {
		js, err := json.Marshal(meta)
		if err != nil {
			t.Fatal(err)
		}
		md[models.MetaSparse] = string(js)
	}
	h := map[string]any{"__metadata__": md}
	var data []byte
	for _, ts := range tensors {
		h[ts.name] = map[string]any{"dtype": ts.dtype, "shape": ts.shape, "data_offsets": []int{len(data), len(data) + len(ts.data)}}
		data = append(data, ts.data...)
	}
	return buildFile(t, h, data)
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func TestDecodeSparseHandMade(t *testing.T) {
	// fc1/W [4 3] holds 2 at position 1 and -3 at position 10; the rest of
	// the tiny spec is dense.
	rest := []sparseTensor{
		{"fc1/b", "F32", []int{3}, f32s(0.5, 0, -0.5)},
		{"fc2/W", "F32", []int{3, 2}, f32s(1, 2, 3, 4, 5, 6)},
		{"fc2/b", "F32", []int{2}, f32s(0, 1)},
	}
	bitmask := func(mask []byte, values []byte, entry map[string]any) []byte {
		return handFile(t, map[string]any{"fc1/W": entry}, append([]sparseTensor{
			{"fc1/W.mask", "U8", []int{len(mask)}, mask},
			{"fc1/W.values", "F32", []int{len(values) / 4}, values},
		}, rest...))
	}
	entry := func(enc string, stored int) map[string]any {
		return map[string]any{"encoding": enc, "shape": []int{4, 3}, "stored": stored}
	}
	want := []float64{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, -3, 0}

	good := bitmask([]byte{0x02, 0x04}, f32s(2, -3), entry("bitmask", 2))
	m, err := decode(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Params.Get("fc1/W").Float64s(); !reflect.DeepEqual(got, want) || !m.Params.Get("fc1/W").Prunable {
		t.Fatalf("fc1/W = %v, want %v", got, want)
	}
	index := handFile(t, map[string]any{"fc1/W": entry("index", 2)}, append([]sparseTensor{
		{"fc1/W.index", "U32", []int{2}, u32s(1, 10)},
		{"fc1/W.values", "F32", []int{2}, f32s(2, -3)},
	}, rest...))
	if m, err := decode(index); err != nil || !reflect.DeepEqual(m.Params.Get("fc1/W").Float64s(), want) {
		t.Fatalf("index form: %v, %v", m, err)
	}

	indexFile := func(idx []byte, stored int) []byte {
		return handFile(t, map[string]any{"fc1/W": entry("index", stored)}, append([]sparseTensor{
			{"fc1/W.index", "U32", []int{len(idx) / 4}, idx},
			{"fc1/W.values", "F32", []int{len(idx) / 4}, f32s(make([]float32, len(idx)/4)...)},
		}, rest...))
	}
	cases := []struct {
		name    string
		file    []byte
		mention []string
	}{
		{"metadata not JSON", handFile(t, "{", nil), []string{models.MetaSparse}},
		{"unknown field", bitmask([]byte{2, 4}, f32s(2, -3), map[string]any{"encoding": "bitmask", "shape": []int{4, 3}, "stored": 2, "x": 1}), []string{models.MetaSparse, "x"}},
		{"unknown encoding", bitmask([]byte{2, 4}, f32s(2, -3), entry("rle", 2)), []string{"fc1/W", "rle"}},
		{"not a parameter", handFile(t, map[string]any{"fc9/W": entry("bitmask", 0)}, nil), []string{"fc9/W", "not a parameter"}},
		{"shape differs", bitmask([]byte{2, 4}, f32s(2, -3), map[string]any{"encoding": "bitmask", "shape": []int{3, 4}, "stored": 2}), []string{"fc1/W", "[3 4]"}},
		{"stored over size", bitmask([]byte{2, 4}, f32s(2, -3), entry("bitmask", 13)), []string{"fc1/W", "13"}},
		{"stored negative", bitmask([]byte{2, 4}, f32s(2, -3), entry("bitmask", -1)), []string{"fc1/W", "-1"}},
		{"mask missing", handFile(t, map[string]any{"fc1/W": entry("bitmask", 2)}, append([]sparseTensor{{"fc1/W.values", "F32", []int{2}, f32s(2, -3)}}, rest...)), []string{"fc1/W.mask", "missing"}},
		{"mask too short", bitmask([]byte{2}, f32s(2, -3), entry("bitmask", 2)), []string{"fc1/W.mask", "U8 [2]"}},
		{"values count differs", bitmask([]byte{2, 4}, f32s(2, -3, 1), entry("bitmask", 2)), []string{"fc1/W.values", "F32 [2]"}},
		{"bits and values disagree", bitmask([]byte{3, 4}, f32s(2, -3), entry("bitmask", 2)), []string{"fc1/W.mask", "3 bits set"}},
		{"bits past the end", bitmask([]byte{2, 0x14}, f32s(2, -3), entry("bitmask", 2)), []string{"fc1/W.mask", "past the last"}},
		{"NaN value", bitmask([]byte{2, 4}, f32s(2, float32(math.NaN())), entry("bitmask", 2)), []string{"fc1/W.values", "NaN"}},
		{"index out of order", indexFile(u32s(10, 1), 2), []string{"fc1/W.index", "out of order"}},
		{"index repeated", indexFile(u32s(1, 1), 2), []string{"fc1/W.index", "out of order"}},
		{"index past the end", indexFile(u32s(1, 12), 2), []string{"fc1/W.index", "12"}},
		{"index with nothing stored", indexFile(nil, 0), []string{"fc1/W", "index form"}},
		{"both dense and sparse", handFile(t, map[string]any{"fc1/W": entry("bitmask", 2)}, append([]sparseTensor{
			{"fc1/W", "F32", []int{4, 3}, make([]byte, 48)},
			{"fc1/W.mask", "U8", []int{2}, []byte{2, 4}},
			{"fc1/W.values", "F32", []int{2}, f32s(2, -3)},
		}, rest...)), []string{"fc1/W", "both dense and sparse"}},
		{"leftover sparse tensor", handFile(t, nil, append([]sparseTensor{
			{"fc1/W", "F32", []int{4, 3}, make([]byte, 48)},
			{"fc1/W.mask", "U8", []int{2}, []byte{2, 4}},
		}, rest...)), []string{"fc1/W.mask", "not a parameter"}},
		{"U8 dense parameter", handFile(t, nil, append([]sparseTensor{{"fc1/W", "U8", []int{4, 3}, make([]byte, 12)}}, rest...)), []string{"fc1/W", `unsupported dtype "U8"`}},
		{"U32 dense parameter", handFile(t, nil, append([]sparseTensor{{"fc1/W", "U32", []int{4, 3}, make([]byte, 48)}}, rest...)), []string{"fc1/W", `unsupported dtype "U32"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.file)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !errors.Is(err, models.ErrFormat) {
				t.Errorf("error does not match ErrFormat: %v", err)
			}
			for _, s := range c.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestSparseIndexSpread: the index form is refused where it would expand
// to more than MaxSparseExpansion values per byte (512 values per stored
// value), and the encoder falls back to the bitmask there.
func TestSparseIndexSpread(t *testing.T) {
	spec := models.Spec{Name: "big", Input: []int{300}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 100}}, Loss: models.LossSoftmaxCrossEntropy}
	m := newModel(t, spec, tensor.Float32)
	w := m.Params.Get("fc/W").Value.Data().([]float32)
	for i := range w {
		w[i] = 0
	}
	w[29999] = 1 // one value in 30000 > 512
	b := encodeSparse(t, m)
	if e := sparseMeta(t, b)["fc/W"]; e.Encoding != models.EncodingBitmask || e.Stored != 1 {
		t.Errorf("fc/W stored as %+v, want a bitmask of 1", e)
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m, got)
	for i := range 57 {
		w[i] = 1 // with w[29999], 58 in 30000: 517 each, still over
	}
	if e := sparseMeta(t, encodeSparse(t, m))["fc/W"]; e.Encoding != models.EncodingBitmask {
		t.Errorf("58 of 30000: stored as %+v, want a bitmask", e)
	}
	w[100] = 1 // 59: 508 each, the index form (664 bytes) is smaller than the mask (4178)
	b = encodeSparse(t, m)
	if e := sparseMeta(t, b)["fc/W"]; e.Encoding != models.EncodingIndex {
		t.Errorf("59 of 30000: stored as %+v, want an index", e)
	}
	if got, err := decode(b); err != nil {
		t.Fatal(err)
	} else {
		sameModel(t, m, got)
	}
}

// TestSparseExpansionLimit: a small file whose index form claims a weight
// of 8192 slots per stored value (4 MiB of float32 from 4 kB of index and
// values) is refused before anything is allocated, with an error naming
// the limit.
func TestSparseExpansionLimit(t *testing.T) {
	const k = 512
	spec := models.Spec{Name: "spread", Input: []int{8192}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: k, NoBias: true}}, Loss: models.LossSoftmaxCrossEntropy}
	pos := make([]uint32, k)
	for j := range pos {
		pos[j] = uint32(j * 8192)
	}
	vals := make([]float32, k)
	for j := range vals {
		vals[j] = 1
	}
	for _, c := range []struct {
		name  string
		slots int // per stored value
		ok    bool
	}{{"8192 slots per value", 8192, false}, {"513 slots per value", 513, false}, {"512 slots per value", 512, true}} {
		t.Run(c.name, func(t *testing.T) {
			s := spec
			s.Input = []int{c.slots}
			for j := range pos {
				pos[j] = uint32(j * c.slots)
			}
			b := specFile(t, s, map[string]any{"fc/W": map[string]any{"encoding": "index", "shape": []int{c.slots, k}, "stored": k}}, []sparseTensor{
				{"fc/W.index", "U32", []int{k}, u32s(pos...)},
				{"fc/W.values", "F32", []int{k}, f32s(vals...)},
			})
			_, err := decode(b)
			if c.ok {
				if err != nil {
					t.Fatalf("%d-byte file refused: %v", len(b), err)
				}
				return
			}
			if !errors.Is(err, models.ErrFormat) || !strings.Contains(err.Error(), "MaxSparseExpansion") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%d-byte file: got %v, want a one-line ErrFormat naming MaxSparseExpansion", len(b), err)
			}
		})
	}
}

// TestPythonSparseReader reads a sparse file with a standard-library Python
// reader that expands the sparse tensors on its own.
func TestPythonSparseReader(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s not found (%v): skipping the cross-check with the Python sparse reader", python, err)
	}
	m := prune(t, newModel(t, must(models.Lookup("lenet-300-100")), tensor.Float32), 0.02, 6)
	path := filepath.Join(t.TempDir(), "sparse.safetensors")
	if err := models.WriteSparseFile(path, m); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/read_sparse_safetensors.py", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python reader: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]struct {
		Encoding string  `json:"encoding"`
		Shape    []int   `json:"shape"`
		NonZero  int     `json:"nonzero"`
		Sum      float64 `json:"sum"`
		Weighted float64 `json:"weighted"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	meta := sparseMeta(t, encodeSparse(t, m))
	if len(got) != len(m.Params.All()) {
		t.Errorf("python sees %d parameters, want %d", len(got), len(m.Params.All()))
	}
	for _, p := range m.Params.All() {
		g, ok := got[p.Name]
		if !ok {
			t.Errorf("python does not see %q", p.Name)
			continue
		}
		var sum, weighted float64
		for i, v := range p.Float64s() {
			sum += v
			weighted += float64(i%97) * v
		}
		if g.Encoding != meta[p.Name].Encoding || !reflect.DeepEqual(g.Shape, p.Shape()) || g.NonZero != p.NonZero() ||
			math.Abs(g.Sum-sum) > 1e-9*math.Max(1, math.Abs(sum)) || math.Abs(g.Weighted-weighted) > 1e-9*math.Max(1, math.Abs(weighted)) {
			t.Errorf("%s: python sees %+v, want encoding %q shape %v, %d non-zero, sum %v, weighted %v", p.Name, g, meta[p.Name].Encoding, p.Shape(), p.NonZero(), sum, weighted)
		}
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzDecodeSparse: no file makes Decode panic or allocate more than a
// small multiple of MaxSparseExpansion values per byte; every failure is a
// one-line ErrFormat, and what it reads survives a sparse round trip.
func FuzzDecodeSparse(f *testing.F) {
	for _, keep := range []float64{0, 0.1} {
		f.Add(encodeSparse(f, prune(f, newModel(f, wideSpec(), tensor.Float32), keep, 7)))
	}
	wide := encodeSparse(f, prune(f, newModel(f, wideSpec(), tensor.Float32), 0.01, 8))
	f.Add(wide)
	f.Add(wide[:len(wide)-3])
	rest := []sparseTensor{
		{"fc1/b", "F32", []int{3}, f32s(0.5, 0, -0.5)},
		{"fc2/W", "F32", []int{3, 2}, f32s(1, 2, 3, 4, 5, 6)},
		{"fc2/b", "F32", []int{2}, f32s(0, 1)},
	}
	f.Add(handFile(f, map[string]any{"fc1/W": map[string]any{"encoding": "bitmask", "shape": []int{4, 3}, "stored": 2}}, append([]sparseTensor{
		{"fc1/W.mask", "U8", []int{2}, []byte{2, 4}},
		{"fc1/W.values", "F32", []int{2}, f32s(2, -3)},
	}, rest...)))
	f.Add(handFile(f, map[string]any{"fc1/W": map[string]any{"encoding": "index", "shape": []int{4, 3}, "stored": 2}}, append([]sparseTensor{
		{"fc1/W.index", "U32", []int{2}, u32s(1, 10)},
		{"fc1/W.values", "F32", []int{2}, f32s(2, -3)},
	}, rest...)))
	// The index form at the limit (512 slots per stored value) and over it.
	for _, slots := range []int{512, 513} {
		pos := make([]uint32, 4)
		for j := range pos {
			pos[j] = uint32(j * slots)
		}
		spec := models.Spec{Name: "spread", Input: []int{slots}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 4, NoBias: true}}, Loss: models.LossSoftmaxCrossEntropy}
		f.Add(specFile(f, spec, map[string]any{"fc/W": map[string]any{"encoding": "index", "shape": []int{slots, 4}, "stored": 4}}, []sparseTensor{
			{"fc/W.index", "U32", []int{4}, u32s(pos...)},
			{"fc/W.values", "F32", []int{4}, f32s(1, 2, 3, 4)},
		}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m *models.Model
		var err error
		// At most MaxSparseExpansion values (4 bytes each) per byte, a few
		// times over (the header's JSON, the copies).
		if alloc := allocated(func() { m, err = decode(data) }); alloc > 8*4*models.MaxSparseExpansion*uint64(len(data))+4<<20 {
			t.Fatalf("%d-byte file allocated %d bytes", len(data), alloc)
		}
		if err == nil {
			values := 0
			for _, p := range m.Params.All() {
				values += p.Len()
			}
			if values > models.MaxSparseExpansion*len(data) {
				t.Fatalf("%d-byte file expanded to %d values", len(data), values)
			}
		}
		if err != nil {
			if !errors.Is(err, models.ErrFormat) {
				t.Fatalf("error does not match ErrFormat: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("message has several lines: %q", err)
			}
			return
		}
		again, err := decode(encodeSparse(t, m))
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		sameModel(t, m, again)
	})
}
