package graph

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

func tinySpecs() map[string]models.Spec {
	ce := models.LossSoftmaxCrossEntropy
	return map[string]models.Spec{
		"dense": {Name: "dense", Input: []int{5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc", Units: 3}}},
		"relu": {Name: "relu", Input: []int{5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 4}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3}}},
		"conv": {Name: "conv", Input: []int{2, 5, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c", Filters: 3, Kernel: 3, Stride: 2, Padding: 1},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		// Two convolutions in a row, so that the input gradient of the
		// second one (its col2im) is checked as well; odd sizes, stride and
		// padding on both.
		"conv-conv": {Name: "conv-conv", Input: []int{2, 7, 6}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Padding: 1},
			{Kind: models.ReLU},
			{Kind: models.Conv2d, Name: "c2", Filters: 2, Kernel: 2, Stride: 2, Padding: 1},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		"maxpool": {Name: "maxpool", Input: []int{1, 6, 6}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3, Padding: 1},
			{Kind: models.MaxPool2d, Kernel: 2}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3}}},
		"dropout": {Name: "dropout", Input: []int{5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 6}, {Kind: models.Dropout, Rate: 0.5},
			{Kind: models.Dense, Name: "fc2", Units: 3}}},
		// A basic residual block with the identity shortcut: the input
		// feeds both the first convolution and the sum, batch norm in
		// training mode after every convolution.
		"residual": {Name: "residual", Input: []int{2, 4, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 2, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn1"},
			{Kind: models.ReLU, Name: "r1"},
			{Kind: models.Conv2d, Name: "c2", Filters: 2, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn2", Momentum: 0.3},
			{Kind: models.Add, Name: "sum", Inputs: []string{"bn2", models.InputName}},
			{Kind: models.ReLU}, {Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		// A block with a strided 1×1 projection shortcut, then global
		// average pooling.
		"projection": {Name: "projection", Input: []int{2, 6, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c0", Filters: 2, Kernel: 3, Padding: 1},
			{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Stride: 2, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn1", Eps: 1e-3},
			{Kind: models.ReLU, Name: "r1"},
			{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "bn2"},
			{Kind: models.Conv2d, Name: "sc", Inputs: []string{"c0"}, Filters: 3, Kernel: 1, Stride: 2, NoBias: true},
			{Kind: models.BatchNorm2d, Name: "sbn"},
			{Kind: models.Add, Name: "sum", Inputs: []string{"bn2", "sbn"}},
			{Kind: models.ReLU, Name: "r2"},
			{Kind: models.GlobalAvgPool2d, Name: "gap"}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 3}}},
		"avgpool": {Name: "avgpool", Input: []int{2, 6, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3, Padding: 1},
			{Kind: models.AvgPool2d, Kernel: 3, Stride: 2, Padding: 1},
			{Kind: models.AvgPool2d, Kernel: 2},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		"maxpool-pad": {Name: "maxpool-pad", Input: []int{1, 6, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3, Padding: 1},
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 2, Padding: 1},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		// Padding per side (wider than half the kernel in places), dilated
		// max-pooling cells, output sizes rounded up, a mean without its
		// padding and a clip.
		"windows": {Name: "windows", Input: []int{2, 7, 6}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Stride: 2, Pads: []int{1, 0, 2, 1}},
			{Kind: models.Clip, Min: ptr(-0.3), Max: ptr(0.4)},
			{Kind: models.MaxPool2d, Kernel: 2, Stride: 1, Dilation: 2, Pads: []int{1, 0, 0, 1}, CeilMode: true},
			{Kind: models.Conv2d, Name: "c2", Filters: 2, Kernel: 2, Pads: []int{0, 1, 1, 0}},
			{Kind: models.AvgPool2d, Kernel: 3, Stride: 2, Pads: []int{2, 0, 1, 2}, CeilMode: true, ExcludePad: true},
			{Kind: models.Clip, Max: ptr(0.2)},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		"avgpool-ceil": {Name: "avgpool-ceil", Input: []int{1, 6, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3, Padding: 1},
			{Kind: models.AvgPool2d, Kernel: 3, Stride: 2, Padding: 2, CeilMode: true},
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 2, Padding: 2},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3}}},
		// A grouped convolution, then a depthwise one (groups = channels),
		// neither with a bias, and a dense layer without bias.
		"grouped": {Name: "grouped", Input: []int{4, 5, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "g", Filters: 6, Kernel: 3, Groups: 2, NoBias: true},
			{Kind: models.Conv2d, Name: "dw", Filters: 6, Kernel: 3, Padding: 1, Groups: 6, NoBias: true},
			{Kind: models.ReLU},
			{Kind: models.Conv2d, Name: "pw", Filters: 4, Kernel: 1, Groups: 2},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 3, NoBias: true}}},
		// The cheap activations, and a trailing softmax the loss skips.
		"activations": {Name: "activations", Input: []int{2, 5, 5}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 3, Kernel: 3, Padding: 1},
			{Kind: models.LeakyReLU, Alpha: 0.2},
			{Kind: models.Conv2d, Name: "c2", Filters: 2, Kernel: 3},
			{Kind: models.ReLU6}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc1", Units: 5}, {Kind: models.Tanh},
			{Kind: models.Dense, Name: "fc2", Units: 4}, {Kind: models.Sigmoid},
			{Kind: models.Dense, Name: "fc3", Units: 3}, {Kind: models.LeakyReLU},
			{Kind: models.Dense, Name: "fc4", Units: 3}, {Kind: models.Softmax}}},
	}
}

func ptr(v float64) *float64 { return &v }

func randomBatch(rng *rand.Rand, spec models.Spec, batch int) ([]float32, []int) {
	x := make([]float32, batch*spec.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = rng.Intn(spec.Classes())
	}
	return x, y
}

// TestGradientsMatchFiniteDifferences checks the backward pass of every
// layer type through Gorgonia against central differences of the loss.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for name, spec := range tinySpecs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(7))
			m, err := models.New(spec, tensor.Float64, rng)
			if err != nil {
				t.Fatal(err)
			}
			// Non-zero biases so that their gradients are exercised too,
			// batch-norm scales away from 1 (the running statistics do not
			// matter in training).
			for _, p := range m.Params.All() {
				if !p.Prunable {
					v := p.Float64s()
					for i := range v {
						v[i] = 0.1 * rng.NormFloat64()
						if strings.HasSuffix(p.Name, "/"+models.RoleScale) {
							v[i] += 1
						}
					}
					_ = p.SetFloat64s(v)
				}
			}
			const batch = 3
			s, err := New(m, Options{Batch: batch, Train: true, Source: Plain{}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			x, y := randomBatch(rng, spec, batch)
			loss := func() float64 {
				l, err := s.Run(x, y, rand.New(rand.NewSource(3)))
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			for _, l := range s.Learnables() {
				// The gradient at the unperturbed point: the last run was
				// the previous learnable's last perturbation.
				loss()
				g, err := s.Grad(l)
				if err != nil {
					t.Fatal(err)
				}
				analytic := append([]float64(nil), g.Data().([]float64)...)
				vals := l.Value.Data().([]float64)
				const h = 1e-6
				for i := range vals {
					orig := vals[i]
					vals[i] = orig + h
					up := loss()
					vals[i] = orig - h
					down := loss()
					vals[i] = orig
					numeric := (up - down) / (2 * h)
					if d := math.Abs(numeric - analytic[i]); d > 1e-6*math.Max(1, math.Abs(numeric)) {
						t.Errorf("%s[%d]: analytic %.9g, numeric %.9g", l.Name, i, analytic[i], numeric)
					}
				}
			}
		})
	}
}

// TestRunIsFreshEachTime guards against stale values and accumulating
// gradients: the same batch gives the same loss and gradient twice, and a
// new batch gives a new loss.
func TestRunIsFreshEachTime(t *testing.T) {
	spec := tinySpecs()["relu"]
	rng := rand.New(rand.NewSource(1))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Options{Batch: 4, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x1, y1 := randomBatch(rng, spec, 4)
	x2, y2 := randomBatch(rng, spec, 4)
	l1, _ := s.Run(x1, y1, nil)
	w := s.Learnables()[0]
	g, _ := s.Grad(w)
	g1 := append([]float32(nil), g.Data().([]float32)...)
	l2, _ := s.Run(x2, y2, nil)
	l3, err := s.Run(x1, y1, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ = s.Grad(w)
	if l1 != l3 {
		t.Errorf("same batch, losses %v then %v", l1, l3)
	}
	if l1 == l2 {
		t.Errorf("different batches gave the same loss %v: stale input", l1)
	}
	for i, v := range g.Data().([]float32) {
		if v != g1[i] {
			t.Fatalf("gradient %d changed from %v to %v for the same batch", i, g1[i], v)
		}
	}
}

// TestGraphsShareParameters: a write into the parameter store is seen by
// a second graph of another batch size.
func TestGraphsShareParameters(t *testing.T) {
	spec := tinySpecs()["dense"]
	rng := rand.New(rand.NewSource(2))
	m, _ := models.New(spec, tensor.Float32, rng)
	a, err := New(m, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(m, Options{Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	x, y := randomBatch(rng, spec, 2)
	if _, err := a.Run(x, y, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Run(x[:5], y[:1], nil); err != nil {
		t.Fatal(err)
	}
	if la, lb := a.Logits()[:3], b.Logits(); la[0] != lb[0] || la[2] != lb[2] {
		t.Fatalf("graphs disagree: %v vs %v", la, lb)
	}
	w := m.Params.Get("fc/W").Value.Data().([]float32)
	for i := range w {
		w[i] *= 2
	}
	b.Run(x[:5], y[:1], nil)
	a.Run(x, y, nil)
	if la, lb := a.Logits()[:3], b.Logits(); la[1] != lb[1] {
		t.Fatalf("after an update the graphs disagree: %v vs %v", la, lb)
	}
}

func TestBadInputs(t *testing.T) {
	spec := tinySpecs()["dense"]
	m, _ := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if _, err := New(m, Options{Batch: 0}); err == nil {
		t.Error("batch 0 accepted")
	}
	one := models.Spec{Name: "one", Input: []int{5}, Loss: models.LossNone, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 1}}}
	m1, err := models.New(one, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(m1, Options{Batch: 2}); !errors.Is(err, models.ErrNoLoss) {
		t.Errorf("a model without a loss: %v, want ErrNoLoss", err)
	}
	s, err := New(m, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(make([]float32, 3), nil, nil); err == nil {
		t.Error("short input accepted")
	}
	if _, err := s.Run(make([]float32, 10), []int{0, 7}, nil); err == nil {
		t.Error("label out of range accepted")
	}
	s.Close()
	if _, err := s.Run(make([]float32, 10), nil, nil); err != ErrClosed {
		t.Errorf("run after close: %v", err)
	}
	bad := &models.Model{Spec: spec, Params: &models.Params{}}
	if _, err := New(bad, Options{Batch: 1}); err == nil {
		t.Error("model without parameters accepted")
	}
}

// TestLossIsStableForLargeLogits: logits of several hundred must give a
// finite loss (Gorgonia's LogSoftMax gives +Inf there in float32).
func TestLossIsStableForLargeLogits(t *testing.T) {
	spec := tinySpecs()["dense"]
	m, _ := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	w := m.Params.Get("fc/W").Value.Data().([]float32)
	for i := range w {
		w[i] = 0
	}
	w[0], w[1] = 500, 400 // sample x = e_0 gives logits [500, 400, 0]
	s, err := New(m, Options{Batch: 1, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x := []float32{1, 0, 0, 0, 0}
	loss, err := s.Run(x, []int{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-100) > 1e-3 {
		t.Fatalf("loss %v, want 100 (= 500 − 400)", loss)
	}
	g, _ := s.Grad(s.Learnables()[0])
	for _, v := range g.Data().([]float32) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatal("non-finite gradient")
		}
	}
}

// TestMaxPoolSurvivesNaN: a NaN reaching a pooling layer must give a NaN
// loss (which training reports as divergence), not a crash.
func TestMaxPoolSurvivesNaN(t *testing.T) {
	spec := tinySpecs()["maxpool"]
	m, _ := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	m.Params.Get("c/W").Value.Data().([]float32)[0] = float32(math.NaN())
	s, err := New(m, Options{Batch: 2, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x, y := randomBatch(rand.New(rand.NewSource(2)), spec, 2)
	loss, err := s.Run(x, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(loss) {
		t.Fatalf("loss %v, want NaN", loss)
	}
}
