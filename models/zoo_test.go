package models_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// counts returns the parameters of a spec that are not buffers, and how
// many of them are prunable.
func counts(t *testing.T, s models.Spec) (all, prunable int) {
	t.Helper()
	c, err := s.Counts()
	if err != nil {
		t.Fatal(err)
	}
	return c.Params, c.Prunable
}

// The ResNets' sizes are He et al.'s with projection shortcuts; the
// figures are those PyTorch gives for scripts/torch/cifar_resnet.py.
func TestResNetCounts(t *testing.T) {
	for _, c := range []struct {
		name          string
		input         []int
		all, prunable int
	}{
		{"resnet-20", []int{3, 32, 32}, 272474, 270896},
		{"resnet-20", []int{1, 28, 28}, 272186, 270608},
		{"resnet-8", []int{3, 32, 32}, 78042, 77360},
		{"resnet-8", []int{1, 28, 28}, 77754, 77072},
	} {
		e, err := models.LookupEntry(c.name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.ForInput(c.input)
		if err != nil {
			t.Fatal(err)
		}
		all, prunable := counts(t, s)
		if all != c.all || prunable != c.prunable {
			t.Errorf("%s on %v: %d parameters, %d prunable; want %d and %d", c.name, c.input, all, prunable, c.all, c.prunable)
		}
	}
	e, _ := models.LookupEntry("resnet-8")
	for _, bad := range [][]int{{784}, {1, 4, 4}, {0, 28, 28}} {
		if _, err := e.ForInput(bad); err == nil {
			t.Errorf("resnet-8 accepted input %v", bad)
		}
	}
	lenet, _ := models.LookupEntry("lenet-300-100")
	if s, err := lenet.ForInput([]int{1, 28, 28}); err != nil || s.InputSize() != 784 {
		t.Errorf("lenet-300-100 on 1×28×28: %v", err)
	}
	if _, err := lenet.ForInput([]int{3, 32, 32}); err == nil {
		t.Error("lenet-300-100 accepted 3×32×32")
	}
}

// TestResNetMatchesPyTorch: every parameter and buffer of the zoo's ResNets
// has its counterpart, by name and shape, in the PyTorch definition.
func TestResNetMatchesPyTorch(t *testing.T) {
	python := interoptest.PythonWith(t, "torch")
	script, err := filepath.Abs("../scripts/torch/cifar_resnet.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		input []int
	}{{"resnet-8", []int{3, 32, 32}}, {"resnet-20", []int{1, 28, 28}}} {
		args := []string{script, "describe", c.name}
		for _, d := range c.input {
			args = append(args, fmt.Sprint(d))
		}
		cmd := exec.Command(python, args...)
		cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var ref struct {
			Params, Buffers map[string][]int
			Count, Prunable int
		}
		if err := json.Unmarshal(out, &ref); err != nil {
			t.Fatal(err)
		}
		e, _ := models.LookupEntry(c.name)
		s, err := e.ForInput(c.input)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := s.Params()
		got := map[string][]int{}
		gotBuf := map[string][]int{}
		for _, p := range ps {
			name, shape := torchName(p), p.Shape
			if p.Role == models.RoleWeight && len(shape) == 2 { // ours is [in, out], PyTorch's [out, in]
				shape = []int{shape[1], shape[0]}
			}
			if p.Buffer {
				gotBuf[name] = shape
			} else {
				got[name] = shape
			}
		}
		if !reflect.DeepEqual(got, ref.Params) {
			t.Errorf("%s parameters:\n got %v\nwant %v", c.name, got, ref.Params)
		}
		if !reflect.DeepEqual(gotBuf, ref.Buffers) {
			t.Errorf("%s buffers:\n got %v\nwant %v", c.name, gotBuf, ref.Buffers)
		}
		if all, prunable := counts(t, s); all != ref.Count || prunable != ref.Prunable {
			t.Errorf("%s: %d/%d parameters, PyTorch %d/%d", c.name, all, prunable, ref.Count, ref.Prunable)
		}
	}
}

// torchName is the state_dict name PyTorch gives a parameter.
func torchName(p models.ParamInfo) string {
	layer := strings.TrimSuffix(p.Name, "/"+p.Role)
	suffix := map[string]string{
		models.RoleWeight: "weight", models.RoleBias: "bias",
		models.RoleScale: "weight", models.RoleShift: "bias",
		models.RoleMean: "running_mean", models.RoleVar: "running_var",
	}[p.Role]
	return layer + "." + suffix
}

// TestReadsV020File: a model file written by version 0.2.0 (a chain spec
// with every layer kind that version had) reads and encodes back to the
// same bytes.
func TestReadsV020File(t *testing.T) {
	const path = "testdata/v0.2.0-chain.safetensors"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Spec.IsChain() || len(m.Spec.Layers) != 9 || m.Meta.Tool != "spred 0.2.0" {
		t.Fatalf("read %v", m.Spec)
	}
	var buf strings.Builder
	if err := models.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(raw) {
		t.Error("the v0.2.0 file does not encode back to its own bytes")
	}
}

// TestModelBuffers: a ResNet's buffers are the running mean and variance
// of each batch norm, in spec order; LeNet has none; a model missing one
// is an error naming it.
func TestModelBuffers(t *testing.T) {
	e, err := models.LookupEntry("resnet-8")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := e.ForInput([]int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	bufs, err := m.Buffers()
	if err != nil {
		t.Fatal(err)
	}
	var norms []string
	for _, l := range spec.Layers {
		if l.Kind == models.BatchNorm2d {
			norms = append(norms, models.ParamName(l.Name, models.RoleMean), models.ParamName(l.Name, models.RoleVar))
		}
	}
	var names []string
	size := 0
	for _, p := range bufs {
		names = append(names, p.Name)
		size += p.Len()
	}
	c, _ := spec.Counts()
	if !reflect.DeepEqual(names, norms) || size != c.Buffers || len(norms) == 0 {
		t.Errorf("buffers %v (%d values), want %v (%d values)", names, size, norms, c.Buffers)
	}

	spec5, err := models.Lookup("lenet-5")
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := models.New(spec5, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if bufs, err := lenet.Buffers(); err != nil || len(bufs) != 0 {
		t.Errorf("lenet-5: buffers %v, %v; want none", bufs, err)
	}

	short := &models.Params{}
	for _, p := range m.Params.All() {
		if p.Name != norms[1] {
			if err := short.Add(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	m.Params = short
	if _, err := m.Buffers(); err == nil || !strings.Contains(err.Error(), norms[1]) {
		t.Errorf("a model without %s: %v", norms[1], err)
	}
}
