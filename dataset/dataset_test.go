package dataset

import (
	"reflect"
	"strings"
	"testing"
)

func smallDataset() *Dataset {
	return &Dataset{
		Name:       "small",
		X:          []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		Y:          []int{0, 1, 0},
		Shape:      []int{2, 2},
		Classes:    2,
		ClassNames: []string{"a", "b"},
		Features:   []string{"f1", "f2", "f3", "f4"},
	}
}

func TestDatasetAccessors(t *testing.T) {
	d := smallDataset()
	if d.N() != 3 || d.Size() != 4 {
		t.Fatalf("N, Size = %d, %d; want 3, 4", d.N(), d.Size())
	}
	if got := (&Dataset{}).Size(); got != 0 {
		t.Errorf("empty Shape: Size = %d, want 0", got)
	}
	if d.IsBytes() || d.Values() != 12 {
		t.Errorf("IsBytes, Values = %v, %d; want false, 12", d.IsBytes(), d.Values())
	}
	s := []float32{-1, -1, -1, -1, -1}
	d.Read(1, s)
	if !reflect.DeepEqual(s, []float32{4, 5, 6, 7, -1}) {
		t.Fatalf("Read(1) = %v", s)
	}
	s[0] = 40 // a copy, not a view
	if d.X[4] != 4 {
		t.Errorf("Read wrote through to X")
	}
	r := make([]float32, 8)
	d.ReadRange(1, 2, r)
	if !reflect.DeepEqual(r, d.X[4:]) {
		t.Errorf("ReadRange(1, 2) = %v", r)
	}
	d.ReadBatch([]int{2, 0}, r)
	if !reflect.DeepEqual(r, []float32{8, 9, 10, 11, 0, 1, 2, 3}) {
		t.Errorf("ReadBatch([2 0]) = %v", r)
	}
	if !strings.Contains(d.String(), "3 samples") {
		t.Errorf("String = %q", d.String())
	}
}

func TestSubset(t *testing.T) {
	d := smallDataset()
	s := d.Subset([]int{2, 0, 2})
	if s.N() != 3 || !reflect.DeepEqual(s.Y, []int{0, 0, 0}) {
		t.Fatalf("Subset Y = %v", s.Y)
	}
	want := []float32{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}
	if !reflect.DeepEqual(s.X, want) {
		t.Fatalf("Subset X = %v, want %v", s.X, want)
	}
	s.X[0], s.Shape[0], s.ClassNames[0], s.Features[0] = -1, 9, "z", "z"
	if d.X[8] != 8 || d.Shape[0] != 2 || d.ClassNames[0] != "a" || d.Features[0] != "f1" {
		t.Errorf("Subset shares memory with its source")
	}
	if e := d.Subset(nil); e.N() != 0 || len(e.X) != 0 || e.Classes != 2 {
		t.Errorf("empty Subset = %+v", e)
	}
}

func TestReshape(t *testing.T) {
	d := smallDataset()
	r, err := d.Reshape([]int{4})
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != 4 || !reflect.DeepEqual(r.Shape, []int{4}) || &r.X[0] != &d.X[0] {
		t.Errorf("Reshape([4]) = shape %v, shares X %v", r.Shape, &r.X[0] == &d.X[0])
	}
	if !reflect.DeepEqual(d.Shape, []int{2, 2}) {
		t.Errorf("Reshape changed the source shape to %v", d.Shape)
	}
	for _, bad := range [][]int{nil, {3}, {0, 4}, {-2, -2}, {1 << 62, 1 << 62}} {
		if _, err := d.Reshape(bad); err == nil {
			t.Errorf("Reshape(%v): no error", bad)
		}
	}
}

// checkOneLine fails unless err is an error of one line containing each
// of want.
func checkOneLine(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one containing %q", what, want)
		return
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: multi-line error %q", what, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q, want one containing %q", what, err, w)
		}
	}
}
