package interoptest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/spred-go/spred/models"
)

// TorchResult is what scripts/torch/forward.py computes for a model: the
// logits (batch first), every named layer's output and the batch-norm
// running statistics after the pass, all flat.
type TorchResult struct {
	Logits struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"logits"`
	Outputs map[string][]float64 `json:"outputs"`
	Buffers map[string][]float64 `json:"buffers"`
}

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// TorchForward runs m on the n samples of x in PyTorch (Debian's
// python3-torch), each layer through PyTorch's own operator, in float64.
// With train, batch norm uses and updates the batch statistics, as a
// training step does.
func TorchForward(t testing.TB, m *models.Model, x []float64, n int, train bool) TorchResult {
	t.Helper()
	python := PythonWith(t, "torch")
	params := map[string]torchTensor{}
	for _, p := range m.Params.All() {
		params[p.Name] = torchTensor{Shape: p.Shape(), Data: p.Float64s()}
	}
	req := map[string]any{
		"spec":   m.Spec,
		"params": params,
		"x":      torchTensor{Shape: append([]int{n}, m.Spec.Input...), Data: x},
		"train":  train,
		"dtype":  "float64",
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(filepath.Dir(Scripts(t)), "torch", "forward.py")
	cmd := exec.Command(python, script)
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("forward.py: %v\n%s", err, stderr.Bytes())
	}
	var res TorchResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("forward.py: %v", err)
	}
	return res
}
