package main

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// testModels writes a LeNet-300-100 with seeded initial values to dir as
// m.safetensors and m.onnx and returns both paths.
func testModels(t *testing.T, dir string) (st, onnxFile string) {
	t.Helper()
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	st, onnxFile = filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.onnx")
	if err := models.WriteFile(st, m); err != nil {
		t.Fatal(err)
	}
	if err := interop.WriteFile(onnxFile, m, interop.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return st, onnxFile
}

// snapshot reads files, to compare them later with unchanged.
func snapshot(t *testing.T, files ...string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s[f] = b
	}
	return s
}

// unchanged reports every file of s that is no longer byte for byte what
// it was, or no longer a regular file.
func unchanged(t *testing.T, s map[string][]byte) {
	t.Helper()
	for f, want := range s {
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s is no longer a regular file (%v)", f, err)
			continue
		}
		if b, err := os.ReadFile(f); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s changed (%v)", f, err)
		}
	}
}

// TestTrailingValueFlagTakesNoInput: `spred import a.onnx b.onnx --out`
// once made a.onnx the output. A flag that takes a value, given last
// without one, is a usage error in every command, and no file given before
// it changes.
func TestTrailingValueFlagTakesNoInput(t *testing.T) {
	dir := t.TempDir()
	st, onnxFile := testModels(t, dir)
	files := snapshot(t, st, onnxFile)
	var cmds [][]string // command names and the value flags of each
	var walk func(prefix []string, cs []*cli.Command)
	walk = func(prefix []string, cs []*cli.Command) {
		for _, c := range cs {
			name := append(append([]string(nil), prefix...), c.Name)
			for _, f := range c.Flags {
				if _, isBool := f.(*cli.BoolFlag); !isBool {
					cmds = append(cmds, append(append([]string(nil), name...), "--"+f.Names()[0]))
				}
			}
			walk(name, c.Subcommands)
		}
	}
	walk(nil, newApp(nil, nil).Commands)
	for _, inputs := range [][]string{{onnxFile, st}, {st, onnxFile}, {onnxFile}} {
		for _, c := range cmds {
			args := append(append(append([]string(nil), c[:len(c)-1]...), inputs...), c[len(c)-1])
			code, out, errs := runApp(t, args...)
			if code == 0 || out != "" || strings.Count(errs, "\n") != 1 {
				t.Errorf("spred %s: exit %d, stdout %q, stderr %q; want a one-line failure", strings.Join(args, " "), code, out, errs)
			}
			unchanged(t, files)
		}
	}
	// The message names the flag.
	code, _, errs := runApp(t, "import", onnxFile, st, "--out")
	if code != 2 || !strings.Contains(errs, "flag --out needs a value") {
		t.Errorf("import a b --out: exit %d, %q", code, errs)
	}
	unchanged(t, files)
	// A value flag after the file still works.
	out := filepath.Join(dir, "imported.safetensors")
	if code, _, errs := runApp(t, "import", onnxFile, "--out", out); code != 0 {
		t.Fatalf("import a --out b: exit %d, %s", code, errs)
	}
	unchanged(t, files)
}

// TestOutputLinkWrittenThrough: an output that is a symbolic link is
// written through to the file it points to, and stays a link; a link to an
// input is still refused.
func TestOutputLinkWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	files := snapshot(t, st)
	sub := filepath.Join(dir, "results")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(sub, "dense.safetensors")
	if err := os.WriteFile(target, []byte("old results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.safetensors")
	if err := os.Symlink("results/dense.safetensors", link); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runApp(t, "export", "--model", st, "--format", "dense", "--out", link); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s was replaced by a regular file (%v)", link, err)
	}
	if m, err := models.ReadFile(target); err != nil || m.Spec.Name != "lenet-300-100" {
		t.Errorf("the link's target was not written: %v", err)
	}
	toInput := filepath.Join(dir, "input-link.onnx")
	if err := os.Symlink(st, toInput); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runApp(t, "export", "--model", st, "--out", toInput)
	if code != 2 || !strings.Contains(errs, "refusing to overwrite") {
		t.Errorf("export --out a link to --model: exit %d, %q", code, errs)
	}
	unchanged(t, files)
}
