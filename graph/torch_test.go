package graph_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// everyKindSpec has every layer kind a training graph runs through: a
// convolution without bias, batch norm, a depthwise convolution, a
// residual sum, padded max and average pooling, a grouped convolution with
// bias, global average pooling and a dense layer without bias.
func everyKindSpec() models.Spec {
	return models.Spec{Name: "every-kind", Input: []int{3, 9, 8}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn1"},
		{Kind: models.ReLU, Name: "r1"},
		{Kind: models.Conv2d, Name: "dw", Filters: 4, Kernel: 3, Padding: 1, Groups: 4, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn2", Momentum: 0.25, Eps: 1e-3},
		{Kind: models.Add, Name: "sum", Inputs: []string{"bn2", "r1"}},
		{Kind: models.MaxPool2d, Name: "mp", Kernel: 3, Stride: 2, Padding: 1},
		{Kind: models.AvgPool2d, Name: "ap", Kernel: 3, Stride: 1, Padding: 1},
		{Kind: models.Clip, Name: "clip", Min: ptr(-1), Max: ptr(1.5)},
		{Kind: models.MaxPool2d, Name: "mpd", Kernel: 2, Stride: 1, Dilation: 2, Pads: []int{0, 1, 1, 0}, CeilMode: true},
		{Kind: models.AvgPool2d, Name: "apx", Kernel: 2, Stride: 2, Pads: []int{1, 1, 0, 0}, CeilMode: true, ExcludePad: true},
		{Kind: models.Conv2d, Name: "g", Filters: 6, Kernel: 1, Groups: 2, Pads: []int{1, 0, 0, 1}},
		{Kind: models.BatchNorm2d, Name: "bn3"},
		{Kind: models.GlobalAvgPool2d, Name: "gap"},
		{Kind: models.Flatten, Name: "flat"},
		{Kind: models.Dense, Name: "fc", Units: 5, NoBias: true},
	}}
}

func ptr(v float64) *float64 { return &v }

// randomize gives every parameter random values: batch-norm running
// variances and scales positive, away from the defaults.
func randomize(m *models.Model, rng *rand.Rand) {
	for _, p := range m.Params.All() {
		v := p.Float64s()
		for i := range v {
			switch {
			case strings.HasSuffix(p.Name, "/var"):
				v[i] = 0.5 + rng.Float64()
			case strings.HasSuffix(p.Name, "/scale"):
				v[i] = 0.5 + rng.Float64()
			case strings.HasSuffix(p.Name, "/mean"), strings.HasSuffix(p.Name, "/shift"), strings.HasSuffix(p.Name, "/b"):
				v[i] = 0.5 * rng.NormFloat64()
			default:
				v[i] = rng.NormFloat64() * 0.5
			}
		}
		_ = p.SetFloat64s(v)
	}
}

// near fails unless got and want agree to tol relative to want's largest
// magnitude.
func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		worst = math.Max(worst, d/scale)
		if d > tol*scale {
			t.Errorf("%s[%d]: %.9g, PyTorch %.9g (scale %.3g)", what, i, got[i], want[i], scale)
			return
		}
	}
	t.Logf("%s: worst relative difference %.2g", what, worst)
}

// TestForwardMatchesTorch runs a spec with every layer kind in PyTorch and
// in an evaluation and a training session, float32 and float64: the
// logits, and after the training run the running statistics, agree.
func TestForwardMatchesTorch(t *testing.T) {
	for _, train := range []bool{false, true} {
		spec := everyKindSpec()
		rng := rand.New(rand.NewSource(5))
		m64, err := models.New(spec, tensor.Float64, rng)
		if err != nil {
			t.Fatal(err)
		}
		randomize(m64, rng)
		const n = 4
		x := make([]float32, n*spec.InputSize())
		x64 := make([]float64, len(x))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
			x64[i] = float64(x[i])
		}
		// One PyTorch run (float64) is the reference for both dtypes.
		ref := interoptest.TorchForward(t, m64, x64, n, train)
		for _, c := range []struct {
			dt  tensor.Dtype
			tol float64
		}{{tensor.Float64, 1e-10}, {tensor.Float32, 1e-4}} {
			t.Run(fmt.Sprintf("%v/train=%v", c.dt, train), func(t *testing.T) {
				ps, err := m64.Params.AsType(c.dt)
				if err != nil {
					t.Fatal(err)
				}
				m := &models.Model{Spec: spec, Params: ps}
				s, err := graph.New(m, graph.Options{Batch: n, Train: train})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Run(x, nil, nil); err != nil {
					t.Fatal(err)
				}
				near(t, "logits", s.Logits(), ref.Logits.Data, c.tol)
				buffers := 0
				for _, p := range m.Params.All() {
					if !strings.HasSuffix(p.Name, "/mean") && !strings.HasSuffix(p.Name, "/var") {
						continue
					}
					want, ok := ref.Buffers[p.Name]
					if !ok {
						t.Fatalf("PyTorch returned no buffer %s", p.Name)
					}
					near(t, p.Name, p.Float64s(), want, c.tol)
					buffers++
				}
				if buffers != 6 {
					t.Fatalf("%d buffers compared, want 6", buffers)
				}
			})
		}
	}
}

// TestActivationsMatchTorch runs a spec with every activation and a
// trailing softmax in PyTorch and in an evaluation session, float32 and
// float64: the session's logits are PyTorch's output of the layer before
// the softmax (the loss reads those), and their softmax PyTorch's
// probabilities.
func TestActivationsMatchTorch(t *testing.T) {
	spec := models.Spec{Name: "activations", Input: []int{2, 6, 5}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1},
		{Kind: models.LeakyReLU, Alpha: 0.2},
		{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 3},
		{Kind: models.ReLU6}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc1", Units: 6}, {Kind: models.Tanh},
		{Kind: models.Dense, Name: "fc2", Units: 5}, {Kind: models.Sigmoid},
		{Kind: models.Dense, Name: "fc3", Units: 5}, {Kind: models.LeakyReLU},
		{Kind: models.Dense, Name: "fc4", Units: 4}, {Kind: models.Softmax}}}
	rng := rand.New(rand.NewSource(9))
	m64, err := models.New(spec, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m64, rng)
	// Weights large enough that relu6 saturates somewhere.
	for _, p := range m64.Params.All() {
		v := p.Float64s()
		for i := range v {
			v[i] *= 3
		}
		_ = p.SetFloat64s(v)
	}
	const n = 4
	x := make([]float32, n*spec.InputSize())
	x64 := make([]float64, len(x))
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
		x64[i] = float64(x[i])
	}
	ref := interoptest.TorchForward(t, m64, x64, n, false)
	for _, c := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float64, 1e-10}, {tensor.Float32, 1e-4}} {
		t.Run(c.dt.String(), func(t *testing.T) {
			ps, err := m64.Params.AsType(c.dt)
			if err != nil {
				t.Fatal(err)
			}
			s, err := graph.New(&models.Model{Spec: spec, Params: ps}, graph.Options{Batch: n})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Run(x, nil, nil); err != nil {
				t.Fatal(err)
			}
			logits := s.Logits()
			near(t, "logits", logits, ref.Outputs["fc4"], c.tol)
			probs := make([]float64, len(logits))
			for r := 0; r < n; r++ {
				graph.SoftmaxRow(logits[r*4:(r+1)*4], probs[r*4:(r+1)*4])
			}
			near(t, "probabilities", probs, ref.Logits.Data, c.tol)
		})
	}
}
