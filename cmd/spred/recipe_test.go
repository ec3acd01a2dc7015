package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecipeRoundTrip runs compress from flags, then again from the
// report's recipe and from the model file's recipe: the same model bytes.
// A recipe file sets what the command line leaves unset, and the command
// line wins.
func TestRecipeRoundTrip(t *testing.T) {
	data := mnistDir(t)
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	out1, rep1 := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "a.json")
	code, _, errs := runApp(t, "compress", "--model", st, "--lambda", "2e-3", "--epochs", "1", "--finetune-epochs", "1",
		"--train-samples", "200", "--batch", "50", "--seed", "7", "--data-dir", data, "--quiet", "--out", out1, "--report", rep1)
	if code != 0 {
		t.Fatalf("compress: exit %d: %s", code, errs)
	}
	want, _ := os.ReadFile(out1)
	for i, recipe := range []string{rep1, out1} {
		out := filepath.Join(dir, "b"+string(rune('0'+i))+".safetensors")
		args := []string{"compress", "--recipe", recipe, "--out", out, "--quiet"}
		if recipe == out1 {
			args = append(args, "--model", st, "--data-dir", data) // model files keep no paths
		}
		if code, _, errs := runApp(t, args...); code != 0 {
			t.Fatalf("compress --recipe %s: exit %d: %s", recipe, code, errs)
		}
		if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
			t.Errorf("compress --recipe %s wrote other bytes than the run it came from", recipe)
		}
	}

	// A YAML recipe; the command line overrides it.
	y := filepath.Join(dir, "r.yaml")
	os.WriteFile(y, []byte("command: compress\nlambda: 1e-3\nepochs: 1\nfinetune-epochs: 0\ntrain-samples: 200\nbatch: 50\nseed: 3\n"), 0o644)
	rep := filepath.Join(dir, "c.json")
	code, _, errs = runApp(t, "compress", "--recipe", y, "--model", st, "--data-dir", data, "--lambda", "4e-3",
		"--out", filepath.Join(dir, "c.safetensors"), "--report", rep, "--quiet")
	if code != 0 {
		t.Fatalf("compress --recipe r.yaml: exit %d: %s", code, errs)
	}
	var r struct {
		Settings struct {
			Lambda float64 `json:"lambda"`
			Seed   int64   `json:"seed"`
			Epochs int     `json:"epochs"`
		} `json:"settings"`
		Recipe map[string]any `json:"recipe"`
	}
	b, _ := os.ReadFile(rep)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Settings.Lambda != 4e-3 || r.Settings.Seed != 3 || r.Settings.Epochs != 1 {
		t.Errorf("settings %+v, want λ 4e-3 from the command line, seed 3 and 1 epoch from the recipe", r.Settings)
	}
	if r.Recipe["lambda"] != 4e-3 || r.Recipe["seed"] != float64(3) || r.Recipe["command"] != "compress" {
		t.Errorf("the report's recipe %v is not the resolved one", r.Recipe)
	}
}

// TestRecipeRefusals: unknown keys, another command's recipe, output keys
// and values of the wrong kind are one-line usage errors naming the key.
func TestRecipeRefusals(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	// Settings that are wrong are a bad command line (exit 2); a file that
	// is not a recipe at all is a failure to read it (exit 1).
	for _, c := range []struct{ body, want string }{
		{"lamda: 1e-3\n", `unknown key "lamda"`},
		{"command: train\n", "is a recipe of spred train, not spred compress"},
		{"out: x.safetensors\n", `unknown key "out"`},
		{"epochs: many\n", `key "epochs"`},
		{"- 1\n- 2\n", "not a YAML or JSON map"},
		{"lambda: {a: 1}\n", `key "lambda"`},
	} {
		p := filepath.Join(dir, "r.yaml")
		os.WriteFile(p, []byte(c.body), 0o644)
		code, stdout, errs := runApp(t, "compress", "--model", st, "--recipe", p, "--out", filepath.Join(dir, "o.safetensors"))
		wantCode := 2
		if strings.HasPrefix(c.body, "- ") {
			wantCode = 1
		}
		if code != wantCode || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("recipe %q: exit %d, %q; want exit %d and %q", c.body, code, errs, wantCode, c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "o.safetensors")); err == nil {
			t.Fatalf("recipe %q: a model was written", c.body)
		}
	}
}

// TestRecipeCommand: spred recipe prints every setting of a command,
// commented out, as YAML that --recipe reads back.
func TestRecipeCommand(t *testing.T) {
	for _, cmd := range []string{"compress", "train", "sweep", "select"} {
		code, out, errs := runApp(t, "recipe", "--command", cmd)
		if code != 0 || !strings.Contains(out, "command: "+cmd+"\n") {
			t.Fatalf("recipe --command %s: exit %d %s", cmd, code, errs)
		}
		if cmd == "compress" && (!strings.Contains(out, "\n#lambda: 0.00015\n") || !strings.Contains(out, "\n#epochs: 10\n")) {
			t.Errorf("compress recipe lacks the defaults:\n%s", out)
		}
		p := filepath.Join(t.TempDir(), "r.yaml")
		os.WriteFile(p, []byte(out), 0o644)
		if _, err := readRecipe(p); err != nil {
			t.Errorf("recipe --command %s does not read back: %v", cmd, err)
		}
	}
	_, out, _ := runApp(t, "recipe", "--method", "l1")
	if !strings.Contains(out, "\n#lr: 0.02\n") || !strings.Contains(out, "\n#method: \"l1\"\n") {
		t.Errorf("l1 recipe does not show the method's learning rate:\n%s", out)
	}
	if code, _, _ := runApp(t, "recipe", "--command", "eval"); code != 2 {
		t.Errorf("recipe --command eval: exit %d, want 2", code)
	}
}
