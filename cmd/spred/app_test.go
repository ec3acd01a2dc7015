package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spred-go/spred/dataset"
)

// runApp runs the app with args and returns exit code, stdout and stderr.
func runApp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"spred"}, args...), &out, &errb)
	if s := errb.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Fatalf("spred %v printed a panic:\n%s", args, s)
	}
	return code, out.String(), errb.String()
}

// mnistDir finds MNIST or skips the test.
func mnistDir(t *testing.T) string {
	t.Helper()
	d, err := dataset.FindMNIST("")
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	return d
}

// trainedModel trains a LeNet-300-100 on 300 images for one epoch, once per
// test binary.
var trainedPath string

func trainedModel(t *testing.T) string {
	t.Helper()
	if trainedPath != "" {
		return trainedPath
	}
	dir := mnistDir(t)
	path := filepath.Join(os.TempDir(), "spred-cli-test-"+strings.ReplaceAll(t.Name(), "/", "_")+".safetensors")
	code, out, errs := runApp(t, "train", "--model", "lenet-300-100", "--epochs", "1", "--train-samples", "300",
		"--batch", "50", "--seed", "3", "--data-dir", dir, "--out", path, "--quiet")
	if code != 0 {
		t.Fatalf("train exited %d: %s %s", code, out, errs)
	}
	trainedPath = path
	return path
}

func TestModelsListsZoo(t *testing.T) {
	code, out, _ := runApp(t, "models")
	if code != 0 || !strings.Contains(out, "lenet-300-100  266610") || !strings.Contains(out, "lenet-5        431080") ||
		!strings.Contains(out, "resnet-20      272474  270896") || !strings.Contains(out, "resnet-8       78042   77360") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = runApp(t, "models", "--json")
	var rows []map[string]interface{}
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 4 {
		t.Fatalf("json: exit %d %s", code, out)
	}
}

func TestTrainEvalInspect(t *testing.T) {
	path := trainedModel(t)
	code, out, errs := runApp(t, "eval", "--model", path, "--data-dir", mnistDir(t), "--json")
	if code != 0 {
		t.Fatalf("eval exited %d: %s", code, errs)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
		N        int     `json:"n"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.N != 10000 || ev.Accuracy < 0.5 {
		t.Fatalf("eval: %v %+v (%s)", err, ev, out)
	}
	code, out, _ = runApp(t, "inspect", path)
	if code != 0 || !strings.Contains(out, "fc1/W") || !strings.Contains(out, "[784 300]") || !strings.Contains(out, "266610") {
		t.Fatalf("inspect exit %d:\n%s", code, out)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	a := trainedModel(t)
	b := filepath.Join(t.TempDir(), "b.safetensors")
	code, _, errs := runApp(t, "train", "--model", "lenet-300-100", "--epochs", "1", "--train-samples", "300",
		"--batch", "50", "--seed", "3", "--data-dir", mnistDir(t), "--out", b, "--quiet")
	if code != 0 {
		t.Fatal(errs)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Fatal("two runs with the same seed and flags wrote different files")
	}
}

func TestCompressWritesModelAndReport(t *testing.T) {
	in := trainedModel(t)
	dir := t.TempDir()
	out, rep := filepath.Join(dir, "p.safetensors"), filepath.Join(dir, "r.json")
	code, stdout, errs := runApp(t, "compress", "--model", in, "--lambda", "1e-3", "--epochs", "1", "--finetune-epochs", "1",
		"--train-samples", "300", "--batch", "50", "--data-dir", mnistDir(t), "--out", out, "--report", rep, "--markdown", filepath.Join(dir, "r.md"))
	if code != 0 {
		t.Fatalf("compress exited %d: %s", code, errs)
	}
	if !strings.Contains(errs, "prunable") || !strings.Contains(errs, "fc1/W") || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("text report missing:\nstderr %s\nstdout %s", errs, stdout)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Totals struct {
			Prunable int `json:"prunable_params"`
			NonZero  int `json:"prunable_nonzero"`
		} `json:"totals"`
		Accuracy map[string]*float64 `json:"accuracy"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Totals.Prunable != 266200 || r.Totals.NonZero >= r.Totals.Prunable {
		t.Fatalf("report: %v %+v", err, r)
	}
	for _, k := range []string{"dense", "trained", "thresholded", "finetuned"} {
		if r.Accuracy[k] == nil {
			t.Errorf("accuracy.%s missing", k)
		}
	}
	code, stdout, _ = runApp(t, "inspect", "--json", out)
	var in2 struct {
		NonZero int `json:"prunable_nonzero"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &in2) != nil || in2.NonZero != r.Totals.NonZero {
		t.Fatalf("inspect of the pruned file: %d %s", code, stdout)
	}
}

// rewriteHeader returns a copy of a model file with its header changed by f.
func rewriteHeader(t *testing.T, file []byte, f func(h map[string]interface{})) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(file[:8])
	var h map[string]interface{}
	if err := json.Unmarshal(file[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	f(h)
	hb, _ := json.Marshal(h)
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	out := make([]byte, 8, 8+len(hb)+len(file))
	binary.LittleEndian.PutUint64(out, uint64(len(hb)))
	return append(append(out, hb...), file[8+n:]...)
}

// TestEvalClampsBatch: an evaluation batch larger than the test set sizes
// the engine for the test set, not for the batch asked for.
func TestEvalClampsBatch(t *testing.T) {
	path := trainedModel(t)
	code, out, errs := runApp(t, "eval", "--model", path, "--data-dir", mnistDir(t), "--batch", "1000000000", "--json")
	if code != 0 || !strings.Contains(out, `"n":10000`) {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
}

// TestErrorLineCapped: however long a message, the line printed is
// bounded, cut at a rune boundary, and says how long the message was.
func TestErrorLineCapped(t *testing.T) {
	long := "shape [" + strings.Repeat("λ ", 5_000_000) + "]"
	got := oneLine(long + "\nsecond line")
	if len(got) > maxErrorLine+100 || !utf8.ValidString(got) || !strings.HasSuffix(got, fmt.Sprintf("… (%d bytes in all)", len(long))) {
		t.Errorf("%d bytes: %.80q … %q", len(got), got, got[max(0, len(got)-40):])
	}
	if got := oneLine("  short\nmore"); got != "short" {
		t.Errorf("oneLine = %q", got)
	}
}
