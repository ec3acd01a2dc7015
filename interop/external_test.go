package interop_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// The checks against independent implementations run on the first
// checkImages MNIST test images.
const checkImages = 300

// torchLogits is what scripts/onnx/torch_export.py and run_ort.js write.
type torchLogits struct {
	Logits   [][]float64 `json:"logits"`
	Labels   []int       `json:"labels"`
	Accuracy float64     `json:"accuracy"`
}

func mnistDir(t testing.TB) string {
	t.Helper()
	dir, err := dataset.FindMNIST("")
	if err != nil {
		t.Fatalf("MNIST: %v (run scripts/fetch-mnist.sh)", err)
	}
	return dir
}

// TestImportTorch: models that PyTorch exports (opset 13 and 14, dynamic
// and fixed batch) import to models whose logits on MNIST test images
// are PyTorch's within 1e-4, with the same predicted class everywhere.
func TestImportTorch(t *testing.T) {
	python := interoptest.PythonWith(t, "torch")
	script := filepath.Join(interoptest.Scripts(t), "torch_export.py")
	dir := mnistDir(t)
	data := mnist(t, checkImages)
	lenet5, _ := models.Lookup("lenet-5")
	for _, c := range []struct {
		arch   string
		opset  int
		static bool
		// the spec the import must give (nil: not checked)
		spec *models.Spec
	}{
		{"mlp", 13, false, &models.Spec{Input: []int{1, 28, 28}, Layers: []models.Layer{{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc1", Units: 64}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 10}}}},
		{"mlp-matmul", 14, false, &models.Spec{Input: []int{784}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc1", Units: 32}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 10}}}},
		{"lenet-5", 13, false, &lenet5},
		{"lenet-5", 14, true, &lenet5},
	} {
		name := fmt.Sprintf("%s-opset%d", c.arch, c.opset)
		if c.static {
			name += "-static"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			onnxPath, logitsPath := filepath.Join(tmp, "m.onnx"), filepath.Join(tmp, "logits.json")
			args := []string{script, "--arch", c.arch, "--opset", strconv.Itoa(c.opset), "--out", onnxPath,
				"--mnist", dir, "--logits", logitsPath, "--count", strconv.Itoa(checkImages)}
			if c.static {
				args = append(args, "--static-batch")
			}
			interoptest.Run(t, python, args...)
			m, rep, err := interop.ReadFile(onnxPath, interop.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Opset != int64(c.opset) {
				t.Errorf("opset %d, want %d", rep.Opset, c.opset)
			}
			if c.spec != nil && (!reflect.DeepEqual(m.Spec.Input, c.spec.Input) || !reflect.DeepEqual(m.Spec.Layers, c.spec.Layers)) {
				t.Errorf("imported spec %+v, want %+v", m.Spec, *c.spec)
			}
			var want torchLogits
			b, err := os.ReadFile(logitsPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := jsonUnmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want.Labels, data.Y) {
				t.Fatal("PyTorch read other labels")
			}
			worst := compareLogits(t, name, want.Logits, predict(t, m, data), 1e-4)
			t.Logf("%s: %d layers, max |logit difference| to PyTorch %.3g on %d images", name, len(m.Spec.Layers), worst, checkImages)
		})
	}
}

// TestExportChecked: onnx.checker accepts dense and sparse exports with
// full_check=True (shape inference included; the sparse weights are
// Constant nodes with a sparse_value, see scripts/onnx/check_onnx.py), at
// opsets 13, 14 and 17.
func TestExportChecked(t *testing.T) {
	python := interoptest.PythonWith(t, "onnx")
	script := filepath.Join(interoptest.Scripts(t), "check_onnx.py")
	tmp := t.TempDir()
	cases := []struct {
		m    *models.Model
		opts interop.ExportOptions
	}{
		{randomModel(t, tinyCNN(), 1), interop.ExportOptions{}},
		{prune(t, randomModel(t, tinyCNN(), 2), 0.1, 1), interop.ExportOptions{Sparse: true}},
		{prune(t, randomModel(t, must(models.Lookup("lenet-5")), 3), 0.1, 2), interop.ExportOptions{Sparse: true, Opset: 17}},
		{prune(t, randomModel(t, must(models.Lookup("lenet-5")), 3), 0.1, 2), interop.ExportOptions{Opset: 17}},
		{randomModel(t, must(models.Lookup("lenet-300-100")), 4), interop.ExportOptions{Opset: 14}},
	}
	args := []string{script}
	for i, c := range cases {
		p := filepath.Join(tmp, fmt.Sprintf("m%d.onnx", i))
		if err := interop.WriteFile(p, c.m, c.opts); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out, err := runOutput(python, args...)
	if err != nil {
		t.Errorf("onnx.checker refuses an export: %v", err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) != len(cases) {
		t.Fatalf("%d result lines for %d files:\n%s", len(lines), len(cases), out)
	}
	for i, line := range lines {
		var row struct {
			OK     bool   `json:"ok"`
			Check  string `json:"check"`
			Opset  int    `json:"opset"`
			Sparse int    `json:"sparse_constants"`
			Error  string `json:"error"`
		}
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		c := cases[i]
		opset := c.opts.Opset
		if opset == 0 {
			opset = interop.DefaultOpset
		}
		const wantCheck = "full"
		if !row.OK || row.Check != wantCheck || row.Opset != opset || (row.Sparse > 0) != c.opts.Sparse {
			t.Errorf("file %d (%+v): %s", i, c.opts, line)
		}
	}
}

// TestExportRuns: ONNX Runtime runs dense and sparse exports of both zoo
// models (random weights, 90% pruned) and gives this toolkit's logits
// within 1e-4 and the same class for every image.
func TestExportRuns(t *testing.T) {
	node := interoptest.Node(t)
	script := filepath.Join(interoptest.Scripts(t), "run_ort.js")
	dir := mnistDir(t)
	data := mnist(t, checkImages)
	for _, c := range []struct {
		name string
		zoo  string
		opts interop.ExportOptions
	}{
		{"lenet-300-100 dense", "lenet-300-100", interop.ExportOptions{}},
		{"lenet-300-100 sparse", "lenet-300-100", interop.ExportOptions{Sparse: true}},
		{"lenet-5 dense", "lenet-5", interop.ExportOptions{}},
		{"lenet-5 sparse opset 14", "lenet-5", interop.ExportOptions{Sparse: true, Opset: 14}},
		{"padded strided cnn", "", interop.ExportOptions{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec := stridedCNN()
			if c.zoo != "" {
				spec = must(models.Lookup(c.zoo))
			}
			m := prune(t, randomModel(t, spec, 11), 0.1, 5)
			p := filepath.Join(t.TempDir(), "m.onnx")
			if err := interop.WriteFile(p, m, c.opts); err != nil {
				t.Fatal(err)
			}
			var got torchLogits
			interoptest.RunJSON(t, &got, node, script, "--model", p, "--mnist", dir, "--count", strconv.Itoa(checkImages))
			want := predict(t, m, data)
			worst := compareLogits(t, c.name, want, got.Logits, 1e-4)
			t.Logf("%s: max |logit difference| to ONNX Runtime %.3g on %d images", c.name, worst, checkImages)
		})
	}
}

func jsonUnmarshal(b []byte, v interface{}) error { return json.Unmarshal(b, v) }

func runOutput(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// stridedCNN takes MNIST images through a padded, strided convolution and
// a max-pooling whose stride is not its kernel, which the zoo models lack.
func stridedCNN() models.Spec {
	return models.Spec{
		Name:  "strided-cnn",
		Input: []int{1, 28, 28},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 3, Stride: 2, Padding: 1}, // 4×14×14
			{Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 2}, // 4×6×6
			{Kind: models.Flatten},
			{Kind: models.Dropout, Rate: 0.3},
			{Kind: models.Dense, Name: "fc1", Units: 10},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}
