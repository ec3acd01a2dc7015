package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestEncodeTensors: a plain safetensors file holds every tensor in order
// under its name, as F32 at 8-byte aligned data, with no metadata, and the
// same tensors give the same bytes.
func TestEncodeTensors(t *testing.T) {
	ps := &Params{}
	a := NewParam("fc1/W", true, tensor.Float64, []int{2, 3})
	if err := a.SetFloat64s([]float64{1, 0, -2.5, 0, 3, 0.125}); err != nil {
		t.Fatal(err)
	}
	b := NewParam("fc1/b", false, tensor.Float32, []int{3})
	if err := b.SetFloat64s([]float64{0.5, -1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := ps.Add(b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := WriteTensorsFile(path, ps); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(raw)
	if (8+n)%8 != 0 || int(8+n) > len(raw) {
		t.Fatalf("header of %d bytes in a file of %d", n, len(raw))
	}
	var header map[string]struct {
		Dtype   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatal(err)
	}
	if len(header) != 2 || strings.Contains(string(raw[8:8+n]), "__metadata__") {
		t.Fatalf("header %s", raw[8:8+n])
	}
	data := raw[8+n:]
	for _, p := range ps.All() {
		h := header[p.Name]
		if h.Dtype != "F32" || !equalInts(h.Shape, p.Shape()) || h.Offsets[1]-h.Offsets[0] != int64(4*p.Len()) {
			t.Fatalf("%s: %+v", p.Name, h)
		}
		for i, want := range p.Float64s() {
			got := math.Float32frombits(binary.LittleEndian.Uint32(data[h.Offsets[0]+int64(4*i):]))
			if float64(got) != want {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, got, want)
			}
		}
	}
	if header["fc1/W"].Offsets[0] != 0 || header["fc1/b"].Offsets[0] != 24 || len(data) != 36 {
		t.Errorf("tensors out of order or padded: %+v, %d data bytes", header, len(data))
	}
	var again bytes.Buffer
	if err := EncodeTensors(&again, ps); err != nil || !bytes.Equal(again.Bytes(), raw) {
		t.Errorf("not deterministic (%v)", err)
	}
	if err := EncodeTensors(&again, &Params{}); err == nil {
		t.Error("no tensors: no error")
	}
	if err := a.SetFloat64s([]float64{1, math.Inf(1), 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTensorsFile(path, ps); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("infinite value: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
