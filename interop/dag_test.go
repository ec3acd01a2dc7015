package interop_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// tinyResNet is a small graph with every layer kind of a residual CNN: a
// conv without bias, batch norms (one with its own eps and momentum), a
// grouped conv, a residual add, padded max and average pooling, global
// pooling.
func tinyResNet() models.Spec {
	return models.Spec{
		Name:  "tiny-resnet",
		Input: []int{2, 8, 8},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn1"},
			{Kind: models.ReLU, Name: "relu1"},
			{Kind: models.Conv2d, Name: "conv2", Filters: 4, Kernel: 3, Padding: 1, Groups: 2},
			{Kind: models.BatchNorm2d, Name: "bn2", Eps: 1e-3, Momentum: 0.25},
			{Kind: models.Add, Name: "add", Inputs: []string{"bn2", "relu1"}},
			{Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 2, Padding: 1}, // 4×4×4
			{Kind: models.AvgPool2d, Kernel: 3, Stride: 1, Padding: 1}, // 4×4×4
			{Kind: models.GlobalAvgPool2d},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

func resnet8(t testing.TB) models.Spec {
	t.Helper()
	e, err := models.LookupEntry("resnet-8")
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.ForInput([]int{3, 32, 32})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bnModel is randomModel with batch-norm statistics far from the
// identity: scales around 1, shifts, means and positive variances.
func bnModel(t testing.TB, spec models.Spec, seed int64) *models.Model {
	t.Helper()
	m := randomModel(t, spec, seed)
	rng := rand.New(rand.NewSource(seed + 100))
	for _, p := range m.Params.All() {
		vals := p.Float64s()
		for i := range vals {
			switch {
			case strings.HasSuffix(p.Name, "/"+models.RoleScale):
				vals[i] = 1 + 0.3*rng.NormFloat64()
			case strings.HasSuffix(p.Name, "/"+models.RoleShift), strings.HasSuffix(p.Name, "/"+models.RoleMean):
				vals[i] = 0.3 * rng.NormFloat64()
			case strings.HasSuffix(p.Name, "/"+models.RoleVar):
				vals[i] = 0.2 + 1.5*rng.Float64()
			default:
				continue
			}
		}
		if err := p.SetFloat64s(vals); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func randomSamples(spec models.Spec, n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, n*spec.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// engineLogits runs m with the inference engine on the n samples of x.
func engineLogits(t testing.TB, m *models.Model, x []float32, n int) [][]float64 {
	t.Helper()
	e, err := infer.New(m, infer.Options{Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	y, err := e.Forward(x, n)
	if err != nil {
		t.Fatal(err)
	}
	c := len(y) / n
	rows := make([][]float64, n)
	for i := range rows {
		for _, v := range y[i*c : (i+1)*c] {
			rows[i] = append(rows[i], float64(v))
		}
	}
	return rows
}

// relDiff is max |got − want| over max(1, max |want|); it fails t when
// the shapes differ.
func relDiff(t testing.TB, what string, want, got [][]float64) float64 {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	scale, diff := 1.0, 0.0
	for i := range want {
		if len(want[i]) != len(got[i]) {
			t.Fatalf("%s: row %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j, w := range want[i] {
			scale = math.Max(scale, math.Abs(w))
			d := math.Abs(w - got[i][j])
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			diff = math.Max(diff, d)
		}
	}
	return diff / scale
}

func writeSamples(t testing.TB, path string, x []float32) {
	t.Helper()
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResidualRoundTrip: residual CNNs with random weights and batch-norm
// statistics export and import back to the same spec and bit-identical
// parameters at opsets 13 and 17; without the spred metadata the import
// is the same graph (named from the node names) with the same logits.
func TestResidualRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *models.Model
	}{
		{"tiny resnet", bnModel(t, tinyResNet(), 1)},
		{"resnet-8", bnModel(t, resnet8(t), 2)},
	} {
		for _, opset := range []int{13, 17} {
			b := encode(t, c.m, interop.ExportOptions{Opset: opset})
			got, rep, err := interop.Decode(b, interop.ImportOptions{})
			if err != nil {
				t.Fatalf("%s opset %d: %v", c.name, opset, err)
			}
			sameModel(t, c.m, got)
			if rep.Opset != int64(opset) || len(rep.Layers) != len(c.m.Spec.Layers) {
				t.Errorf("%s opset %d: report %+v", c.name, opset, rep)
			}
		}
		plain := mutate(t, encode(t, c.m, interop.ExportOptions{}), func(mp *onnx.ModelProto) { mp.MetadataProps = nil })
		got, _, err := interop.Decode(plain, interop.ImportOptions{})
		if err != nil {
			t.Fatalf("%s without metadata: %v", c.name, err)
		}
		wantNodes, err := c.m.Spec.Nodes()
		if err != nil {
			t.Fatal(err)
		}
		gotNodes, err := got.Spec.Nodes()
		if err != nil {
			t.Fatal(err)
		}
		for i := range wantNodes {
			w, g := wantNodes[i].Layer, gotNodes[i].Layer
			w.Name, w.Inputs, g.Name, g.Inputs = "", nil, "", nil
			if w.Kind == models.Conv2d {
				w.Stride, g.Stride = w.StrideOrDefault(), g.StrideOrDefault()
			}
			if !reflect.DeepEqual(w, g) || !reflect.DeepEqual(wantNodes[i].Inputs, gotNodes[i].Inputs) {
				t.Fatalf("%s without metadata: layer %d is %v reading %v, want %v reading %v", c.name, i, gotNodes[i].Layer, gotNodes[i].Inputs, wantNodes[i].Layer, wantNodes[i].Inputs)
			}
		}
		for i, l := range got.Spec.Layers {
			if k := models.Kind(l.Kind); k.Named && l.Name != c.m.Spec.Layers[i].Name {
				t.Errorf("%s without metadata: layer %d named %q, want the node name %q", c.name, i, l.Name, c.m.Spec.Layers[i].Name)
			}
		}
		x := randomSamples(c.m.Spec, 4, 3)
		if d := relDiff(t, c.name, engineLogits(t, c.m, x, 4), engineLogits(t, got, x, 4)); d != 0 {
			t.Errorf("%s without metadata: logits differ by %g (relative)", c.name, d)
		}
	}
}

// TestResidualExportRuns: ONNX Runtime runs the exports of resnet-8 (opsets
// 13 and 17, thinned, and 90% pruned with sparse weights) and of tinyResNet with random weights and batch-norm
// statistics and gives the engine's logits within 1e-4 (relative to the
// largest logit, at least 1).
func TestResidualExportRuns(t *testing.T) {
	node := interoptest.Node(t)
	script := filepath.Join(interoptest.Scripts(t), "run_ort.js")
	tmp := t.TempDir()
	const n = 16
	r8 := bnModel(t, resnet8(t), 5)
	tiny := bnModel(t, tinyResNet(), 6)
	thin := thinnedResNet8(t, r8)
	sparse := prune(t, bnModel(t, resnet8(t), 7), 0.1, 8)
	cases := []struct {
		name   string
		m      *models.Model
		opset  int
		sparse bool
	}{{"resnet-8 opset 13", r8, 13, false}, {"resnet-8 opset 17", r8, 17, false}, {"resnet-8 thinned", thin, 13, false},
		{"resnet-8 pruned sparse opset 17", sparse, 17, true}, {"tiny resnet", tiny, 13, false}}
	for _, shape := range [][]int{r8.Spec.Input, tiny.Spec.Input} {
		var files []string
		var run []int
		for i, c := range cases {
			if !reflect.DeepEqual(c.m.Spec.Input, shape) {
				continue
			}
			p := filepath.Join(tmp, strings.ReplaceAll(c.name, " ", "-")+".onnx")
			if err := interop.WriteFile(p, c.m, interop.ExportOptions{Opset: c.opset, Sparse: c.sparse}); err != nil {
				t.Fatal(err)
			}
			files, run = append(files, p), append(run, i)
		}
		spec := cases[run[0]].m.Spec
		x := randomSamples(spec, n, 9)
		in := filepath.Join(tmp, "x.f32")
		writeSamples(t, in, x)
		var got struct {
			Models []struct {
				Logits [][]float64 `json:"logits"`
			} `json:"models"`
		}
		dims := make([]string, len(shape))
		for i, d := range shape {
			dims[i] = formatInt(d)
		}
		interoptest.RunJSON(t, &got, node, script, "--model", strings.Join(files, ","), "--input", in, "--shape", strings.Join(dims, ","), "--count", formatInt(n))
		if len(got.Models) != len(files) {
			t.Fatalf("ONNX Runtime ran %d models, want %d", len(got.Models), len(files))
		}
		for k, i := range run {
			c := cases[i]
			d := relDiff(t, c.name, engineLogits(t, c.m, x, n), got.Models[k].Logits)
			if d > 1e-4 {
				t.Errorf("%s: ONNX Runtime's logits differ from the engine's by %.3g (relative)", c.name, d)
			}
			t.Logf("%s: max relative logit difference to ONNX Runtime %.3g on %d samples", c.name, d, n)
		}
	}
}

// thinnedResNet8 kills three channels inside resnet-8's first block (their
// filters and batch-norm scale and shift) and thins the model: a residual
// network with fewer channels computing the same function.
func thinnedResNet8(t *testing.T, m *models.Model) *models.Model {
	t.Helper()
	m = &models.Model{Spec: m.Spec, Params: m.Params.Clone(), Meta: m.Meta}
	w := m.Params.Get("layer1.0.conv1/W")
	vals := w.Float64s()
	per := len(vals) / w.Shape()[0]
	for _, c := range []int{1, 4, 9} {
		for i := c * per; i < (c+1)*per; i++ {
			vals[i] = 0
		}
		for _, role := range []string{models.RoleScale, models.RoleShift} {
			p := m.Params.Get(models.ParamName("layer1.0.bn1", role))
			v := p.Float64s()
			v[c] = 0
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.SetFloat64s(vals); err != nil {
		t.Fatal(err)
	}
	thin, rep, err := models.Thin(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := thin.Params.Get("layer1.0.conv1/W").Shape()[0]; got != 13 || rep.FLOPsAfter >= rep.FLOPsBefore {
		t.Fatalf("thinned layer1.0.conv1 to %d filters (want 13), FLOPs %d → %d", got, rep.FLOPsBefore, rep.FLOPsAfter)
	}
	return thin
}

func formatInt(n int) string { return strconvItoa(n) }

func strconvItoa(n int) string { return strconv.Itoa(n) }

// TestImportTorchResNets: He et al.'s CIFAR ResNet-8 and ResNet-20
// (scripts/torch) and
// torchvision's ResNet-18 with random weights and batch-norm statistics,
// exported by torch.onnx.export with the batch norms kept and folded into
// the convolutions, at opsets 13 and 17 (the CIFAR ResNet also at 7, 9 and
// 11), import to models whose logits on random 3×32×32 input are
// PyTorch's within 1e-4 (relative to the largest logit, at least 1).
func TestImportTorchResNets(t *testing.T) {
	python := interoptest.PythonWith(t, "torch", "torchvision", "onnx")
	script := filepath.Join(interoptest.Scripts(t), "torch_resnet_export.py")
	variants := []string{
		"cifar-resnet-8:13:bn", "cifar-resnet-8:17:bn", "cifar-resnet-8:13:folded", "cifar-resnet-8:17:folded",
		"resnet18:13:bn", "resnet18:17:bn", "resnet18:13:folded", "resnet18:17:folded",
		"cifar-resnet-8:7:bn", "cifar-resnet-8:9:bn", "cifar-resnet-8:11:folded",
		"cifar-resnet-20:13:bn", "cifar-resnet-20:17:folded",
	}
	var got struct {
		Input  string `json:"input"`
		Count  int    `json:"count"`
		Models []struct {
			Variant string      `json:"variant"`
			File    string      `json:"file"`
			BNNodes int         `json:"bn_nodes"`
			Logits  [][]float64 `json:"logits"`
		} `json:"models"`
	}
	interoptest.RunJSON(t, &got, python, append([]string{script, "--out", t.TempDir(), "--count", "8"}, variants...)...)
	if len(got.Models) != len(variants) {
		t.Fatalf("%d models exported, want %d", len(got.Models), len(variants))
	}
	raw, err := os.ReadFile(got.Input)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(raw)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	for _, v := range got.Models {
		m, rep, err := interop.ReadFile(v.File, interop.ImportOptions{})
		if err != nil {
			t.Errorf("%s: %v", v.Variant, err)
			continue
		}
		bn, biased := 0, 0
		for _, l := range m.Spec.Layers {
			switch {
			case l.Kind == models.BatchNorm2d:
				bn++
				if l.Momentum != 0.3 || l.Eps != 0 {
					t.Errorf("%s: %s has eps %g and momentum %g, want PyTorch's 1e-5 (0) and 0.3", v.Variant, l.Name, l.Eps, l.Momentum)
				}
			case l.Kind == models.Conv2d && !l.NoBias:
				biased++
			}
		}
		folded := strings.HasSuffix(v.Variant, ":folded")
		if bn != v.BNNodes || folded != (bn == 0) || folded != (biased > 0) {
			t.Errorf("%s: %d batch norms (the file has %d) and %d convolutions with bias", v.Variant, bn, v.BNNodes, biased)
		}
		d := relDiff(t, v.Variant, v.Logits, engineLogits(t, m, x, got.Count))
		if d > 1e-4 {
			t.Errorf("%s: logits differ from PyTorch's by %.3g (relative)", v.Variant, d)
		}
		t.Logf("%s (opset %d): %d layers, %d batch norms; max relative logit difference to PyTorch %.3g on %d samples", v.Variant, rep.Opset, len(m.Spec.Layers), bn, d, got.Count)
	}
}

func floatAttr(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func setNodeAttr(n *onnx.NodeProto, a *onnx.AttributeProto) {
	for i, x := range n.Attribute {
		if x.Name == a.Name {
			n.Attribute[i] = a
			return
		}
	}
	n.Attribute = append(n.Attribute, a)
}

func nodeNamed(t testing.TB, mp *onnx.ModelProto, name string) *onnx.NodeProto {
	t.Helper()
	for _, n := range mp.Graph.Node {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %q", name)
	return nil
}

// padBefore moves the padding of node n into a Pad node before it (the
// pads as an input from opset 11, an attribute before).
func padBefore(t testing.TB, mp *onnx.ModelProto, n *onnx.NodeProto, p int64) {
	x := n.Input[0]
	n.Input[0] = n.Name + "_padded"
	setNodeAttr(n, ints("pads", 0, 0, 0, 0))
	pad := &onnx.NodeProto{Name: n.Name + "_pad", OpType: "Pad", Input: []string{x, n.Name + "_pads"}, Output: []string{n.Input[0]}}
	pads := constNode(n.Name+"_pads", 0, 0, p, p, 0, 0, p, p)
	if mp.OpsetImport[0].Version < 11 {
		pad.Input = pad.Input[:1]
		pad.Attribute = []*onnx.AttributeProto{ints("pads", 0, 0, p, p, 0, 0, p, p)}
		replaceNode(mp, n, pad, n)
		return
	}
	replaceNode(mp, n, pads, pad, n)
}

// TestImportGraphVariants: the ways other writers express the layers of a
// residual CNN import to the same model: zero Pads before a Conv and an
// AveragePool, Clip as a ReLU, Identity and Dropout between layers, and the
// attributes of old opsets (BatchNormalization's spatial, Dropout's ratio,
// Pad's pads).
func TestImportGraphVariants(t *testing.T) {
	m := bnModel(t, tinyResNet(), 21)
	base := encode(t, m, interop.ExportOptions{})
	for _, c := range []struct {
		name  string
		opset int64
		edit  func(mp *onnx.ModelProto)
	}{
		{"Pad before Conv and AveragePool", 13, func(mp *onnx.ModelProto) {
			padBefore(t, mp, nodeNamed(t, mp, "conv2"), 1)
			avg := nodeOf(t, mp, "AveragePool")
			setNodeAttr(avg, intAttr("count_include_pad", 0))
			padBefore(t, mp, avg, 1)
		}},
		{"Pad of opset 18 with axes", 18, func(mp *onnx.ModelProto) {
			c := nodeNamed(t, mp, "conv2")
			x := c.Input[0]
			c.Input[0] = "padded"
			setNodeAttr(c, ints("pads", 0, 0, 0, 0))
			replaceNode(mp, c, constNode("pads", 1, 1, 1, 1), constNode("axes", 2, -1),
				&onnx.NodeProto{OpType: "Pad", Input: []string{x, "pads", "", "axes"}, Output: []string{"padded"}}, c)
		}},
		{"Clip as ReLU, Identity, Dropout", 13, func(mp *onnx.ModelProto) {
			r := nodeNamed(t, mp, "relu1")
			out := r.Output[0]
			r.OpType, r.Input, r.Output = "Clip", []string{r.Input[0], "zero"}, []string{"clipped"}
			mp.Graph.Initializer = append(mp.Graph.Initializer, &onnx.TensorProto{Name: "zero", DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{0}})
			replaceNode(mp, r, r, &onnx.NodeProto{OpType: "Identity", Input: []string{"clipped"}, Output: []string{"id"}},
				&onnx.NodeProto{OpType: "Dropout", Input: []string{"id"}, Output: []string{out}})
		}},
		{"opset 8: spatial, ratio, Pad attributes, Clip attributes", 8, func(mp *onnx.ModelProto) {
			for _, n := range mp.Graph.Node {
				if n.OpType == "BatchNormalization" {
					setNodeAttr(n, intAttr("spatial", 1))
				}
			}
			padBefore(t, mp, nodeNamed(t, mp, "conv1"), 1)
			r := nodeNamed(t, mp, "relu1")
			out := r.Output[0]
			r.OpType, r.Output, r.Attribute = "Clip", []string{"clipped"}, []*onnx.AttributeProto{floatAttr("min", 0)}
			replaceNode(mp, r, r, &onnx.NodeProto{OpType: "Dropout", Input: []string{"clipped"}, Output: []string{out}, Attribute: []*onnx.AttributeProto{floatAttr("ratio", 0.3)}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, rep, err := interop.Decode(mutate(t, base, func(mp *onnx.ModelProto) {
				mp.OpsetImport[0].Version = c.opset
				c.edit(mp)
			}), interop.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Opset != c.opset {
				t.Errorf("opset %d, want %d", rep.Opset, c.opset)
			}
			sameModel(t, m, got)
		})
	}
}

// badGraphs are residual CNNs that must not import, and what the error
// must say.
func badGraphs(t testing.TB) []badFile {
	base := encode(t, bnModel(t, tinyResNet(), 22), interop.ExportOptions{})
	edit := func(opset int64, f func(mp *onnx.ModelProto)) []byte {
		return mutate(t, base, func(mp *onnx.ModelProto) {
			mp.OpsetImport[0].Version = opset
			f(mp)
		})
	}
	attr := func(opset int64, node string, a *onnx.AttributeProto) []byte {
		return edit(opset, func(mp *onnx.ModelProto) { setNodeAttr(nodeNamed(t, mp, node), a) })
	}
	return []badFile{
		{"batch norm spatial=0", attr(8, "bn1", intAttr("spatial", 0)), interop.ErrUnsupported, []string{`"bn1" (BatchNormalization)`, "spatial=0"}},
		{"batch norm spatial at opset 9", attr(9, "bn1", intAttr("spatial", 1)), interop.ErrUnsupported, []string{`"bn1"`, `"spatial"`}},
		{"batch norm in training mode", attr(17, "bn1", intAttr("training_mode", 1)), interop.ErrUnsupported, []string{`"bn1"`, "training_mode=1"}},
		{"batch norm momentum 1", attr(13, "bn2", floatAttr("momentum", 1)), interop.ErrUnsupported, []string{`"bn2"`, "momentum=1"}},
		{"batch norm epsilon 0", attr(13, "bn2", floatAttr("epsilon", 0)), interop.ErrUnsupported, []string{`"bn2"`, "epsilon=0"}},
		{"batch norm statistics output", edit(13, func(mp *onnx.ModelProto) {
			n := nodeNamed(t, mp, "bn1")
			n.Output = append(n.Output, "running_mean")
		}), interop.ErrUnsupported, []string{`"bn1"`, "running_mean"}},
		{"negative variance", edit(13, func(mp *onnx.ModelProto) {
			binary.LittleEndian.PutUint32(initializer(mp, "bn1/var").RawData[4:], math.Float32bits(-1))
		}), interop.ErrFormat, []string{`"bn1"`, "negative"}},
		{"batch norm reading a later node", edit(13, func(mp *onnx.ModelProto) {
			n := nodeNamed(t, mp, "bn1")
			n.Input[0] = "flatten_10"
		}), interop.ErrFormat, []string{`"bn1"`, "flatten_10"}},
		{"average pool padded as wide as its window", attr(13, "avgpool2d_8", ints("pads", 3, 0, 0, 0)), interop.ErrUnsupported, []string{"avgpool2d_8", "pads=[3 0 0 0]", "no input value"}},
		{"ceil_mode 2", attr(13, "maxpool2d_7", intAttr("ceil_mode", 2)), interop.ErrUnsupported, []string{"maxpool2d_7", "ceil_mode=2"}},
		{"Clip to [5, 0]", edit(13, func(mp *onnx.ModelProto) {
			r := nodeNamed(t, mp, "relu1")
			r.OpType, r.Input = "Clip", []string{r.Input[0], "zero", "six"}
			mp.Graph.Initializer = append(mp.Graph.Initializer,
				&onnx.TensorProto{Name: "zero", DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{5}},
				&onnx.TensorProto{Name: "six", DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{0}})
		}), interop.ErrUnsupported, []string{`"relu1" (Clip)`, "[5, 0]", "min ≤ max"}},
		{"Dropout ratio at opset 12", edit(12, func(mp *onnx.ModelProto) {
			r := nodeNamed(t, mp, "relu1")
			out := r.Output[0]
			r.Output = []string{"pre"}
			replaceNode(mp, r, r, &onnx.NodeProto{Name: "drop", OpType: "Dropout", Input: []string{"pre"}, Output: []string{out}, Attribute: []*onnx.AttributeProto{floatAttr("ratio", 0.3)}})
		}), interop.ErrUnsupported, []string{`"drop" (Dropout)`, `"ratio"`}},
		{"Pad with ones", edit(13, func(mp *onnx.ModelProto) {
			padBefore(t, mp, nodeNamed(t, mp, "conv2"), 1)
			p := nodeNamed(t, mp, "conv2_pad")
			p.Input = append(p.Input, "one")
			mp.Graph.Initializer = append(mp.Graph.Initializer, &onnx.TensorProto{Name: "one", DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{1}})
		}), interop.ErrUnsupported, []string{`"conv2_pad" (Pad)`, "padding with 1"}},
		{"Pad read by two kinds of layer", edit(13, func(mp *onnx.ModelProto) {
			padBefore(t, mp, nodeNamed(t, mp, "conv2"), 1)
			nodeNamed(t, mp, "add").Input[1] = "conv2_padded"
		}), interop.ErrUnsupported, []string{`"add" (Add)`, "conv2_padded", "Pad"}},
		{"residual Add of the wrong shapes", edit(13, func(mp *onnx.ModelProto) { nodeNamed(t, mp, "add").Input[1] = "input" }),
			interop.ErrShape, []string{`"add" (Add)`, "[batch [4 8 8]]", "[batch [2 8 8]]"}},
		{"group that does not divide", attr(13, "conv2", intAttr("group", 3)), interop.ErrUnsupported, []string{`"conv2"`, "group=3"}},
		{"group that does not fit the weight", attr(13, "conv2", intAttr("group", 4)), interop.ErrUnsupported, []string{`"conv2"`, "group=4"}},
		{"residual cycle", edit(13, func(mp *onnx.ModelProto) { nodeNamed(t, mp, "conv2").Input[0] = "add_5" }),
			interop.ErrFormat, []string{`"conv2"`, `"add_5"`}},
		{"absurd batch-norm scale", edit(13, func(mp *onnx.ModelProto) { initializer(mp, "bn2/scale").Dims = []int64{1 << 62} }),
			interop.ErrFormat, []string{"bn2/scale"}},
	}
}

func TestDecodeBadGraphs(t *testing.T) {
	for _, c := range badGraphs(t) {
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
			for _, s := range c.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}
