package interop_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

func bound(v float64) *float64 { return &v }

// windowsCNN has the window settings ONNX has and PyTorch's layers lack:
// padding that differs per side and padding wider than half a pool's
// kernel, dilated max-pooling cells, output sizes rounded up, a mean
// without its padding, and clips with one and two bounds. No window
// starts in the bottom or right padding (where ONNX Runtime's rounding up
// and ours could differ).
func windowsCNN() models.Spec {
	return models.Spec{
		Name:  "windows",
		Input: []int{2, 9, 8},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Stride: 2, Pads: []int{1, 0, 2, 1}}, // 3×5×4
			{Kind: models.Clip, Min: bound(-0.3), Max: bound(0.4)},
			{Kind: models.MaxPool2d, Kernel: 2, Stride: 1, Dilation: 2, Pads: []int{1, 0, 0, 1}, CeilMode: true}, // 3×4×3
			{Kind: models.Conv2d, Name: "c2", Filters: 4, Kernel: 2, Pads: []int{0, 1, 1, 0}},                    // 4×4×3
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 1, Padding: 2},                                           // 4×6×5
			{Kind: models.AvgPool2d, Kernel: 3, Stride: 2, Pads: []int{2, 0, 1, 2}, CeilMode: true, ExcludePad: true},
			{Kind: models.Clip, Max: bound(0.2)},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// TestWindowsExportRuns exports windowsCNN at the lowest and highest opset
// and checks that ONNX Runtime computes the engine's logits, and that the
// file imports back to the same spec (padding per side, dilation,
// ceil_mode, count_include_pad=0 and Clip's bounds survive the trip).
func TestWindowsExportRuns(t *testing.T) {
	m := randomModel(t, windowsCNN(), 21)
	for _, opset := range []int{interop.DefaultOpset, interop.MaxOpset} {
		b := encode(t, m, interop.ExportOptions{Opset: opset})
		back, _, err := interop.Decode(b, interop.ImportOptions{})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		if !reflect.DeepEqual(back.Spec.Layers, m.Spec.Layers) {
			t.Errorf("opset %d: imported\n%s\nwant\n%s", opset, back.Spec, m.Spec)
		}
	}
	node := interoptest.Node(t)
	script := filepath.Join(interoptest.Scripts(t), "run_ort.js")
	tmp := t.TempDir()
	var files []string
	for _, opset := range []int{interop.DefaultOpset, interop.MaxOpset} {
		p := filepath.Join(tmp, "windows-"+formatInt(opset)+".onnx")
		if err := interop.WriteFile(p, m, interop.ExportOptions{Opset: opset}); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	const n = 8
	x := randomSamples(m.Spec, n, 22)
	in := filepath.Join(tmp, "x.f32")
	writeSamples(t, in, x)
	var got struct {
		Models []struct {
			Logits [][]float64 `json:"logits"`
		} `json:"models"`
	}
	dims := make([]string, len(m.Spec.Input))
	for i, d := range m.Spec.Input {
		dims[i] = formatInt(d)
	}
	interoptest.RunJSON(t, &got, node, script, "--model", strings.Join(files, ","), "--input", in, "--shape", strings.Join(dims, ","), "--count", formatInt(n))
	if len(got.Models) != len(files) {
		t.Fatalf("ONNX Runtime ran %d models, want %d", len(got.Models), len(files))
	}
	want := engineLogits(t, m, x, n)
	for i, f := range files {
		if d := relDiff(t, f, want, got.Models[i].Logits); d > 1e-4 {
			t.Errorf("%s: ONNX Runtime's logits differ from the engine's by %.3g (relative)", filepath.Base(f), d)
		}
	}
}

// TestOneOutputImportsForInference: a graph with one output value per
// sample (not class scores) imports as a spec without a loss, which the
// engine runs and a training session refuses.
func TestOneOutputImportsForInference(t *testing.T) {
	spec := models.Spec{Name: "score", Input: []int{1, 4, 4}, Loss: models.LossNone, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c", Filters: 1, Kernel: 3, Padding: 1}, {Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten}}}
	m := randomModel(t, spec, 31)
	back, _, err := interop.Decode(encode(t, m, interop.ExportOptions{}), interop.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Spec.Loss != models.LossNone {
		t.Errorf("loss %q, want %q", back.Spec.Loss, models.LossNone)
	}
	x := randomSamples(spec, 3, 32)
	if d := relDiff(t, "one output", engineLogits(t, m, x, 3), engineLogits(t, back, x, 3)); d > 1e-6 {
		t.Errorf("the imported model's outputs differ by %.3g", d)
	}
	if _, err := graph.New(back, graph.Options{Batch: 3}); !errors.Is(err, models.ErrNoLoss) {
		t.Errorf("training session of a model without a loss: %v, want ErrNoLoss", err)
	}
}
