package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestEvalReadsONNX: eval reads an ONNX file directly, as predict does,
// whether it is named .onnx or not (it used to report an absurd
// safetensors header length), with the accuracy of the safetensors file
// it was exported from.
func TestEvalReadsONNX(t *testing.T) {
	data := mnistDir(t)
	dir := t.TempDir()
	st, onnxFile := testModels(t, dir)
	renamed := filepath.Join(dir, "model.bin")
	b, err := os.ReadFile(onnxFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(renamed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	acc := func(path string) float64 {
		t.Helper()
		code, out, errs := runApp(t, "eval", "--model", path, "--data-dir", data, "--json")
		var ev struct {
			Accuracy float64 `json:"accuracy"`
			N        int     `json:"n"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.N != 10000 {
			t.Fatalf("eval %s: exit %d, %s %s", path, code, out, errs)
		}
		return ev.Accuracy
	}
	want := acc(st)
	for _, p := range []string{onnxFile, renamed} {
		if got := acc(p); got != want {
			t.Errorf("eval %s: accuracy %v, the safetensors file's is %v", p, got, want)
		}
	}
}
