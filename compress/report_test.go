package compress

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func goldenReport() *Report {
	f := func(v float64) *float64 { return &v }
	return &Report{
		Model: "lenet-300-100",
		Layers: []LayerStats{
			{Name: "fc1/W", Shape: []int{784, 300}, Params: 235200, NonZero: 3000, Sparsity: 1 - 3000.0/235200, CompressionRatio: f(78.4)},
			{Name: "fc2/W", Shape: []int{300, 100}, Params: 30000, NonZero: 1500, Sparsity: 0.95, CompressionRatio: f(20)},
			{Name: "fc3/W", Shape: []int{100, 10}, Params: 1000, NonZero: 0, Sparsity: 1},
		},
		Totals: Totals{PrunableParams: 266200, PrunableNonZero: 4500, CompressionRatio: f(266200.0 / 4500),
			AllParams: 266610, AllNonZero: 4910, AllRatio: f(266610.0 / 4910)},
		Accuracy:    Stages{Dense: f(0.9843), Trained: f(0.981), Thresholded: f(0.9808), Finetuned: nil},
		Loss:        Stages{Dense: f(0.0512), Trained: f(0.07), Thresholded: f(0.0702)},
		Settings:    Settings{Lambda: 5e-5, Threshold: 1e-3, Epochs: 20, Batch: 100, LR: 0.05, Schedule: "cosine", Seed: 1, Decay: "λ on u and v of every prunable weight; biases not decayed", Tool: "spred-go test"},
		OutputFile:  "pruned.safetensors",
		OutputBytes: 1066736,
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestReportText(t *testing.T) {
	var b bytes.Buffer
	if err := goldenReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.txt", b.Bytes())
}

func TestReportMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := goldenReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.md", b.Bytes())
}

// TestReportJSONKeys: the keys that downstream tools read.
func TestReportJSONKeys(t *testing.T) {
	b, err := json.Marshal(goldenReport())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	layer := m["layers"].([]interface{})[0].(map[string]interface{})
	for _, k := range []string{"name", "shape", "params", "nonzero"} {
		if _, ok := layer[k]; !ok {
			t.Errorf("layers[0].%s missing", k)
		}
	}
	totals := m["totals"].(map[string]interface{})
	for _, k := range []string{"prunable_params", "prunable_nonzero", "compression_ratio", "all_params", "all_nonzero"} {
		if _, ok := totals[k]; !ok {
			t.Errorf("totals.%s missing", k)
		}
	}
	acc := m["accuracy"].(map[string]interface{})
	for _, k := range []string{"dense", "trained", "thresholded", "finetuned"} {
		if _, ok := acc[k]; !ok {
			t.Errorf("accuracy.%s missing", k)
		}
	}
	if acc["finetuned"] != nil {
		t.Errorf("absent stage should be null, got %v", acc["finetuned"])
	}
	if !strings.Contains(string(b), `"compression_ratio":null`) {
		t.Error("an all-zero layer should have a null ratio")
	}
}
