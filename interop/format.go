package interop

import (
	"path/filepath"
	"strings"

	"github.com/spred-go/spred/models"
)

// Importing this package makes models.Open read ONNX files, with the
// default ImportOptions.
func init() {
	models.RegisterFormat(models.Format{
		Name:  "onnx",
		Match: LooksLikeONNX,
		Read: func(path string) (*models.Model, error) {
			m, _, err := ReadFile(path, ImportOptions{})
			return m, err
		},
	})
}

// LooksLikeONNX reports whether a file is named .onnx or starts (head) the
// way a serialized ONNX ModelProto does: field 1 (ir_version, a small
// varint) followed by the tag of another ModelProto field. A safetensors
// file starts with its header length instead.
func LooksLikeONNX(path string, head []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return true
	}
	if len(head) < 3 {
		return false
	}
	switch head[2] {
	case 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72: // producer_name … graph, opset_import, metadata_props
		return head[0] == 0x08 && head[1] > 0 && head[1] < 0x80
	}
	return false
}
