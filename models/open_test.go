package models_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	spec := tinySpec()
	spec.Input, spec.Layers[0].Units = []int{100}, 300 // large enough for the sparse form to pay
	m := newModel(t, spec, tensor.Float32)
	for _, p := range m.Params.All() { // mostly zeros, so that the sparse form is used
		if p.Prunable {
			v := make([]float64, p.Len())
			v[0] = 0.5
			if err := p.SetFloat64s(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	dense := filepath.Join(dir, "m.safetensors")
	if err := models.WriteFile(dense, m); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "m.onnx") // the name does not decide: the bytes are safetensors
	if err := models.WriteSparseFile(sparse, m); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{dense: "safetensors", sparse: "safetensors-sparse"} {
		got, format, err := models.Open(path)
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		if format != want {
			t.Errorf("Open(%s): format %q, want %q", path, format, want)
		}
		if !reflect.DeepEqual(values(got), values(m)) {
			t.Errorf("Open(%s): other parameters than written", path)
		}
	}

	// A file of no format: the safetensors reader says what is wrong.
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, []byte("hello, world: not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := models.Sniff(junk); err == nil || !strings.Contains(err.Error(), "not a model file of a known format (safetensors") {
		t.Errorf("Sniff of a text file: %v", err)
	}
	if _, _, err := models.Open(junk); err == nil || !strings.Contains(err.Error(), "header") {
		t.Errorf("Open of a text file: %v, want the safetensors reader's error about its header", err)
	}
	if _, _, err := models.Open(filepath.Join(dir, "missing")); !os.IsNotExist(errorsCause(err)) {
		t.Errorf("Open of a missing file: %v, want not-exist", err)
	}
}

func TestRegisterFormat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.tiny")
	if err := os.WriteFile(path, []byte("TINYMODEL"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := newModel(t, tinySpec(), tensor.Float32)
	models.RegisterFormat(models.Format{
		Name:  "tiny-test",
		Match: func(_ string, head []byte) bool { return strings.HasPrefix(string(head), "TINYMODEL") },
		Read:  func(string) (*models.Model, error) { return want, nil },
	})
	got, format, err := models.Open(path)
	if err != nil || format != "tiny-test" || got != want {
		t.Errorf("Open of a registered format: %v, %q, %v", got, format, err)
	}
	names := models.Formats()
	if names[0] != "safetensors" || names[len(names)-1] != "tiny-test" {
		t.Errorf("Formats() = %q, want safetensors first and tiny-test last", names)
	}
	defer func() {
		if recover() == nil {
			t.Error("RegisterFormat of a name already registered did not panic")
		}
	}()
	models.RegisterFormat(models.Format{Name: "tiny-test", Match: func(string, []byte) bool { return false }, Read: models.ReadFile})
}

// errorsCause unwraps err to its innermost error.
func errorsCause(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// values lists every parameter's values by name.
func values(m *models.Model) map[string][]float64 {
	v := map[string][]float64{}
	for _, p := range m.Params.All() {
		v[p.Name] = p.Float64s()
	}
	return v
}
