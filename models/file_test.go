package models_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spred-go/spred/models"
	"gorgonia.org/tensor"
)

// tinySpec is a 4-3-2 MLP: fc1/W [4 3] at bytes 0-48, fc1/b [3] at 48-60,
// fc2/W [3 2] at 60-84, fc2/b [2] at 84-92 of the data section.
func tinySpec() models.Spec {
	return models.Spec{
		Name:  "tiny",
		Input: []int{4},
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 3}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 2},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// newModel makes a model of spec with random weights, non-zero biases and a
// full provenance.
func newModel(t testing.TB, spec models.Spec, dt tensor.Dtype) *models.Model {
	t.Helper()
	m, err := models.New(spec, dt, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		if p.Prunable {
			continue
		}
		vals := make([]float64, p.Len())
		for i := range vals {
			vals[i] = 0.01*float64(i) - 0.1/3
		}
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
	}
	acc, loss := 0.9812, 0.0625
	m.Meta = models.Provenance{
		Tool: "spred test", Seed: 1, Data: "mnist", Accuracy: &acc, Loss: &loss,
		Extra: map[string]string{"command": "spred train", "lambda": "1e-4"},
	}
	return m
}

func encode(t testing.TB, m *models.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := models.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(b []byte) (*models.Model, error) {
	return models.Decode(bytes.NewReader(b), int64(len(b)))
}

// sameModel checks that got equals want, every value bit for bit after
// conversion to float32.
func sameModel(t testing.TB, want, got *models.Model) {
	t.Helper()
	if !reflect.DeepEqual(want.Spec, got.Spec) {
		t.Fatalf("spec: got %+v, want %+v", got.Spec, want.Spec)
	}
	if !reflect.DeepEqual(want.Meta, got.Meta) {
		t.Fatalf("provenance: got %+v, want %+v", got.Meta, want.Meta)
	}
	wps, gps := want.Params.All(), got.Params.All()
	if len(wps) != len(gps) {
		t.Fatalf("%d params, want %d", len(gps), len(wps))
	}
	for i, w := range wps {
		g := gps[i]
		if g.Name != w.Name || g.Prunable != w.Prunable || !reflect.DeepEqual(g.Shape(), w.Shape()) {
			t.Fatalf("param %d: got %q prunable=%v %v, want %q prunable=%v %v", i, g.Name, g.Prunable, g.Shape(), w.Name, w.Prunable, w.Shape())
		}
		if g.Value.Dtype() != tensor.Float32 {
			t.Fatalf("param %q: dtype %v, want float32", g.Name, g.Value.Dtype())
		}
		gv, wv := g.Float64s(), w.Float64s()
		for j := range wv {
			if math.Float32bits(float32(gv[j])) != math.Float32bits(float32(wv[j])) {
				t.Fatalf("param %q value %d: got %v, want %v", g.Name, j, gv[j], float32(wv[j]))
			}
		}
	}
}

func TestRoundTripZoo(t *testing.T) {
	for _, name := range []string{"lenet-300-100", "lenet-5"} {
		t.Run(name, func(t *testing.T) {
			spec, err := models.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			m := newModel(t, spec, tensor.Float32)
			got, err := decode(encode(t, m))
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, m, got)
		})
	}
}

func TestFloat64WrittenAsF32(t *testing.T) {
	m64 := newModel(t, tinySpec(), tensor.Float64)
	b := encode(t, m64)
	h, _ := splitFile(t, b)
	for name, v := range h {
		if name == "__metadata__" {
			continue
		}
		if dt := v.(map[string]any)["dtype"]; dt != "F32" {
			t.Errorf("tensor %q written as %v, want F32", name, dt)
		}
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m64, got)

	// The bytes are those of the same model converted to float32 first.
	ps32, err := m64.Params.AsType(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	m32 := *m64
	m32.Params = ps32
	if !bytes.Equal(b, encode(t, &m32)) {
		t.Error("float64 model encodes differently from its float32 conversion")
	}
}

func TestEncodeDeterministic(t *testing.T) {
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, spec, tensor.Float32)
	a := encode(t, m)
	c := *m
	c.Params = m.Params.Clone()
	if b := encode(t, &c); !bytes.Equal(a, b) {
		t.Fatal("encoding the same model twice gives different bytes")
	}
}

func TestEncodeLayout(t *testing.T) {
	m := newModel(t, tinySpec(), tensor.Float32)
	b := encode(t, m)
	n := binary.LittleEndian.Uint64(b)
	if (8+n)%8 != 0 || b[8] != '{' {
		t.Fatalf("header length %d: data not 8-byte aligned or header not an object", n)
	}
	h, data := splitFile(t, b)
	meta := h["__metadata__"].(map[string]any)
	spec, _ := models.MarshalSpec(m.Spec)
	prov, _ := json.Marshal(m.Meta)
	want := map[string]any{models.MetaFormat: models.FormatName, models.MetaSpec: string(spec), models.MetaProvenance: string(prov)}
	if !reflect.DeepEqual(meta, want) {
		t.Errorf("metadata %v, want %v", meta, want)
	}
	var off int64
	for _, p := range m.Params.All() {
		e := h[p.Name].(map[string]any)
		offs := e["data_offsets"].([]any)
		begin, _ := offs[0].(json.Number).Int64()
		end, _ := offs[1].(json.Number).Int64()
		if begin != off || end != off+int64(4*p.Len()) {
			t.Errorf("%s: data_offsets %v, want [%d %d]", p.Name, offs, off, off+int64(4*p.Len()))
		}
		off = end
	}
	if off != int64(len(data)) {
		t.Errorf("tensors cover %d of %d data bytes", off, len(data))
	}
}

func TestEncodeRefuses(t *testing.T) {
	nan := newModel(t, tinySpec(), tensor.Float32)
	nan.Params.Get("fc2/W").Value.Data().([]float32)[3] = float32(math.NaN())
	huge := newModel(t, tinySpec(), tensor.Float64)
	huge.Params.Get("fc1/b").Value.Data().([]float64)[0] = 1e300 // Inf as float32
	wrong := newModel(t, tinySpec(), tensor.Float32)
	wrong.Spec.Layers[2].Units = 5
	percent := newModel(t, tinySpec(), tensor.Float32)
	fifty := 50.0
	percent.Meta.Accuracy = &fifty
	for _, c := range []struct {
		name    string
		m       *models.Model
		mention string
	}{{"NaN", nan, "fc2/W"}, {"out of float32 range", huge, "fc1/b"}, {"spec mismatch", wrong, "fc2/W"}, {"nil", nil, "nil"},
		{"accuracy in percent", percent, "provenance: accuracy 50 is not a fraction in [0, 1]"}} {
		err := models.Encode(&bytes.Buffer{}, c.m)
		if err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.name, err, c.mention)
		}
	}
}

func TestDecodeF64Tensors(t *testing.T) {
	m := newModel(t, tinySpec(), tensor.Float64)
	h, _ := splitFile(t, encode(t, m))
	var d64 []byte
	for _, p := range m.Params.All() {
		e := h[p.Name].(map[string]any)
		e["dtype"] = "F64"
		e["data_offsets"] = []int{len(d64), len(d64) + 8*p.Len()}
		for _, v := range p.Float64s() {
			d64 = binary.LittleEndian.AppendUint64(d64, math.Float64bits(v))
		}
	}
	got, err := decode(buildFile(t, h, d64))
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, m, got)

	binary.LittleEndian.PutUint64(d64[8:], math.Float64bits(1e300))
	_, err = decode(buildFile(t, h, d64))
	if !errors.Is(err, models.ErrFormat) || !strings.Contains(err.Error(), "fc1/W") {
		t.Errorf("F64 value beyond float32 range: got %v, want ErrFormat naming fc1/W", err)
	}
}

// splitFile parses a safetensors file into its header (numbers as
// json.Number) and data section.
func splitFile(t testing.TB, b []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	dec := json.NewDecoder(bytes.NewReader(b[8 : 8+n]))
	dec.UseNumber()
	var h map[string]any
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h, b[8+n:]
}

// buildFile assembles a safetensors file from a header value and data.
func buildFile(t testing.TB, h any, data []byte) []byte {
	t.Helper()
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return rawFile(string(hb), data)
}

func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func lengthOnly(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func TestDecodeMalformed(t *testing.T) {
	valid := encode(t, newModel(t, tinySpec(), tensor.Float32))
	// edit returns valid with its header and data changed by f.
	edit := func(f func(h, meta map[string]any, data []byte) []byte) []byte {
		h, data := splitFile(t, valid)
		data = f(h, h["__metadata__"].(map[string]any), append([]byte(nil), data...))
		return buildFile(t, h, data)
	}
	entry := func(dtype string, shape []int64, offsets ...any) map[string]any {
		return map[string]any{"dtype": dtype, "shape": shape, "data_offsets": offsets}
	}
	setSpec := func(s models.Spec) []byte {
		return edit(func(h, meta map[string]any, data []byte) []byte {
			b, _ := models.MarshalSpec(s)
			meta[models.MetaSpec] = string(b)
			return data
		})
	}
	notChaining := tinySpec()
	notChaining.Layers = append(notChaining.Layers, models.Layer{Kind: models.Conv2d, Name: "conv9", Filters: 2, Kernel: 3})
	badBits := func(off int, bits uint32) []byte {
		return edit(func(h, meta map[string]any, data []byte) []byte {
			binary.LittleEndian.PutUint32(data[off:], bits)
			return data
		})
	}

	cases := []struct {
		name    string
		file    []byte
		is      []error
		mention []string
	}{
		{"empty", nil, nil, []string{"too short"}},
		{"7 bytes", []byte("1234567"), nil, []string{"too short"}},
		{"header length larger than file", lengthOnly(1000, "{}"), nil, []string{"1000", "truncated"}},
		{"header length huge", lengthOnly(1<<63, "{}"), nil, []string{"limit"}},
		{"header length 1", lengthOnly(1, "{}"), nil, []string{"too small"}},
		{"truncated data", valid[:len(valid)-5], nil, []string{"fc2/b", "truncated"}},
		{"random bytes", []byte("\x93\x11\xfe\x00\x7f\x12\x00\x00garbage garbage garbage"), nil, []string{"header length"}},
		{"header not JSON", rawFile("not json", nil), nil, []string{"header"}},
		{"header is an array", rawFile("[1, 2]", nil), nil, []string{"not a JSON object"}},
		{"trailing data after header", rawFile(`{"__metadata__":{}} {}`, nil), nil, []string{"trailing"}},
		{"header not UTF-8", rawFile("{\"\xff\":1}", nil), nil, []string{"UTF-8"}},
		{"duplicate key", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), nil, []string{"duplicate", "__metadata__"}},
		{"10 GB tensor", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"] = entry("F32", []int64{50000, 50000}, 0, int64(10_000_000_000))
			return data
		}), nil, []string{"fc1/W", "10000000000"}},
		{"shape product overflows", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"] = entry("F32", []int64{1 << 40, 1 << 40}, 0, 48)
			return data
		}), nil, []string{"fc1/W", "2^63"}},
		{"offsets out of range", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/b"] = entry("F32", []int64{2}, 84, 100)
			return data
		}), nil, []string{"fc2/b", "[84 100]"}},
		{"offsets reversed", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/b"] = entry("F32", []int64{2}, 92, 84)
			return data
		}), nil, []string{"fc2/b"}},
		{"offset beyond int64", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/b"] = entry("F32", []int64{2}, json.Number("84"), json.Number("18446744073709551615"))
			return data
		}), nil, []string{"fc2/b", "18446744073709551615"}},
		{"three offsets", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/b"] = entry("F32", []int64{2}, 84, 92, 100)
			return data
		}), nil, []string{"fc2/b", "data_offsets"}},
		{"fractional offset", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/b"] = entry("F32", []int64{2}, json.Number("84.0"), 92)
			return data
		}), nil, []string{"fc2/b", "84.0"}},
		{"dtype I64", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/b"].(map[string]any)["dtype"] = "I64"
			return data
		}), nil, []string{"fc1/b", "I64"}},
		{"dtype XX", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/W"].(map[string]any)["dtype"] = "XX"
			return data
		}), nil, []string{"fc2/W", "XX"}},
		{"no dtype", edit(func(h, meta map[string]any, data []byte) []byte {
			delete(h["fc2/W"].(map[string]any), "dtype")
			return data
		}), nil, []string{"fc2/W", "dtype"}},
		{"unknown tensor field", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc2/W"].(map[string]any)["stride"] = 1
			return data
		}), nil, []string{"fc2/W", "stride"}},
		{"negative dimension", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"].(map[string]any)["shape"] = []int{-4, -3}
			return data
		}), nil, []string{"fc1/W", "-4"}},
		{"shape product mismatch", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"].(map[string]any)["shape"] = []int{4, 2}
			return data
		}), nil, []string{"fc1/W", "[4 2]", "32", "48"}},
		{"overlapping offsets", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/b"] = entry("F32", []int64{3}, 40, 52)
			return data
		}), nil, []string{"fc1/b", "overlap"}},
		{"extra data", edit(func(h, meta map[string]any, data []byte) []byte {
			return append(data, 0, 0, 0, 0)
		}), nil, []string{"92", "96"}},
		{"no metadata", edit(func(h, meta map[string]any, data []byte) []byte {
			delete(h, "__metadata__")
			return data
		}), nil, []string{"not a spred model file: no spred.spec metadata"}},
		{"metadata without spec", edit(func(h, meta map[string]any, data []byte) []byte {
			delete(meta, models.MetaSpec)
			return data
		}), nil, []string{"not a spred model file: no spred.spec metadata"}},
		{"metadata value not a string", edit(func(h, meta map[string]any, data []byte) []byte {
			meta["epochs"] = 5
			return data
		}), nil, []string{"epochs"}},
		{"spec not JSON", edit(func(h, meta map[string]any, data []byte) []byte {
			meta[models.MetaSpec] = "{"
			return data
		}), []error{models.ErrSpec}, []string{"spred.spec"}},
		{"spec shapes do not chain", setSpec(notChaining), []error{models.ErrSpec}, []string{"conv9"}},
		{"provenance not JSON", edit(func(h, meta map[string]any, data []byte) []byte {
			meta[models.MetaProvenance] = "["
			return data
		}), nil, []string{"spred.provenance"}},
		{"provenance accuracy in percent", edit(func(h, meta map[string]any, data []byte) []byte {
			meta[models.MetaProvenance] = `{"tool":"x","seed":1,"accuracy":50}`
			return data
		}), []error{models.ErrFormat}, []string{"spred.provenance metadata: accuracy 50 is not a fraction in [0, 1]"}},
		{"provenance loss negative", edit(func(h, meta map[string]any, data []byte) []byte {
			meta[models.MetaProvenance] = `{"seed":1,"loss":-1}`
			return data
		}), []error{models.ErrFormat}, []string{"loss -1 is not a finite number"}},
		{"param with wrong shape", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"].(map[string]any)["shape"] = []int{3, 4}
			return data
		}), []error{models.ErrParams}, []string{"fc1/W", "[3 4]", "[4 3]"}},
		{"tensor not in spec", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc9/b"] = h["fc2/b"]
			delete(h, "fc2/b")
			return data
		}), []error{models.ErrParams}, []string{"fc9/b", "[2]"}},
		{"missing tensor", edit(func(h, meta map[string]any, data []byte) []byte {
			delete(h, "fc2/b")
			return data[:84]
		}), []error{models.ErrParams}, []string{"fc2/b", "missing", "[2]"}},
		{"null dimension", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"].(map[string]any)["shape"] = []any{nil, 3}
			return data
		}), nil, []string{"fc1/W", "shape"}},
		{"rank over the limit", edit(func(h, meta map[string]any, data []byte) []byte {
			h["fc1/W"].(map[string]any)["shape"] = make([]int, 65)
			return data
		}), nil, []string{"fc1/W", "more than 64"}},
		{"too many tensors", edit(func(h, meta map[string]any, data []byte) []byte {
			for i := range 1 << 16 {
				h[fmt.Sprint("empty", i)] = entry("F32", []int64{0}, 0, 0)
			}
			return data
		}), nil, []string{"more than 65536 tensors"}},
		{"too many metadata entries", edit(func(h, meta map[string]any, data []byte) []byte {
			for i := range 1024 {
				meta[fmt.Sprint("key", i)] = ""
			}
			return data
		}), nil, []string{"__metadata__", "more than 1024"}},
		{"spec over 1 MiB", edit(func(h, meta map[string]any, data []byte) []byte {
			meta[models.MetaSpec] = strings.Repeat(" ", 1<<20+1)
			return data
		}), nil, []string{"spred.spec", "limit"}},
		{"NaN weight", badBits(4, 0x7fc00000), nil, []string{"fc1/W", "NaN"}},
		{"Inf bias", badBits(88, 0x7f800000), nil, []string{"fc2/b", "Inf"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := decode(c.file)
			if err == nil {
				t.Fatalf("decoded %v, want an error", m.Spec)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message has several lines: %q", msg)
			}
			for _, target := range append(c.is, models.ErrFormat) {
				if !errors.Is(err, target) {
					t.Errorf("%q does not match %q", msg, target)
				}
			}
			for _, s := range c.mention {
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not mention %q", msg, s)
				}
			}
		})
	}
}

func TestDecodeSizeLies(t *testing.T) {
	b := encode(t, newModel(t, tinySpec(), tensor.Float32))
	_, err := models.Decode(bytes.NewReader(b[:len(b)-20]), int64(len(b)))
	if !errors.Is(err, models.ErrFormat) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("got %v, want a truncated-file ErrFormat", err)
	}
	if _, err := models.Decode(bytes.NewReader(b), -1); !errors.Is(err, models.ErrFormat) {
		t.Errorf("negative size: got %v, want ErrFormat", err)
	}
}

func TestWriteFileReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} { // the second overwrites
		m := newModel(t, tinySpec(), dt)
		m.Meta.Seed = int64(dt.Size())
		if err := models.WriteFile(path, m); err != nil {
			t.Fatal(err)
		}
		got, err := models.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, m, got)
	}
	assertOnlyFile(t, dir, "model.safetensors")
}

func TestWriteFileMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "model.safetensors")
	err := models.WriteFile(path, newModel(t, tinySpec(), tensor.Float32))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming %s", err, path)
	}
}

func TestWriteFileFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := models.WriteFile(path, newModel(t, tinySpec(), tensor.Float32)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	bad := newModel(t, tinySpec(), tensor.Float32)
	bad.Meta.Seed = 2
	bad.Params.Get("fc2/b").Value.Data().([]float32)[1] = float32(math.Inf(-1))
	err = models.WriteFile(path, bad)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "fc2/b") {
		t.Fatalf("got %v, want an error naming %s and fc2/b", err, path)
	}

	mismatch := newModel(t, tinySpec(), tensor.Float32)
	mismatch.Spec.Layers[0].Units = 7
	if err := models.WriteFile(path, mismatch); !errors.Is(err, models.ErrParams) {
		t.Fatalf("got %v, want ErrParams", err)
	}

	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a failed write changed the previous file")
	}
	assertOnlyFile(t, dir, "model.safetensors")

	// A failure after the temporary file was written (the rename over a
	// directory fails) removes it too.
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := models.WriteFile(sub, newModel(t, tinySpec(), tensor.Float32)); err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("got %v, want an error naming %s", err, sub)
	}
	assertOnlyFile(t, dir, "model.safetensors", "sub")
}

func assertOnlyFile(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := models.ReadFile(missing); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: got %v", err)
	}
	empty := filepath.Join(dir, "empty.safetensors")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := models.ReadFile(empty); !errors.Is(err, models.ErrFormat) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: got %v, want ErrFormat naming %s", err, empty)
	}
	if _, err := models.ReadFile(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: got %v, want an error naming %s", err, dir)
	}
}

// TestPythonReader reads a file written by WriteFile with an independent,
// standard-library-only Python reader (testdata/read_safetensors.py).
func TestPythonReader(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s not found (%v): skipping the cross-check with the Python safetensors reader", python, err)
	}
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(t, spec, tensor.Float32)
	path := filepath.Join(t.TempDir(), "lenet.safetensors")
	if err := models.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/read_safetensors.py", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python reader: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		HeaderLen int               `json:"header_len"`
		Metadata  map[string]string `json:"metadata"`
		Tensors   map[string]struct {
			Dtype string    `json:"dtype"`
			Shape []int     `json:"shape"`
			Count int       `json:"count"`
			Sum   float64   `json:"sum"`
			First []float64 `json:"first"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if got.HeaderLen%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", got.HeaderLen)
	}
	specJSON, _ := models.MarshalSpec(m.Spec)
	if got.Metadata[models.MetaFormat] != models.FormatName || got.Metadata[models.MetaSpec] != string(specJSON) || len(got.Metadata) != 3 {
		t.Errorf("metadata %v", got.Metadata)
	}
	var prov models.Provenance
	if err := json.Unmarshal([]byte(got.Metadata[models.MetaProvenance]), &prov); err != nil || !reflect.DeepEqual(prov, m.Meta) {
		t.Errorf("provenance %+v (%v), want %+v", prov, err, m.Meta)
	}
	if len(got.Tensors) != len(m.Params.All()) {
		t.Errorf("python sees %d tensors, want %d", len(got.Tensors), len(m.Params.All()))
	}
	for _, p := range m.Params.All() {
		pt, ok := got.Tensors[p.Name]
		if !ok {
			t.Errorf("python does not see %q", p.Name)
			continue
		}
		vals := p.Float64s()
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		if pt.Dtype != "F32" || !reflect.DeepEqual(pt.Shape, p.Shape()) || pt.Count != len(vals) || math.Abs(pt.Sum-sum) > 1e-6*math.Max(1, math.Abs(sum)) {
			t.Errorf("%s: python sees %s %v count %d sum %v, want F32 %v count %d sum %v", p.Name, pt.Dtype, pt.Shape, pt.Count, pt.Sum, p.Shape(), len(vals), sum)
		}
		for i, v := range pt.First {
			if math.Abs(v-vals[i]) > 1e-6 {
				t.Errorf("%s[%d]: python sees %v, want %v", p.Name, i, v, vals[i])
			}
		}
	}
}

// minimalHeader is the header of a small valid file: a 1-2 dense network
// with an F32 weight and an F64 bias, 24 bytes of data, no provenance.
const minimalHeader = `{"__metadata__":{"spred.spec":"{\"input\":[1],\"layers\":[{\"type\":\"dense\",\"name\":\"d\",\"units\":2}],\"loss\":\"softmax-cross-entropy\"}"},` +
	`"d/W":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"d/b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}`

func TestDecodeMinimal(t *testing.T) {
	data := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5))
	data = binary.LittleEndian.AppendUint32(data, math.Float32bits(-2))
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(0.25))
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(-0.125))
	m, err := decode(rawFile(minimalHeader, data))
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Params.Get("d/W"), m.Params.Get("d/b")
	if !reflect.DeepEqual(w.Float64s(), []float64{1.5, -2}) || !reflect.DeepEqual(b.Float64s(), []float64{0.25, -0.125}) || !w.Prunable || b.Prunable {
		t.Fatalf("got W %v (prunable %v), b %v (prunable %v)", w.Float64s(), w.Prunable, b.Float64s(), b.Prunable)
	}
	if !reflect.DeepEqual(m.Meta, models.Provenance{}) {
		t.Fatalf("provenance %+v, want zero", m.Meta)
	}
}

func FuzzDecode(f *testing.F) {
	valid := encode(f, newModel(f, tinySpec(), tensor.Float32))
	f.Add(valid)
	for _, n := range []int{0, 7, 8, 9, 100, len(valid) - 1} {
		f.Add(valid[:n])
	}
	flipped := append([]byte(nil), valid...)
	flipped[20] ^= 0x20
	f.Add(flipped)
	f.Add(lengthOnly(1<<40, "{}"))
	f.Add(rawFile(`{"__metadata__":{"spred.spec":"{}"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(rawFile(minimalHeader, make([]byte, 24)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			if !errors.Is(err, models.ErrFormat) {
				t.Fatalf("error does not match ErrFormat: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("message has several lines: %q", err)
			}
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("decoded model fails Check: %v", err)
		}
		again, err := decode(encode(t, m))
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		sameModel(t, m, again)
	})
}
