package main

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// TestOutputsNeverOverwriteInputs: an output that is an input, or another
// output, by name or through a link, is refused before any work (exit 2,
// one line), and the file survives byte for byte.
func TestOutputsNeverOverwriteInputs(t *testing.T) {
	dir := t.TempDir()
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.safetensors")
	if err := models.WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	onnxFile := filepath.Join(dir, "m.onnx")
	if err := interop.WriteFile(onnxFile, m, interop.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink(model, link); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{model, onnxFile, other}
	contents := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		contents[f] = b
	}
	for _, c := range []struct {
		name string
		want string
		args []string
	}{
		{"train --checkpoint equal to --out", "are the same file", []string{"train", "--out", other, "--checkpoint", other}},
		{"compress --checkpoint equal to --model", "refusing to overwrite", []string{"compress", "--model", model, "--checkpoint", model}},
		{"compress --out equal to --model", "refusing to overwrite", []string{"compress", "--model", model, "--out", model}},
		{"compress --report equal to --model", "refusing to overwrite", []string{"compress", "--model", model, "--report", model}},
		{"compress --report equal to --markdown", "are the same file", []string{"compress", "--model", model, "--report", other, "--markdown", other}},
		{"compress --out through a link to --model", "refusing to overwrite", []string{"compress", "--model", model, "--out", link}},
		{"eval --logits equal to --model", "refusing to overwrite", []string{"eval", "--model", model, "--logits", model}},
		{"sensitivity --csv equal to --model", "refusing to overwrite", []string{"sensitivity", "--model", model, "--csv", model}},
		{"export --onnx equal to --model", "refusing to overwrite", []string{"export", "--model", model, "--format", "thin", "--out", filepath.Join(dir, "t.safetensors"), "--onnx", model}},
		{"export --out equal to --model", "refusing to overwrite", []string{"export", "--model", model, "--format", "onnx", "--out", model}},
		{"import --out equal to the ONNX file", "refusing to overwrite", []string{"import", onnxFile, "--out", onnxFile}},
		{"select --out equal to --csv", "refusing to overwrite", []string{"select", "--csv", other, "--label", "y", "--lambda", "0.1", "--out", other}},
		{"select --plot equal to --compare", "refusing to overwrite", []string{"select", "--csv", model, "--label", "y", "--lambda", "0.1", "--compare", other, "--plot", other}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runApp(t, c.args...)
			if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, errs, c.want)
			}
			for _, f := range files {
				if b, err := os.ReadFile(f); err != nil || !bytes.Equal(b, contents[f]) {
					t.Errorf("%s changed (%v)", f, err)
				}
			}
		})
	}
}
