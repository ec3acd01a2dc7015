package interop_test

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// TestDecodeEmptyInputNames: an empty input name, which ONNX uses for an
// optional input left out, where an op needs the input is an error, never
// a panic, at the start of a graph (no layer yet) and after a layer.
func TestDecodeEmptyInputNames(t *testing.T) {
	base := encode(t, randomModel(t, tinyCNN(), 8), interop.ExportOptions{})
	for _, c := range []struct {
		name  string
		nodes []*onnx.NodeProto
	}{
		{"Gather of an empty index", []*onnx.NodeProto{constNode("c", 1, 2), {Name: "g", OpType: "Gather", Input: []string{"c", ""}, Output: []string{"o"}}}},
		{"Gather from an empty name", []*onnx.NodeProto{constNode("c", 0), {Name: "g", OpType: "Gather", Input: []string{"", "c"}, Output: []string{"o"}}}},
		{"Add of a constant and an empty name", []*onnx.NodeProto{constNode("c", 1, 2), {Name: "a", OpType: "Add", Input: []string{"c", ""}, Output: []string{"o"}}}},
		{"Add of an empty name and a constant", []*onnx.NodeProto{constNode("c", 1, 2), {Name: "a", OpType: "Add", Input: []string{"", "c"}, Output: []string{"o"}}}},
		{"Sub of two empty names", []*onnx.NodeProto{{Name: "s", OpType: "Sub", Input: []string{"", ""}, Output: []string{"o"}}}},
		{"Mul of a constant and an empty name", []*onnx.NodeProto{constNode("c", 3), {Name: "m", OpType: "Mul", Input: []string{"c", ""}, Output: []string{"o"}}}},
		{"Div of an empty name", []*onnx.NodeProto{constNode("c", 3), {Name: "d", OpType: "Div", Input: []string{"", "c"}, Output: []string{"o"}}}},
		{"Identity of an empty name", []*onnx.NodeProto{{Name: "i", OpType: "Identity", Input: []string{""}, Output: []string{"o"}}}},
		{"Dropout of an empty name", []*onnx.NodeProto{{Name: "d", OpType: "Dropout", Input: []string{""}, Output: []string{"o"}}}},
		{"Shape of an empty name", []*onnx.NodeProto{{Name: "s", OpType: "Shape", Input: []string{""}, Output: []string{"o"}}}},
		{"Concat of an empty name", []*onnx.NodeProto{constNode("c", 3), {Name: "k", OpType: "Concat", Input: []string{"c", ""}, Output: []string{"o"}, Attribute: []*onnx.AttributeProto{intAttr("axis", 0)}}}},
		{"Unsqueeze with empty axes", []*onnx.NodeProto{constNode("c", 3), {Name: "u", OpType: "Unsqueeze", Input: []string{"c", ""}, Output: []string{"o"}}}},
		{"Cast of an empty name", []*onnx.NodeProto{{Name: "k", OpType: "Cast", Input: []string{""}, Output: []string{"o"}, Attribute: []*onnx.AttributeProto{intAttr("to", 7)}}}},
		{"Reshape to an empty name", []*onnx.NodeProto{{Name: "r", OpType: "Reshape", Input: []string{"input", ""}, Output: []string{"o"}}}},
		{"Pad by an empty name", []*onnx.NodeProto{{Name: "p", OpType: "Pad", Input: []string{"input", ""}, Output: []string{"o"}}}},
	} {
		for _, where := range []string{"first", "after a layer"} {
			t.Run(c.name+" "+where, func(t *testing.T) {
				b := mutate(t, base, func(mp *onnx.ModelProto) {
					at := 0
					if where != "first" {
						at = 1
					}
					nodes := append([]*onnx.NodeProto(nil), mp.Graph.Node[:at]...)
					nodes = append(nodes, c.nodes...)
					mp.Graph.Node = append(nodes, mp.Graph.Node[at:]...)
				})
				_, _, err := interop.Decode(b, interop.ImportOptions{})
				if err == nil {
					t.Fatal("imported without error")
				}
				if !errors.Is(err, interop.ErrFormat) && !errors.Is(err, interop.ErrUnsupported) && !errors.Is(err, interop.ErrShape) {
					t.Errorf("error matches none of ErrFormat, ErrUnsupported, ErrShape: %v", err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("message has several lines: %q", err)
				}
			})
		}
	}
}

// sparseFile is an ONNX model of a single dense layer fc [in, units] (no
// bias) whose weight is a sparse initializer of k values with 1-D INT64
// indices spread over it.
func sparseFile(t testing.TB, in, units, k int) []byte {
	t.Helper()
	small := models.Spec{Name: "s", Input: []int{4}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: units, NoBias: true}}, Loss: models.LossSoftmaxCrossEntropy}
	m := randomModel(t, small, 1)
	return mutate(t, encode(t, m, interop.ExportOptions{}), func(mp *onnx.ModelProto) {
		mp.MetadataProps = nil
		mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(in)}
		n := in * units
		vals := make([]byte, 4*k)
		idx := make([]byte, 8*k)
		for j := 0; j < k; j++ {
			binary.LittleEndian.PutUint32(vals[4*j:], math.Float32bits(1))
			binary.LittleEndian.PutUint64(idx[8*j:], uint64(j*(n/k)))
		}
		mp.Graph.Initializer = nil
		mp.Graph.SparseInitializer = []*onnx.SparseTensorProto{{
			Values:  &onnx.TensorProto{Name: "fc/W", Dims: []int64{int64(k)}, DataType: int32(onnx.TensorProto_FLOAT), RawData: vals},
			Indices: &onnx.TensorProto{Name: "fc/W_indices", Dims: []int64{int64(k)}, DataType: int32(onnx.TensorProto_INT64), RawData: idx},
			Dims:    []int64{int64(in), int64(units)},
		}}
	})
}

// TestDecodeSparseExpansion: sparse initializers expand to at most
// models.MaxSparseExpansion dense values per byte of the file: a 1 MB file
// claiming a [784, 301614] weight (236 million values, 944 MB of float32)
// is refused before anything is allocated, and one at the limit imports.
func TestDecodeSparseExpansion(t *testing.T) {
	hostile := sparseFile(t, 784, 301614, 80000)
	if len(hostile) > 1<<20 {
		t.Fatalf("the hostile file has %d bytes", len(hostile))
	}
	_, _, err := interop.Decode(hostile, interop.ImportOptions{})
	if !errors.Is(err, interop.ErrFormat) || !strings.Contains(err.Error(), "MaxSparseExpansion") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%d-byte file claiming 236M values: got %v, want a one-line ErrFormat naming MaxSparseExpansion", len(hostile), err)
	}
	// 1000 values in 640,000: 12 kB of values and indices, 2.5 MB dense.
	ok := sparseFile(t, 6400, 100, 1000)
	if n := 6400 * 100; n > models.MaxSparseExpansion*len(ok) {
		t.Fatalf("the file of %d bytes is over the limit for %d values", len(ok), n)
	}
	if _, _, err := interop.Decode(ok, interop.ImportOptions{}); err != nil {
		t.Fatalf("%d-byte file of a %d-value weight: %v", len(ok), 6400*100, err)
	}
}

// TestExportSparseWithinExpansion: Encode writes a weight sparse only where
// the reader's bound allows it, so every export imports: a weight of one
// value in 1000 is written densely.
func TestExportSparseWithinExpansion(t *testing.T) {
	spec := models.Spec{Name: "s", Input: []int{1000}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 100, NoBias: true}}, Loss: models.LossSoftmaxCrossEntropy}
	m := randomModel(t, spec, 1)
	w := m.Params.Get("fc/W").Value.Data().([]float32)
	for _, c := range []struct {
		every  int // one value kept in every
		sparse bool
	}{{1000, false}, {700, true}} {
		for i := range w {
			w[i] = 0
			if i%c.every == 0 {
				w[i] = 1
			}
		}
		b := encode(t, m, interop.ExportOptions{Sparse: true})
		got, _, err := interop.Decode(b, interop.ImportOptions{})
		if err != nil {
			t.Fatalf("one in %d: the export does not import: %v", c.every, err)
		}
		sameModel(t, m, got)
		var mp onnx.ModelProto
		if err := proto.Unmarshal(b, &mp); err != nil {
			t.Fatal(err)
		}
		s := false
		for _, n := range mp.Graph.Node {
			for _, a := range n.Attribute {
				if n.OpType == "Constant" && a.Name == "sparse_value" {
					s = true
				}
			}
		}
		if s != c.sparse {
			t.Errorf("one in %d: sparse %v, want %v", c.every, s, c.sparse)
		}
	}
}
