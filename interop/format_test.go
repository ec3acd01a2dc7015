package interop_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// TestOpenONNX reads ONNX files through models.Open, recognised by their
// name or, under another name, by their first bytes.
func TestOpenONNX(t *testing.T) {
	dir := t.TempDir()
	m := randomModel(t, tinyCNN(), 1)
	b := encode(t, m, interop.ExportOptions{})
	for _, name := range []string{"m.onnx", "m.bin"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := models.Sniff(path)
		if err != nil || f.Name != "onnx" {
			t.Errorf("Sniff(%s) = %q, %v; want onnx", name, f.Name, err)
		}
		got, format, err := models.Open(path)
		if err != nil {
			t.Fatalf("Open(%s): %v", name, err)
		}
		if format != "onnx" {
			t.Errorf("Open(%s): format %q, want onnx", name, format)
		}
		want, _, err := interop.Decode(b, interop.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, want, got)
	}
	if interop.LooksLikeONNX("m.safetensors", []byte{0x40, 0, 0, 0, 0, 0, 0, 0, '{'}) {
		t.Error("a safetensors header looks like ONNX")
	}
}
