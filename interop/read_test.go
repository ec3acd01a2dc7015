package interop_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

func TestExportImportRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *models.Model
		opts interop.ExportOptions
	}{
		{"tiny cnn", randomModel(t, tinyCNN(), 1), interop.ExportOptions{}},
		{"tiny cnn sparse", prune(t, randomModel(t, tinyCNN(), 2), 0.2, 1), interop.ExportOptions{Sparse: true}},
		{"tiny mlp opset 17", randomModel(t, tinyMLP(), 3), interop.ExportOptions{Opset: 17}},
		{"lenet-300-100 sparse", prune(t, randomModel(t, must(models.Lookup("lenet-300-100")), 4), 0.05, 2), interop.ExportOptions{Sparse: true, Opset: 14}},
		{"lenet-5", randomModel(t, must(models.Lookup("lenet-5")), 5), interop.ExportOptions{}},
		{"activations", randomModel(t, activationsCNN(), 6), interop.ExportOptions{}},
		{"activations opset 17", randomModel(t, activationsCNN(), 7), interop.ExportOptions{Opset: 17}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := encode(t, c.m, c.opts)
			got, rep, err := interop.Decode(b, interop.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := *c.m
			want.Spec = withoutDropout(c.m.Spec)
			sameModel(t, &want, got)
			if got.Meta.Tool != c.m.Meta.Tool || *got.Meta.Accuracy != *c.m.Meta.Accuracy {
				t.Errorf("provenance %+v, want %+v", got.Meta, c.m.Meta)
			}
			opset := int64(c.opts.Opset)
			if opset == 0 {
				opset = 13
			}
			if rep.Opset != opset || rep.Producer != "spred-go "+spred.Version || len(rep.Layers) != len(want.Spec.Layers) {
				t.Errorf("report %+v", rep)
			}
			if again := encode(t, c.m, c.opts); !bytes.Equal(b, again) {
				t.Error("exporting the same model twice gives different bytes")
			}
			var mp onnx.ModelProto
			if err := proto.Unmarshal(b, &mp); err != nil {
				t.Fatal(err)
			}
			sparse := len(sparseConstants(&mp))
			if c.opts.Sparse != (sparse > 0) || len(mp.GetGraph().GetSparseInitializer()) != 0 {
				t.Errorf("%d sparse Constant nodes and %d sparse initializers with Sparse=%v", sparse, len(mp.GetGraph().GetSparseInitializer()), c.opts.Sparse)
			}
			if c.opts.Sparse {
				dense := encode(t, c.m, interop.ExportOptions{Opset: c.opts.Opset})
				if len(b) >= len(dense) {
					t.Errorf("sparse export %d bytes, dense %d", len(b), len(dense))
				}
				t.Logf("dense %d bytes, sparse %d", len(dense), len(b))
				// The same weights as sparse_initializers, as other
				// writers store them, import alike.
				other, _, err := interop.Decode(mutate(t, b, toSparseInitializers), interop.ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				sameModel(t, &want, other)
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

func TestExportRefuses(t *testing.T) {
	m := randomModel(t, tinyMLP(), 1)
	if _, err := interop.Encode(m, interop.ExportOptions{Opset: 12}); err == nil || !strings.Contains(err.Error(), "opset 12") {
		t.Errorf("opset 12: got %v", err)
	}
	if _, err := interop.Encode(nil, interop.ExportOptions{}); err == nil {
		t.Error("nil model: no error")
	}
	bad := randomModel(t, tinyMLP(), 1)
	bad.Spec.Layers[2].Units = 7
	if _, err := interop.Encode(bad, interop.ExportOptions{}); err == nil || !strings.Contains(err.Error(), "fc2/W") {
		t.Errorf("spec mismatch: got %v", err)
	}
	if err := interop.WriteFile(filepath.Join(t.TempDir(), "no", "such", "m.onnx"), m, interop.ExportOptions{}); err == nil {
		t.Error("writing into a missing folder: no error")
	}
}

// nodeOf returns the first node with op type op.
func nodeOf(t testing.TB, mp *onnx.ModelProto, op string) *onnx.NodeProto {
	t.Helper()
	for _, n := range mp.Graph.Node {
		if n.OpType == op {
			return n
		}
	}
	t.Fatalf("no %s node", op)
	return nil
}

func nodeIndex(mp *onnx.ModelProto, n *onnx.NodeProto) int {
	for i, x := range mp.Graph.Node {
		if x == n {
			return i
		}
	}
	return -1
}

// replaceNode puts nodes in the place of old.
func replaceNode(mp *onnx.ModelProto, old *onnx.NodeProto, nodes ...*onnx.NodeProto) {
	i := nodeIndex(mp, old)
	g := mp.Graph
	g.Node = append(g.Node[:i], append(nodes, g.Node[i+1:]...)...)
}

func ints(name string, vs ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: vs}
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func constNode(out string, vs ...int64) *onnx.NodeProto {
	raw := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return &onnx.NodeProto{OpType: "Constant", Output: []string{out}, Attribute: []*onnx.AttributeProto{{
		Name: "value", Type: onnx.AttributeProto_TENSOR,
		T: &onnx.TensorProto{Dims: []int64{int64(len(vs))}, DataType: int32(onnx.TensorProto_INT64), RawData: raw}}}}
}

func scalarConst(out string, v int64) *onnx.NodeProto {
	n := constNode(out, v)
	n.Attribute[0].T.Dims = nil
	return n
}

// torchFlatten replaces the Flatten node with the shape arithmetic that
// torch emits for x.view(x.size(0), -1).
func torchFlatten(t testing.TB, mp *onnx.ModelProto) {
	f := nodeOf(t, mp, "Flatten")
	x, out := f.Input[0], f.Output[0]
	replaceNode(mp, f,
		&onnx.NodeProto{Name: "/Shape", OpType: "Shape", Input: []string{x}, Output: []string{"s"}},
		scalarConst("zero", 0),
		&onnx.NodeProto{Name: "/Gather", OpType: "Gather", Input: []string{"s", "zero"}, Output: []string{"b"}, Attribute: []*onnx.AttributeProto{intAttr("axis", 0)}},
		constNode("axes", 0),
		&onnx.NodeProto{Name: "/Unsqueeze", OpType: "Unsqueeze", Input: []string{"b", "axes"}, Output: []string{"bu"}},
		constNode("minus1", -1),
		&onnx.NodeProto{Name: "/Concat", OpType: "Concat", Input: []string{"bu", "minus1"}, Output: []string{"target"}, Attribute: []*onnx.AttributeProto{intAttr("axis", 0)}},
		&onnx.NodeProto{Name: "/Reshape", OpType: "Reshape", Input: []string{x, "target"}, Output: []string{out}},
	)
}

func initializer(mp *onnx.ModelProto, name string) *onnx.TensorProto {
	for _, t := range mp.Graph.Initializer {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// TestImportVariants: the ways torch writes the same network all import
// to the same model.
func TestImportVariants(t *testing.T) {
	m := randomModel(t, tinyCNN(), 7)
	want := *m
	want.Spec = withoutDropout(m.Spec)
	base := encode(t, m, interop.ExportOptions{})
	for _, c := range []struct {
		name string
		edit func(mp *onnx.ModelProto)
	}{
		{"torch flatten", func(mp *onnx.ModelProto) { torchFlatten(t, mp) }},
		{"flatten by a constant reshape", func(mp *onnx.ModelProto) {
			f := nodeOf(t, mp, "Flatten")
			replaceNode(mp, f, constNode("shape", -1, 16), &onnx.NodeProto{OpType: "Reshape", Input: []string{f.Input[0], "shape"}, Output: f.Output})
		}},
		{"static batch", func(mp *onnx.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[0].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 1}
			f := nodeOf(t, mp, "Flatten")
			replaceNode(mp, f, constNode("shape", 1, 16), &onnx.NodeProto{OpType: "Reshape", Input: []string{f.Input[0], "shape"}, Output: f.Output})
		}},
		{"MatMul and Add", func(mp *onnx.ModelProto) {
			g := nodeOf(t, mp, "Gemm")
			replaceNode(mp, g,
				&onnx.NodeProto{OpType: "MatMul", Input: []string{g.Input[0], g.Input[1]}, Output: []string{"mm"}},
				&onnx.NodeProto{OpType: "Add", Input: []string{g.Input[2], "mm"}, Output: g.Output})
		}},
		{"transB, alpha and beta", func(mp *onnx.ModelProto) {
			g := nodeOf(t, mp, "Gemm")
			w := initializer(mp, g.Input[1])
			in, out := int(w.Dims[0]), int(w.Dims[1])
			tr := make([]byte, len(w.RawData))
			for i := 0; i < in; i++ {
				for o := 0; o < out; o++ {
					v := math.Float32frombits(binary.LittleEndian.Uint32(w.RawData[4*(i*out+o):]))
					binary.LittleEndian.PutUint32(tr[4*(o*in+i):], math.Float32bits(v*4)) // alpha 0.25 undoes it exactly
				}
			}
			w.RawData, w.Dims = tr, []int64{int64(out), int64(in)}
			b := initializer(mp, g.Input[2])
			for i := 0; i < len(b.RawData); i += 4 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(b.RawData[i:]))
				binary.LittleEndian.PutUint32(b.RawData[i:], math.Float32bits(v/2))
			}
			g.Attribute = []*onnx.AttributeProto{intAttr("transB", 1),
				{Name: "alpha", Type: onnx.AttributeProto_FLOAT, F: 0.25}, {Name: "beta", Type: onnx.AttributeProto_FLOAT, F: 2}}
		}},
		{"conv bias as a separate Add", func(mp *onnx.ModelProto) {
			c := nodeOf(t, mp, "Conv")
			bias := initializer(mp, c.Input[2])
			bias.Dims = []int64{1, 3, 1, 1}
			out := c.Output[0]
			c.Input, c.Output = c.Input[:2], []string{"conv_nobias"}
			i := nodeIndex(mp, c)
			g := mp.Graph
			g.Node = append(g.Node[:i+1], append([]*onnx.NodeProto{{OpType: "Add", Input: []string{"conv_nobias", bias.Name}, Output: []string{out}}}, g.Node[i+1:]...)...)
		}},
		{"identity, dropout and a weight from a Constant node", func(mp *onnx.ModelProto) {
			r := nodeOf(t, mp, "Relu")
			out := r.Output[0]
			r.Output[0] = "pre"
			i := nodeIndex(mp, r)
			g := mp.Graph
			g.Node = append(g.Node[:i+1], append([]*onnx.NodeProto{
				{OpType: "Identity", Input: []string{"pre"}, Output: []string{"mid"}},
				{OpType: "Dropout", Input: []string{"mid"}, Output: []string{out}},
			}, g.Node[i+1:]...)...)
			gm := nodeOf(t, mp, "Gemm")
			w := initializer(mp, gm.Input[1])
			for j, x := range g.Initializer {
				if x == w {
					g.Initializer = append(g.Initializer[:j], g.Initializer[j+1:]...)
					break
				}
			}
			g.Node = append([]*onnx.NodeProto{{OpType: "Constant", Output: []string{w.Name}, Attribute: []*onnx.AttributeProto{{Name: "value", Type: onnx.AttributeProto_TENSOR, T: w}}}}, g.Node...)
		}},
		{"initializers listed as inputs (old IR)", func(mp *onnx.ModelProto) {
			for _, w := range mp.Graph.Initializer {
				mp.Graph.Input = append(mp.Graph.Input, &onnx.ValueInfoProto{Name: w.Name})
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := interop.Decode(mutate(t, base, c.edit), interop.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sameModel(t, &want, got)
		})
	}
}

// badFile is one malformed or unsupported ONNX file and what its error
// must say.
type badFile struct {
	name    string
	file    []byte
	is      error
	mention []string
}

func badFiles(t testing.TB) []badFile {
	m := randomModel(t, tinyCNN(), 8)
	base := encode(t, m, interop.ExportOptions{})
	sparse := encode(t, prune(t, randomModel(t, tinyCNN(), 9), 0.1, 3), interop.ExportOptions{Sparse: true})
	edit := func(f func(mp *onnx.ModelProto)) []byte { return mutate(t, base, f) }
	node := func(mp *onnx.ModelProto, op string) *onnx.NodeProto {
		for _, n := range mp.Graph.Node {
			if n.OpType == op {
				return n
			}
		}
		t.Fatalf("no %s node", op)
		return nil
	}
	setAttr := func(op string, a *onnx.AttributeProto) []byte {
		return edit(func(mp *onnx.ModelProto) {
			n := node(mp, op)
			for i, x := range n.Attribute {
				if x.Name == a.Name {
					n.Attribute[i] = a
					return
				}
			}
			n.Attribute = append(n.Attribute, a)
		})
	}
	inputDim := func(i int, d *onnx.TensorShapeProto_Dimension) []byte {
		return edit(func(mp *onnx.ModelProto) { mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[i] = d })
	}
	reshapeTo := func(extra []*onnx.NodeProto, target string) []byte {
		return edit(func(mp *onnx.ModelProto) {
			f := node(mp, "Flatten")
			nodes := append(extra, &onnx.NodeProto{Name: "flat", OpType: "Reshape", Input: []string{f.Input[0], target}, Output: f.Output})
			replaceNode(mp, f, nodes...)
		})
	}
	return []badFile{
		{"empty", nil, interop.ErrFormat, []string{"no graph"}},
		{"initializer of rank 5000000", edit(func(mp *onnx.ModelProto) {
			dims := make([]int64, 5_000_000)
			for i := range dims {
				dims[i] = 2
			}
			mp.Graph.Initializer[0].Dims = dims
		}), interop.ErrFormat, []string{"rank 5000000 is more than 64"}},
		{"attribute of 5000000 values", setAttr("Conv", &onnx.AttributeProto{Name: "pads", Type: onnx.AttributeProto_INTS, Ints: make([]int64, 5_000_000)}),
			interop.ErrFormat, []string{"conv1", `attribute "pads" has 5000000 values, more than 64`}},
		{"not protobuf", []byte("this is a text file, not ONNX\n"), interop.ErrFormat, []string{"not an ONNX protobuf"}},
		{"safetensors bytes", append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...), interop.ErrFormat, nil},
		{"truncated", base[:len(base)/2], interop.ErrFormat, nil},
		{"truncated sparse", sparse[:len(sparse)-7], interop.ErrFormat, nil},
		{"unsupported op", edit(func(mp *onnx.ModelProto) { node(mp, "Relu").OpType = "HardSigmoid" }), interop.ErrUnsupported, []string{`"relu_3"`, "HardSigmoid"}},
		{"Softmax in the middle", edit(func(mp *onnx.ModelProto) {
			var last *onnx.NodeProto
			for _, n := range mp.Graph.Node {
				if n.OpType == "Relu" {
					last = n
				}
			}
			last.OpType = "Softmax"
		}), interop.ErrUnsupported, []string{`(Softmax)`, "only as the graph's output"}},
		{"Softmax over the batch", edit(func(mp *onnx.ModelProto) {
			g := mp.Graph
			last := g.Node[len(g.Node)-1]
			last.Output[0] = "scores"
			g.Node = append(g.Node, &onnx.NodeProto{Name: "/Softmax", OpType: "Softmax", Input: []string{"scores"}, Output: []string{"logits"},
				Attribute: []*onnx.AttributeProto{intAttr("axis", 0)}})
		}), interop.ErrUnsupported, []string{`"/Softmax"`, "axis=0"}},
		{"LeakyRelu with an infinite slope", edit(func(mp *onnx.ModelProto) {
			r := node(mp, "Relu")
			r.OpType, r.Attribute = "LeakyRelu", []*onnx.AttributeProto{{Name: "alpha", Type: onnx.AttributeProto_FLOAT, F: float32(math.Inf(1))}}
		}), interop.ErrUnsupported, []string{`"relu_3" (LeakyRelu)`, "alpha=+Inf"}},
		{"LogSoftmax at the end", edit(func(mp *onnx.ModelProto) {
			g := mp.Graph
			last := g.Node[len(g.Node)-1]
			last.Output[0] = "scores"
			g.Node = append(g.Node, &onnx.NodeProto{Name: "/LogSoftmax", OpType: "LogSoftmax", Input: []string{"scores"}, Output: []string{"logits"}})
		}), interop.ErrUnsupported, []string{`"/LogSoftmax"`, "LogSoftmax"}},
		{"op of another domain", edit(func(mp *onnx.ModelProto) { node(mp, "Relu").Domain = "com.microsoft" }), interop.ErrUnsupported, []string{"relu_3", "com.microsoft"}},
		{"unknown attribute", setAttr("Conv", intAttr("foo", 1)), interop.ErrUnsupported, []string{`"conv1" (Conv)`, `"foo"`}},
		{"grouped conv", setAttr("Conv", intAttr("group", 3)), interop.ErrUnsupported, []string{"conv1", "group=3"}},
		{"dilated conv", setAttr("Conv", ints("dilations", 2, 2)), interop.ErrUnsupported, []string{"conv1", "dilations"}},
		{"unequal strides", setAttr("Conv", ints("strides", 1, 2)), interop.ErrUnsupported, []string{"conv1", "strides"}},
		{"negative pads", setAttr("Conv", ints("pads", -1, 1, 0, 0)), interop.ErrUnsupported, []string{"conv1", "pads"}},
		{"unknown auto_pad", setAttr("Conv", &onnx.AttributeProto{Name: "auto_pad", Type: onnx.AttributeProto_STRING, S: []byte("SAME_MIDDLE")}), interop.ErrUnsupported, []string{"conv1", "auto_pad=SAME_MIDDLE"}},
		{"auto_pad with pads", setAttr("Conv", &onnx.AttributeProto{Name: "auto_pad", Type: onnx.AttributeProto_STRING, S: []byte("SAME_UPPER")}), interop.ErrFormat, []string{"conv1", "auto_pad SAME_UPPER with pads"}},
		{"attribute of the wrong type", setAttr("Conv", &onnx.AttributeProto{Name: "group", Type: onnx.AttributeProto_FLOAT, F: 1}), interop.ErrFormat, []string{"conv1", "group"}},
		{"maxpool padded beyond half the kernel", setAttr("MaxPool", ints("pads", 2, 2, 2, 2)), interop.ErrUnsupported, []string{"maxpool2d_1", "pads"}},
		{"maxpool padded as wide as the window on one side", setAttr("MaxPool", ints("pads", 0, 0, 2, 0)), interop.ErrUnsupported, []string{"maxpool2d_1", "pads=[0 0 2 0]"}},
		{"unequal maxpool dilations", setAttr("MaxPool", ints("dilations", 1, 2)), interop.ErrUnsupported, []string{"maxpool2d_1", "dilations=[1 2]"}},
		{"Gemm transA", setAttr("Gemm", intAttr("transA", 1)), interop.ErrUnsupported, []string{`"fc1" (Gemm)`, "transA"}},
		{"dynamic feature dimension", inputDim(2, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "height"}}), interop.ErrShape, []string{"dimension 2", `"height"`, "batch"}},
		{"unknown dimension", inputDim(3, &onnx.TensorShapeProto_Dimension{}), interop.ErrShape, []string{"dimension 3", "missing"}},
		{"input without a shape", edit(func(mp *onnx.ModelProto) { mp.Graph.Input[0].Type.GetTensorType().Shape = nil }), interop.ErrShape, []string{"no shape"}},
		{"input of rank 3", edit(func(mp *onnx.ModelProto) {
			s := mp.Graph.Input[0].Type.GetTensorType().Shape
			s.Dim = s.Dim[:3]
		}), interop.ErrUnsupported, []string{"rank 3"}},
		{"integer input", edit(func(mp *onnx.ModelProto) {
			mp.Graph.Input[0].Type.GetTensorType().ElemType = int32(onnx.TensorProto_INT64)
		}), interop.ErrUnsupported, []string{"INT64"}},
		{"two inputs", edit(func(mp *onnx.ModelProto) {
			mp.Graph.Input = append(mp.Graph.Input, &onnx.ValueInfoProto{Name: "extra"})
		}), interop.ErrUnsupported, []string{"2 inputs", "extra"}},
		{"two outputs", edit(func(mp *onnx.ModelProto) {
			mp.Graph.Output = append(mp.Graph.Output, &onnx.ValueInfoProto{Name: "relu_3"})
		}), interop.ErrUnsupported, []string{"2 outputs"}},
		{"dead branch", edit(func(mp *onnx.ModelProto) { node(mp, "Flatten").Input[0] = "conv2d_2" }),
			interop.ErrUnsupported, []string{`"relu_3" (Relu)`, "read by no layer"}},
		{"adding two shapes", edit(func(mp *onnx.ModelProto) {
			g := mp.Graph
			last := g.Node[len(g.Node)-1]
			last.Output[0] = "y"
			g.Node = append(g.Node, &onnx.NodeProto{Name: "res", OpType: "Add", Input: []string{"y", "relu_3"}, Output: []string{"logits"}})
		}), interop.ErrShape, []string{`"res" (Add)`, "[batch [3]]", "[batch [4 2 2]]"}},
		{"cycle", edit(func(mp *onnx.ModelProto) { node(mp, "MaxPool").Input[0] = "relu_3" }),
			interop.ErrFormat, []string{"maxpool2d_1", `"relu_3"`, "no initializer or earlier node"}},
		{"a node reading itself", edit(func(mp *onnx.ModelProto) {
			n := node(mp, "Relu")
			n.Input[0] = n.Output[0]
		}), interop.ErrFormat, []string{"relu_3", "no initializer or earlier node"}},
		{"the bias-free output read after a bias Add", edit(func(mp *onnx.ModelProto) {
			c := node(mp, "Conv")
			out := c.Output[0]
			c.Input, c.Output = c.Input[:2], []string{"raw"}
			initializer(mp, "conv1/b").Dims = []int64{3, 1, 1}
			replaceNode(mp, c, c, &onnx.NodeProto{Name: "bias", OpType: "Add", Input: []string{"raw", "conv1/b"}, Output: []string{out}})
			node(mp, "MaxPool").Input[0] = "raw"
		}), interop.ErrUnsupported, []string{"maxpool2d_1", `"raw"`, "bias"}},
		{"zero Pad before a MaxPool", edit(func(mp *onnx.ModelProto) {
			m := node(mp, "MaxPool")
			x := m.Input[0]
			m.Input[0] = "padded"
			replaceNode(mp, m, constNode("pads", 0, 0, 1, 1, 0, 0, 1, 1), &onnx.NodeProto{Name: "pad", OpType: "Pad", Input: []string{x, "pads"}, Output: []string{"padded"}}, m)
		}), interop.ErrUnsupported, []string{"maxpool2d_1", `"pad" (Pad)`, "Conv or AveragePool"}},
		{"Pad of the channels before a Conv", edit(func(mp *onnx.ModelProto) {
			c := nodeOf(t, mp, "Conv")
			x := c.Input[0]
			c.Input[0] = "padded"
			replaceNode(mp, c, constNode("pads", 0, 1, 0, 0, 0, 0, 0, 0), &onnx.NodeProto{Name: "pad", OpType: "Pad", Input: []string{x, "pads"}, Output: []string{"padded"}}, c)
		}), interop.ErrUnsupported, []string{`"pad" (Pad)`, "pads [0 1 0 0 0 0 0 0]"}},
		{"reflecting Pad", edit(func(mp *onnx.ModelProto) {
			c := nodeOf(t, mp, "Conv")
			x := c.Input[0]
			c.Input[0] = "padded"
			replaceNode(mp, c, constNode("pads", 0, 0, 1, 1, 0, 0, 1, 1), &onnx.NodeProto{Name: "pad", OpType: "Pad", Input: []string{x, "pads"}, Output: []string{"padded"},
				Attribute: []*onnx.AttributeProto{{Name: "mode", Type: onnx.AttributeProto_STRING, S: []byte("reflect")}}}, c)
		}), interop.ErrUnsupported, []string{`"pad" (Pad)`, "mode=reflect"}},
		{"absurd conv weight", edit(func(mp *onnx.ModelProto) { initializer(mp, "conv2/W").Dims = []int64{1 << 20, 3, 1 << 20, 1 << 20} }),
			interop.ErrFormat, []string{"conv2/W", "dimensions"}},
		{"weight computed at run time", edit(func(mp *onnx.ModelProto) { node(mp, "Gemm").Input[1] = "flatten_4" }), interop.ErrUnsupported, []string{"fc1", "computed at run time"}},
		{"integer weight", edit(func(mp *onnx.ModelProto) {
			w := initializer(mp, "fc1/W")
			w.DataType = int32(onnx.TensorProto_INT32)
		}), interop.ErrUnsupported, []string{"fc1", "integer"}},
		{"weight of another size", edit(func(mp *onnx.ModelProto) {
			w := initializer(mp, "fc2/W")
			w.Dims = []int64{3, 5}
		}), interop.ErrShape, []string{"fc2", "[3 5]"}},
		{"opset 19", edit(func(mp *onnx.ModelProto) { mp.OpsetImport[0].Version = 19 }), interop.ErrUnsupported, []string{"opset 19"}},
		{"opset -1", edit(func(mp *onnx.ModelProto) { mp.OpsetImport[0].Version = -1 }), interop.ErrFormat, []string{"opset -1"}},
		{"no opset", edit(func(mp *onnx.ModelProto) { mp.OpsetImport = nil }), interop.ErrFormat, []string{"opset"}},
		{"external data", edit(func(mp *onnx.ModelProto) {
			w := initializer(mp, "fc1/W")
			w.DataLocation = onnx.TensorProto_EXTERNAL
			w.RawData = nil
		}), interop.ErrUnsupported, []string{"fc1/W", "external"}},
		{"raw data of the wrong length", edit(func(mp *onnx.ModelProto) {
			w := initializer(mp, "fc1/W")
			w.RawData = w.RawData[:len(w.RawData)-4]
		}), interop.ErrFormat, []string{"fc1/W", "values for dimensions"}},
		{"NaN weight", edit(func(mp *onnx.ModelProto) {
			binary.LittleEndian.PutUint32(initializer(mp, "fc2/b").RawData[4:], math.Float32bits(float32(math.NaN())))
		}), interop.ErrFormat, []string{"fc2/b", "NaN"}},
		{"huge dimensions", edit(func(mp *onnx.ModelProto) { initializer(mp, "fc1/W").Dims = []int64{1 << 40, 1 << 40} }), interop.ErrFormat, []string{"fc1/W", "dimensions"}},
		{"reshape that is not a flatten", reshapeTo([]*onnx.NodeProto{constNode("t", -1, 4, 4)}, "t"), interop.ErrUnsupported, []string{`"flat" (Reshape)`, "flattening"}},
		{"reshape to the wrong width", reshapeTo([]*onnx.NodeProto{constNode("t", -1, 15)}, "t"), interop.ErrShape, []string{`"flat" (Reshape)`, "[-1 15]"}},
		{"reshape depending on the batch", reshapeTo([]*onnx.NodeProto{
			{OpType: "Shape", Input: []string{"relu_3"}, Output: []string{"s"}},
			scalarConst("zero", 0),
			{OpType: "Gather", Input: []string{"s", "zero"}, Output: []string{"b"}},
			constNode("two", 2),
			{Name: "double", OpType: "Mul", Input: []string{"b", "two"}, Output: []string{"b2"}},
		}, "b2"), interop.ErrShape, []string{`"double" (Mul)`, "batch"}},
		{"reshape to a computed shape", reshapeTo(nil, "relu_3"), interop.ErrShape, []string{"flat", "computed from values"}},
		{"node reads an undefined tensor", edit(func(mp *onnx.ModelProto) { node(mp, "Relu").Input[0] = "nowhere" }), interop.ErrFormat, []string{"relu_3", `"nowhere"`}},
		{"output not at the end", edit(func(mp *onnx.ModelProto) { mp.Graph.Output[0].Name = "relu_3" }), interop.ErrUnsupported, []string{`"relu_3"`, "not the end"}},
		{"output of the wrong size", edit(func(mp *onnx.ModelProto) {
			mp.Graph.Output[0].Type.GetTensorType().Shape.Dim[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 7}
		}), interop.ErrShape, []string{"logits", "7"}},
		{"training-mode dropout", edit(func(mp *onnx.ModelProto) {
			r := node(mp, "Relu")
			out := r.Output[0]
			r.Output[0] = "pre"
			replaceNode(mp, r, r, scalarConst("yes", 1), &onnx.NodeProto{Name: "drop", OpType: "Dropout", Input: []string{"pre", "", "yes"}, Output: []string{out}})
		}), interop.ErrUnsupported, []string{`"drop" (Dropout)`, "training_mode"}},
		{"sparse index out of range", mutate(t, sparse, func(mp *onnx.ModelProto) {
			s := sparseInit(t, mp, "fc1/W")
			binary.LittleEndian.PutUint64(s.Indices.RawData[0:], 1<<20)
		}), interop.ErrFormat, []string{`"fc1/W" (Constant)`, "sparse tensor", "outside"}},
		{"sparse index repeated", mutate(t, sparse, func(mp *onnx.ModelProto) {
			s := sparseInit(t, mp, "fc1/W")
			copy(s.Indices.RawData[8:16], s.Indices.RawData[0:8])
		}), interop.ErrFormat, []string{"sparse tensor", "twice"}},
		{"sparse dims too large for the file", mutate(t, sparse, func(mp *onnx.ModelProto) {
			sparseInit(t, mp, "fc1/W").Dims = []int64{40000, 40000}
		}), interop.ErrFormat, []string{"sparse tensor", "more than"}},
		{"sparse initializer index out of range", mutate(t, sparse, func(mp *onnx.ModelProto) {
			toSparseInitializers(mp)
			binary.LittleEndian.PutUint64(mp.Graph.SparseInitializer[0].Indices.RawData[0:], 1<<20)
		}), interop.ErrFormat, []string{"sparse tensor", "outside"}},
	}
}

// sparseConstants are the sparse_value tensors of the Constant nodes of
// an export, by output name.
func sparseConstants(mp *onnx.ModelProto) map[string]*onnx.SparseTensorProto {
	out := map[string]*onnx.SparseTensorProto{}
	for _, n := range mp.GetGraph().GetNode() {
		for _, a := range n.GetAttribute() {
			if n.GetOpType() == "Constant" && a.GetName() == "sparse_value" {
				out[n.GetOutput()[0]] = a.GetSparseTensor()
			}
		}
	}
	return out
}

// toSparseInitializers moves the sparse Constant nodes of an export into
// sparse_initializers, the form other writers use.
func toSparseInitializers(mp *onnx.ModelProto) {
	g := mp.Graph
	var nodes []*onnx.NodeProto
	for _, n := range g.Node {
		if s := sparseConstants(&onnx.ModelProto{Graph: &onnx.GraphProto{Node: []*onnx.NodeProto{n}}}); len(s) == 1 {
			g.SparseInitializer = append(g.SparseInitializer, s[n.Output[0]])
			continue
		}
		nodes = append(nodes, n)
	}
	g.Node = nodes
}

func sparseInit(t testing.TB, mp *onnx.ModelProto, name string) *onnx.SparseTensorProto {
	s := sparseConstants(mp)[name]
	if s == nil {
		t.Fatalf("no sparse Constant %s", name)
	}
	if len(s.Indices.RawData) < 16 {
		t.Fatalf("sparse %s has fewer than 2 values", name)
	}
	return s
}

func TestDecodeBadInput(t *testing.T) {
	for _, c := range badFiles(t) {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := interop.Decode(c.file, interop.ImportOptions{})
			if err == nil {
				t.Fatalf("imported without error: %+v", m.Spec)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not match %v", err, c.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err)
			}
			if n := len(err.Error()); n > 1000 {
				t.Errorf("error is %d bytes long: %.200q…", n, err)
			}
			for _, s := range c.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	if _, _, err := interop.ReadFile(filepath.Join(t.TempDir(), "missing.onnx"), interop.ImportOptions{}); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := interop.ReadFile(t.TempDir(), interop.ImportOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder: %v", err)
	}
}

func TestImportName(t *testing.T) {
	b := encode(t, randomModel(t, tinyMLP(), 1), interop.ExportOptions{})
	m, _, err := interop.Decode(b, interop.ImportOptions{Name: "mine"})
	if err != nil || m.Spec.Name != "mine" {
		t.Fatalf("got %v, %v", m, err)
	}
	// Without the metadata of a spred export, layers are named as in the
	// zoo and the spec after the graph.
	plain := mutate(t, b, func(mp *onnx.ModelProto) { mp.MetadataProps = nil })
	m, _, err = interop.Decode(plain, interop.ImportOptions{})
	if err != nil || m.Spec.Name != "tiny-mlp" || m.Spec.Layers[0].Name != "fc1" || m.Meta.Tool != "" {
		t.Fatalf("got %+v, %v", m, err)
	}
}

// TestImportDropsInvalidProvenance: a recorded provenance whose accuracy
// is a percentage (50 for 50%) is dropped on import, like one that does
// not parse, rather than carried into the model file.
func TestImportDropsInvalidProvenance(t *testing.T) {
	m := randomModel(t, tinyCNN(), 4)
	b := mutate(t, encode(t, m, interop.ExportOptions{}), func(mp *onnx.ModelProto) {
		for _, e := range mp.MetadataProps {
			if e.Key == models.MetaProvenance {
				e.Value = `{"tool":"x","seed":1,"accuracy":50}`
			}
		}
	})
	got, _, err := interop.Decode(b, interop.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Accuracy != nil || got.Meta.Tool != "" {
		t.Errorf("provenance kept: %+v", got.Meta)
	}
}
