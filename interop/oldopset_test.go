package interop_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// oldResNet is a residual block (Conv with bias, BatchNormalization, Relu,
// a bias-free Conv, a second batch norm with its own eps and momentum,
// the Add of two activations) and a head (MaxPool, GlobalAveragePool,
// Flatten, Gemm) with nothing that old opsets cannot say.
func oldResNet() models.Spec {
	return models.Spec{
		Name:  "old-resnet",
		Input: []int{2, 8, 8},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 3, Padding: 1},
			{Kind: models.BatchNorm2d, Name: "bn1"},
			{Kind: models.ReLU, Name: "relu1"},
			{Kind: models.Conv2d, Name: "conv2", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn2", Eps: 1e-3, Momentum: 0.25},
			{Kind: models.Add, Name: "add", Inputs: []string{"bn2", "relu1"}},
			{Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.GlobalAvgPool2d},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// consumed is the legacy consumed_inputs attribute of a node of k inputs.
func consumed(k int) *onnx.AttributeProto {
	return ints("consumed_inputs", make([]int64, k)...)
}

// downgrade rewrites an opset-13 export as an exporter of the given older
// opset writes it: the bias of a Conv as an Add with broadcast=1, axis=1
// (opset < 7), Gemm with broadcast=1 (< 7), BatchNormalization with
// is_test=1 and spatial=1 (< 7), consumed_inputs on the ops that had it
// (< 6), a Dropout(is_test=1) before the output, and Flatten as a Reshape
// with the shape attribute (< 5).
func downgrade(t testing.TB, mp *onnx.ModelProto, opset int64) {
	t.Helper()
	mp.OpsetImport[0].Version = opset
	g := mp.Graph
	var nodes []*onnx.NodeProto
	for i, n := range g.Node {
		if opset < 6 {
			switch n.OpType {
			case "Relu", "Add", "BatchNormalization":
				n.Attribute = append(n.Attribute, consumed(len(n.Input)))
			}
		}
		switch n.OpType {
		case "Conv":
			if len(n.Input) == 3 && opset < 7 {
				out, b := n.Output[0], n.Input[2]
				n.Input, n.Output = n.Input[:2], []string{fmt.Sprintf("conv_raw_%d", i)}
				add := &onnx.NodeProto{Name: fmt.Sprintf("bias_%d", i), OpType: "Add", Input: []string{n.Output[0], b}, Output: []string{out},
					Attribute: []*onnx.AttributeProto{intAttr("broadcast", 1), intAttr("axis", 1)}}
				if opset < 6 {
					add.Attribute = append(add.Attribute, consumed(2))
				}
				nodes = append(nodes, n, add)
				continue
			}
		case "Gemm":
			if opset < 7 {
				n.Attribute = append(n.Attribute, intAttr("broadcast", 1))
			}
		case "BatchNormalization":
			if opset < 7 {
				n.Attribute = append(n.Attribute, intAttr("is_test", 1), intAttr("spatial", 1))
			}
		case "Flatten":
			if opset < 5 {
				n = &onnx.NodeProto{Name: n.Name, OpType: "Reshape", Input: n.Input, Output: n.Output,
					Attribute: []*onnx.AttributeProto{ints("shape", 0, -1)}}
			}
		}
		nodes = append(nodes, n)
	}
	if opset < 7 {
		// A Dropout in test mode before the output.
		last := nodes[len(nodes)-1]
		drop := &onnx.NodeProto{Name: "drop", OpType: "Dropout", Input: last.Output, Output: []string{"dropped"},
			Attribute: []*onnx.AttributeProto{intAttr("is_test", 1), {Name: "ratio", Type: onnx.AttributeProto_FLOAT, F: 0.5}}}
		if opset < 6 {
			drop.Attribute = append(drop.Attribute, consumed(1))
		}
		out := mp.Graph.Output[0].Name
		last.Output = []string{"before_drop"}
		drop.Input = last.Output
		drop.Output = []string{out}
		nodes = append(nodes, drop)
	}
	g.Node = nodes
}

// TestImportOldOpsets: a residual block with batch norm and an MLP with
// Gemm, rewritten as opsets 1, 4, 5 and 6 write them, import to the
// models their opset-13 exports import to, with the same logits.
func TestImportOldOpsets(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *models.Model
	}{
		{"residual block", bnModel(t, oldResNet(), 11)},
		{"mlp", randomModel(t, tinyMLP(), 12)},
	} {
		base := encode(t, c.m, interop.ExportOptions{})
		want, _, err := interop.Decode(base, interop.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		x := randomSamples(c.m.Spec, 5, 13)
		wantLogits := engineLogits(t, want, x, 5)
		for _, opset := range []int64{1, 4, 5, 6} {
			t.Run(fmt.Sprintf("%s opset %d", c.name, opset), func(t *testing.T) {
				b := mutate(t, base, func(mp *onnx.ModelProto) { downgrade(t, mp, opset) })
				got, rep, err := interop.Decode(b, interop.ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Opset != opset {
					t.Errorf("report opset %d, want %d", rep.Opset, opset)
				}
				sameModel(t, want, got)
				if d := relDiff(t, "logits", wantLogits, engineLogits(t, got, x, 5)); d != 0 {
					t.Errorf("logits differ from the opset-13 import's by %g", d)
				}
			})
		}
	}
}

// TestDecodeOldOpsetRefusals: what an old opset means that the layers
// cannot express is refused, naming the node, the attribute and the opset.
func TestDecodeOldOpsetRefusals(t *testing.T) {
	base := encode(t, bnModel(t, oldResNet(), 11), interop.ExportOptions{})
	mlp := encode(t, randomModel(t, tinyMLP(), 12), interop.ExportOptions{})
	at := func(b []byte, opset int64, f func(mp *onnx.ModelProto)) []byte {
		return mutate(t, b, func(mp *onnx.ModelProto) {
			downgrade(t, mp, opset)
			f(mp)
		})
	}
	// numpyBias makes the conv bias Add one of opset 7: no attributes,
	// the bias of dimensions [channels, 1, 1].
	numpyBias := func(mp *onnx.ModelProto) {
		n := nodeNamed(t, mp, "bias_0")
		n.Attribute = nil
		initializer(mp, n.Input[1]).Dims = []int64{4, 1, 1}
	}
	bnNode := func(mp *onnx.ModelProto) *onnx.NodeProto { return nodeOf(t, mp, "BatchNormalization") }
	biasAdd := func(mp *onnx.ModelProto) *onnx.NodeProto { return nodeNamed(t, mp, "bias_0") }
	for _, c := range []badFile{
		{"batch norm in training mode", at(base, 6, func(mp *onnx.ModelProto) { setNodeAttr(bnNode(mp), intAttr("is_test", 0)) }),
			interop.ErrUnsupported, []string{"(BatchNormalization)", "is_test=0", "opset 6", "training mode"}},
		{"batch norm without is_test", at(base, 6, func(mp *onnx.ModelProto) {
			n := bnNode(mp)
			n.Attribute = n.Attribute[:len(n.Attribute)-2]
		}), interop.ErrUnsupported, []string{"(BatchNormalization)", "is_test=0", "opset 6"}},
		{"batch norm per activation", at(base, 6, func(mp *onnx.ModelProto) { setNodeAttr(bnNode(mp), intAttr("spatial", 0)) }),
			interop.ErrUnsupported, []string{"(BatchNormalization)", "spatial=0"}},
		{"is_test at opset 7", at(base, 6, func(mp *onnx.ModelProto) {
			mp.OpsetImport[0].Version = 7
			numpyBias(mp)
		}),
			interop.ErrUnsupported, []string{"(BatchNormalization)", `attribute "is_test" at opset 7`}},
		{"bias Add on axis 2", at(base, 6, func(mp *onnx.ModelProto) { setNodeAttr(biasAdd(mp), intAttr("axis", 2)) }),
			interop.ErrUnsupported, []string{`"bias_0" (Add)`, "axis=2", "opset 6"}},
		{"bias Add matched to the width", at(base, 6, func(mp *onnx.ModelProto) {
			n := biasAdd(mp)
			n.Attribute = n.Attribute[:1]
		}), interop.ErrUnsupported, []string{`"bias_0" (Add)`, "opset 6", "no axis"}},
		{"bias Add without broadcast", at(base, 6, func(mp *onnx.ModelProto) { setNodeAttr(biasAdd(mp), intAttr("broadcast", 0)) }),
			interop.ErrUnsupported, []string{`"bias_0" (Add)`, "broadcast=0", "opset 6"}},
		{"bias Add with the constant first", at(base, 6, func(mp *onnx.ModelProto) {
			n := biasAdd(mp)
			n.Input[0], n.Input[1] = n.Input[1], n.Input[0]
		}), interop.ErrUnsupported, []string{`"bias_0" (Add)`, "opset 6", "second input"}},
		{"broadcast at opset 7", at(base, 6, func(mp *onnx.ModelProto) { mp.OpsetImport[0].Version = 7 }),
			interop.ErrUnsupported, []string{"opset 7"}},
		{"consumed_inputs at opset 6", at(base, 5, func(mp *onnx.ModelProto) { mp.OpsetImport[0].Version = 6 }),
			interop.ErrUnsupported, []string{`"consumed_inputs" at opset 6`}},
		{"Gemm without broadcast", at(mlp, 6, func(mp *onnx.ModelProto) { setNodeAttr(nodeOf(t, mp, "Gemm"), intAttr("broadcast", 0)) }),
			interop.ErrUnsupported, []string{"(Gemm)", "broadcast=0", "opset 6"}},
		{"Gemm without C at opset 9", at(mlp, 6, func(mp *onnx.ModelProto) {
			mp.OpsetImport[0].Version = 9
			n := nodeOf(t, mp, "Gemm")
			n.Input, n.Attribute = n.Input[:2], nil
		}), interop.ErrFormat, []string{"(Gemm)", "opset 11", "is 9"}},
		{"dropout in training mode", at(mlp, 6, func(mp *onnx.ModelProto) { setNodeAttr(nodeNamed(t, mp, "drop"), intAttr("is_test", 0)) }),
			interop.ErrUnsupported, []string{`"drop" (Dropout)`, "is_test=0", "opset 6"}},
		{"ceil_mode before opset 10", at(base, 6, func(mp *onnx.ModelProto) {
			mp.OpsetImport[0].Version = 8
			numpyBias(mp)
			for _, n := range mp.Graph.Node {
				if n.OpType == "BatchNormalization" || n.OpType == "Dropout" {
					n.Attribute = n.Attribute[:len(n.Attribute)-2]
				}
				if n.OpType == "Gemm" {
					n.Attribute = n.Attribute[:len(n.Attribute)-1]
				}
			}
			setNodeAttr(nodeOf(t, mp, "MaxPool"), intAttr("ceil_mode", 0))
		}), interop.ErrUnsupported, []string{"(MaxPool)", `"ceil_mode" at opset 8`}},
		{"Reshape with a shape input at opset 4", at(mlp, 4, func(mp *onnx.ModelProto) {
			g := nodeOf(t, mp, "Gemm")
			x := g.Input[0]
			g.Input[0] = "flat"
			replaceNode(mp, g, constNode("shape", 0, -1), &onnx.NodeProto{Name: "flat", OpType: "Reshape", Input: []string{x, "shape"}, Output: []string{"flat"}}, g)
		}), interop.ErrFormat, []string{`"flat" (Reshape)`, "want 1 to 1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := interop.Decode(c.file, interop.ImportOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			for _, s := range c.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestOldAveragePoolLeavesPaddingOut: an AveragePool before opset 7, which
// has no count_include_pad and leaves its padding out of the mean, imports
// as an avgpool2d with exclude_pad.
func TestOldAveragePoolLeavesPaddingOut(t *testing.T) {
	b := mutate(t, encode(t, bnModel(t, oldResNet(), 11), interop.ExportOptions{}), func(mp *onnx.ModelProto) {
		downgrade(t, mp, 6)
		n := nodeOf(t, mp, "MaxPool")
		n.OpType = "AveragePool"
		setNodeAttr(n, ints("pads", 1, 1, 1, 1))
	})
	m, _, err := interop.Decode(b, interop.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pools []models.Layer
	for _, l := range m.Spec.Layers {
		if l.Kind == models.AvgPool2d {
			pools = append(pools, l)
		}
	}
	if len(pools) != 1 || !pools[0].ExcludePad || pools[0].Padding != 1 {
		t.Errorf("average pools %v; want one with padding 1 left out of the mean\n%s", pools, m.Spec)
	}
}
