package main

import (
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// prunedModel writes a zoo model with seeded random weights of which a
// fraction keep is non-zero, and returns its path and the model.
func prunedModel(t *testing.T, dir, zoo string, keep float64) (string, *models.Model) {
	t.Helper()
	spec, err := models.Lookup(zoo)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
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
	path := filepath.Join(dir, zoo+".safetensors")
	if err := models.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// sameParams checks that two model files hold bit-identical parameters and
// the same spec.
func sameParams(t *testing.T, a, b string) {
	t.Helper()
	ma, err := models.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := models.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ma.Spec, mb.Spec) {
		t.Fatalf("%s and %s: specs differ: %+v, %+v", a, b, ma.Spec, mb.Spec)
	}
	for _, p := range ma.Params.All() {
		q := mb.Params.Get(p.Name)
		pv, qv := p.Value.Data().([]float32), q.Value.Data().([]float32)
		for i := range pv {
			if math.Float32bits(pv[i]) != math.Float32bits(qv[i]) {
				t.Fatalf("%s and %s: %s[%d] is %v and %v", a, b, p.Name, i, pv[i], qv[i])
			}
		}
	}
}

// TestExportImportInspect: every export format reads back to the same
// parameters, the sparse forms are smaller, and inspect reports the sizes
// the exports really have.
func TestExportImportInspect(t *testing.T) {
	dir := t.TempDir()
	in, _ := prunedModel(t, dir, "lenet-5", 0.1)
	path := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct{ format, out string }{
		{"onnx", "m.onnx"}, {"onnx-sparse", "m-sparse.onnx"}, {"sparse", "m-sparse.safetensors"},
	} {
		code, out, errs := runApp(t, "export", "--model", in, "--format", c.format, "--out", path(c.out))
		if code != 0 || !strings.Contains(out, "wrote "+path(c.out)) {
			t.Fatalf("export %s: exit %d: %s %s", c.format, code, out, errs)
		}
	}
	code, out, errs := runApp(t, "export", "--model", path("m-sparse.safetensors"), "--format", "dense", "--out", path("dense-again.safetensors"))
	if code != 0 {
		t.Fatalf("export dense: %d %s %s", code, out, errs)
	}
	code, out, errs = runApp(t, "export", "--model", in, "--format", "thin", "--out", path("thin.safetensors"), "--json")
	if code != 0 {
		t.Fatalf("export thin: %d %s %s", code, out, errs)
	}
	var thinOut struct {
		Files []struct {
			Path  string `json:"path"`
			Bytes int64  `json:"bytes"`
		} `json:"files"`
		Thin models.ThinReport `json:"thin"`
	}
	if err := json.Unmarshal([]byte(out), &thinOut); err != nil || len(thinOut.Files) != 2 || thinOut.Files[1].Path != path("thin.onnx") {
		t.Fatalf("export thin: %v\n%s", err, out)
	}
	if thinOut.Thin.FLOPsAfter >= thinOut.Thin.FLOPsBefore || thinOut.Thin.Layers[0].UnitsAfter >= 20 {
		t.Errorf("thinning removed nothing: %+v", thinOut.Thin)
	}
	thin := must(models.ReadFile(path("thin.safetensors")))
	if thin.Spec.Layers[0].Filters != thinOut.Thin.Layers[0].UnitsAfter {
		t.Errorf("thinned conv1 has %d filters, the report says %d", thin.Spec.Layers[0].Filters, thinOut.Thin.Layers[0].UnitsAfter)
	}
	if code, _, errs := runApp(t, "import", path("thin.onnx"), "--out", path("thin-from-onnx.safetensors")); code != 0 {
		t.Fatalf("import thin.onnx: %s", errs)
	}
	sameParams(t, path("thin.safetensors"), path("thin-from-onnx.safetensors"))
	for _, c := range []struct{ onnx, out string }{{"m.onnx", "from-onnx.safetensors"}, {"m-sparse.onnx", "from-sparse-onnx.safetensors"}} {
		code, out, errs := runApp(t, "import", path(c.onnx), "--out", path(c.out))
		if code != 0 || !strings.Contains(out, "conv1: conv2d 20@5×5") || !strings.Contains(out, `"conv1" (Conv)`) {
			t.Fatalf("import %s: exit %d:\n%s%s", c.onnx, code, out, errs)
		}
		sameParams(t, in, path(c.out))
	}
	sameParams(t, in, path("m-sparse.safetensors"))
	if a, b := must(os.ReadFile(in)), must(os.ReadFile(path("dense-again.safetensors"))); string(a) != string(b) {
		t.Error("dense → sparse → dense does not give back the same file")
	}
	dense, sparse := fileSize(t, in), fileSize(t, path("m-sparse.safetensors"))
	if float64(dense)/float64(sparse) < 5 {
		t.Errorf("at 10× compression the sparse file (%d bytes) is less than 5× smaller than the dense one (%d)", sparse, dense)
	}
	if fileSize(t, path("m-sparse.onnx")) >= fileSize(t, path("m.onnx")) {
		t.Error("the onnx-sparse export is not smaller than the onnx one")
	}
	for _, f := range []string{in, path("m-sparse.safetensors"), path("m.onnx")} {
		code, out, errs := runApp(t, "inspect", "--json", f)
		if code != 0 {
			t.Fatalf("inspect %s: %d %s", f, code, errs)
		}
		var got inspection
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		want := formSizes{Dense: dense, Sparse: sparse, ONNX: fileSize(t, path("m.onnx")), ONNXSparse: fileSize(t, path("m-sparse.onnx")),
			Thinned: fileSize(t, path("thin.safetensors")), ThinnedONNX: fileSize(t, path("thin.onnx"))}
		if got.Sizes != want || got.FileBytes != fileSize(t, f) {
			t.Errorf("inspect %s: sizes %+v (file %d), want %+v (file %d)", f, got.Sizes, got.FileBytes, want, fileSize(t, f))
		}
		if got.Thin == nil || !reflect.DeepEqual(*got.Thin, thinOut.Thin) {
			t.Errorf("inspect %s: thin report %+v, export says %+v", f, got.Thin, thinOut.Thin)
		}
		if got.AllParams != 431080 || got.PrunableNonZero*8 > got.PrunableParams {
			t.Errorf("inspect %s: %d parameters, %d of %d prunable non-zero", f, got.AllParams, got.PrunableNonZero, got.PrunableParams)
		}
	}
	for f, format := range map[string]string{in: "safetensors", path("m-sparse.safetensors"): "safetensors-sparse", path("m.onnx"): "onnx"} {
		code, out, _ := runApp(t, "inspect", f)
		if code != 0 || !strings.Contains(out, "("+format+")") || !strings.Contains(out, "native sparse safetensors") || !strings.Contains(out, "ONNX, sparse weights") ||
			!strings.Contains(out, "thinned ONNX") || !strings.Contains(out, "FLOPs per example") {
			t.Errorf("inspect %s: exit %d:\n%s", f, code, out)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// logitsFile is what spred eval --logits, torch_export.py and run_ort.js
// write.
type logitsFile struct {
	Logits   [][]float64 `json:"logits"`
	Labels   []int       `json:"labels"`
	Accuracy float64     `json:"accuracy"`
}

func readLogits(t *testing.T, path string) logitsFile {
	t.Helper()
	var l logitsFile
	if err := json.Unmarshal(must(os.ReadFile(path)), &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// compareLogitFiles checks that two logit sets differ by at most 1e-4 and
// give the same class for every image.
func compareLogitFiles(t *testing.T, what string, a, b logitsFile) {
	t.Helper()
	if len(a.Logits) != len(b.Logits) || !reflect.DeepEqual(a.Labels, b.Labels) {
		t.Fatalf("%s: %d and %d rows, labels equal %v", what, len(a.Logits), len(b.Logits), reflect.DeepEqual(a.Labels, b.Labels))
	}
	worst, disagree := 0.0, 0
	for i := range a.Logits {
		ba, bb := 0, 0
		for j := range a.Logits[i] {
			worst = math.Max(worst, math.Abs(a.Logits[i][j]-b.Logits[i][j]))
			if a.Logits[i][j] > a.Logits[i][ba] {
				ba = j
			}
			if b.Logits[i][j] > b.Logits[i][bb] {
				bb = j
			}
		}
		if ba != bb {
			disagree++
		}
	}
	if worst > 1e-4 || disagree > 0 {
		t.Errorf("%s: logits differ by up to %g, %d images classified differently", what, worst, disagree)
	}
	t.Logf("%s: max |logit difference| %.3g over %d images, same class everywhere", what, worst, len(a.Logits))
}

func TestEvalLogits(t *testing.T) {
	path := trainedModel(t)
	out := filepath.Join(t.TempDir(), "logits.json")
	code, stdout, errs := runApp(t, "eval", "--model", path, "--data-dir", mnistDir(t), "--logits", out, "--json")
	if code != 0 {
		t.Fatalf("eval: %d %s", code, errs)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	l := readLogits(t, out)
	correct := 0
	for i, row := range l.Logits {
		best := 0
		for j := range row {
			if row[j] > row[best] {
				best = j
			}
		}
		if len(row) != 10 {
			t.Fatalf("row %d has %d logits", i, len(row))
		}
		if best == l.Labels[i] {
			correct++
		}
	}
	if len(l.Logits) != 10000 || float64(correct)/10000 != ev.Accuracy {
		t.Errorf("%d rows, accuracy from the logits %v, eval says %v", len(l.Logits), float64(correct)/10000, ev.Accuracy)
	}
}

// TestRoundTripTorchToRuntime is the round trip on a small MLP and
// all 10,000 MNIST test images: a PyTorch model exported to ONNX, imported,
// evaluated (same logits as PyTorch), compressed, exported as onnx and
// onnx-sparse and run by ONNX Runtime (same logits and accuracy as spred
// eval).
func TestRoundTripTorchToRuntime(t *testing.T) {
	python := interoptest.PythonWith(t, "torch")
	node := interoptest.Node(t)
	scripts := interoptest.Scripts(t)
	data := mnistDir(t)
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }

	interoptest.Run(t, python, filepath.Join(scripts, "torch_export.py"), "--arch", "mlp", "--opset", "14", "--out", path("torch.onnx"),
		"--mnist", data, "--train-epochs", "1", "--train-samples", "2000", "--logits", path("torch.json"))
	code, out, errs := runApp(t, "import", path("torch.onnx"), "--out", path("imported.safetensors"))
	if code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if m, err := models.ReadFile(path("imported.safetensors")); err != nil || m.Spec.Name != "torch" || m.Meta.Extra["producer"] == "" {
		t.Errorf("imported model: %v; want the file's name for torch's generic graph name, and the producer recorded (%+v)", err, m)
	}
	code, _, errs = runApp(t, "eval", "--model", path("imported.safetensors"), "--data-dir", data, "--logits", path("imported.json"))
	if code != 0 {
		t.Fatalf("eval: %d %s", code, errs)
	}
	compareLogitFiles(t, "PyTorch vs spred eval of the import", readLogits(t, path("torch.json")), readLogits(t, path("imported.json")))

	code, _, errs = runApp(t, "compress", "--model", path("imported.safetensors"), "--lambda", "5e-4", "--epochs", "1", "--finetune-epochs", "0",
		"--train-samples", "1000", "--data-dir", data, "--out", path("pruned.safetensors"), "--quiet")
	if code != 0 {
		t.Fatalf("compress: %d %s", code, errs)
	}
	code, _, errs = runApp(t, "eval", "--model", path("pruned.safetensors"), "--data-dir", data, "--logits", path("pruned.json"))
	if code != 0 {
		t.Fatalf("eval: %d %s", code, errs)
	}
	want := readLogits(t, path("pruned.json"))
	for _, format := range []string{"onnx", "onnx-sparse", "thin"} {
		onnxPath := path(format + ".onnx")
		args := []string{"export", "--model", path("pruned.safetensors"), "--format", format, "--out", onnxPath}
		if format == "thin" {
			args = []string{"export", "--model", path("pruned.safetensors"), "--format", format, "--out", path("thin.safetensors"), "--onnx", onnxPath}
		}
		if code, _, errs := runApp(t, args...); code != 0 {
			t.Fatalf("export %s: %d %s", format, code, errs)
		}
		if format == "thin" {
			if code, _, errs := runApp(t, "eval", "--model", path("thin.safetensors"), "--data-dir", data, "--logits", path("thin.json")); code != 0 {
				t.Fatalf("eval thin: %s", errs)
			}
			compareLogitFiles(t, "spred eval, pruned vs thinned", want, readLogits(t, path("thin.json")))
		}
		var got logitsFile
		interoptest.RunJSON(t, &got, node, filepath.Join(scripts, "run_ort.js"), "--model", onnxPath, "--mnist", data, "--count", strconv.Itoa(10000))
		compareLogitFiles(t, "spred eval vs ONNX Runtime on "+format, want, got)
	}
}

// TestInteropBadInput: bad input to import, export and eval --logits fails
// with the documented exit code and one line naming the problem.
func TestInteropBadInput(t *testing.T) {
	dir := t.TempDir()
	in, m := prunedModel(t, dir, "lenet-5", 0.5)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := interop.Encode(m, interop.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(name string, f func(mp *onnx.ModelProto)) string {
		var mp onnx.ModelProto
		if err := proto.Unmarshal(good, &mp); err != nil {
			t.Fatal(err)
		}
		f(&mp)
		return write(name, must(proto.Marshal(&mp)))
	}
	goodONNX := write("good.onnx", good)
	truncated := write("truncated.onnx", good[:len(good)/3])
	notONNX := write("text.onnx", []byte("hello, this is not a model\n"))
	safetensorsAsONNX := write("st.onnx", must(os.ReadFile(in)))
	elu := edit("elu.onnx", func(mp *onnx.ModelProto) {
		for _, n := range mp.Graph.Node {
			if n.OpType == "Relu" {
				n.OpType, n.Name = "Elu", "/act/Elu"
			}
		}
	})
	dynamic := edit("dynamic.onnx", func(mp *onnx.ModelProto) {
		mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[2].Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "height"}
	})
	cifar := models.Spec{Name: "cifar", Input: []int{3, 32, 32}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 5}, {Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 10}}}
	cm, err := models.New(cifar, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	cifarONNX := write("cifar.onnx", must(interop.Encode(cm, interop.ExportOptions{})))
	truncatedModel := write("truncated.safetensors", must(os.ReadFile(in))[:1000])
	noDir := filepath.Join(dir, "no-such-folder")
	out := filepath.Join(dir, "out.safetensors")

	cases := []struct {
		name string
		code int
		want string
		args []string
	}{
		{"import without a file", 2, "exactly one ONNX file, got 0", []string{"import", "--out", out}},
		{"import two files", 2, "exactly one ONNX file, got 2", []string{"import", goodONNX, goodONNX, "--out", out}},
		{"import without --out", 2, "--out is required", []string{"import", goodONNX}},
		{"import missing file", 1, "no such file", []string{"import", filepath.Join(dir, "nope.onnx"), "--out", out}},
		{"import a folder", 1, "not a regular file", []string{"import", dir, "--out", out}},
		{"import text", 1, "not an ONNX protobuf", []string{"import", notONNX, "--out", out}},
		{"import truncated file", 1, "malformed ONNX model", []string{"import", truncated, "--out", out}},
		{"import safetensors file", 1, "malformed ONNX model", []string{"import", safetensorsAsONNX, "--out", out}},
		{"import unsupported op", 1, `node "/act/Elu" (Elu): op Elu is not supported`, []string{"import", elu, "--out", out}},
		{"import dynamic shape", 1, `dimension 2 is the symbol "height"; only the first (batch) dimension may be dynamic`, []string{"import", dynamic, "--out", out}},
		{"import input that is not MNIST", 1, "model input [3 32 32] (3072 values) is not an MNIST image (1×28×28 or 784 wide)", []string{"import", cifarONNX, "--out", out}},
		{"import into a missing folder", 1, "folder " + noDir + " does not exist", []string{"import", goodONNX, "--out", filepath.Join(noDir, "m.safetensors")}},
		{"export without --model", 2, "export: --model is required", []string{"export", "--out", out}},
		{"export without --out", 2, "export: --out is required", []string{"export", "--model", in}},
		{"export unknown format", 2, `unknown --format "tflite" (want one of onnx, onnx-sparse, sparse, dense, thin)`, []string{"export", "--model", in, "--format", "tflite", "--out", out}},
		{"export opset 12", 2, "opset 12 is not supported (want 13 to 17)", []string{"export", "--model", in, "--opset", "12", "--out", out}},
		{"export missing model", 1, "no such file", []string{"export", "--model", filepath.Join(dir, "nope.safetensors"), "--out", out}},
		{"export truncated model", 1, "truncated", []string{"export", "--model", truncatedModel, "--out", out}},
		{"export an ONNX file", 1, "is an ONNX model, not a spred model file: convert it first with spred import", []string{"export", "--model", goodONNX, "--out", out}},
		{"export into a missing folder", 1, "folder " + noDir + " does not exist", []string{"export", "--model", in, "--out", filepath.Join(noDir, "m.onnx")}},
		{"export thin ONNX into a missing folder", 1, "folder " + noDir + " does not exist", []string{"export", "--model", in, "--format", "thin", "--out", out, "--onnx", filepath.Join(noDir, "t.onnx")}},
		{"export --onnx without thin", 2, "--onnx goes with --format thin only", []string{"export", "--model", in, "--out", out, "--onnx", filepath.Join(dir, "t.onnx")}},
		{"export thin onto one file", 2, "--onnx and --out are the same file", []string{"export", "--model", in, "--format", "thin", "--out", out, "--onnx", out}},
		{"export extra argument", 2, `export: unexpected argument "extra"`, []string{"export", "--model", in, "--out", out, "extra"}},
		{"inspect truncated ONNX", 1, "malformed ONNX model", []string{"inspect", truncated}},
		{"inspect unsupported ONNX", 1, "Elu", []string{"inspect", elu}},
		{"eval --logits into a missing folder", 1, "folder " + noDir + " does not exist", []string{"eval", "--model", in, "--logits", filepath.Join(noDir, "l.json")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := runApp(t, c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, errs)
			}
			if stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "spred: ") {
				t.Errorf("want one line on stderr starting with \"spred: \", got %q", errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q does not mention %q", errs, c.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed command left %s behind", out)
	}
}
