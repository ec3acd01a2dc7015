package infer

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// graphEval evaluates m on d through the graph package's forward graphs at
// batch samples per run: the metrics from the graph's own loss and the
// logits.
func graphEval(t *testing.T, m *models.Model, d *dataset.Dataset, batch int) (Metrics, []float64) {
	t.Helper()
	n, size, classes := d.N(), d.Size(), m.Spec.Classes()
	var loss float64
	var logits []float64
	correct := 0
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		s, err := graph.New(m, graph.Options{Batch: b})
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.Run(d.X[start*size:(start+b)*size], d.Y[start:start+b], nil)
		if err != nil {
			t.Fatal(err)
		}
		loss += l * float64(b)
		rows := s.Logits()
		for i, y := range d.Y[start : start+b] {
			row := rows[i*classes : (i+1)*classes]
			arg := 0
			for j, v := range row {
				if v > row[arg] {
					arg = j
				}
			}
			if arg == y {
				correct++
			}
		}
		logits = append(logits, rows...)
		s.Close()
	}
	return Metrics{Loss: loss / float64(n), Accuracy: float64(correct) / float64(n), Correct: correct, N: n}, logits
}

// sparsify zeroes a fraction of every prunable weight at random.
func sparsify(t *testing.T, m *models.Model, frac float64, rng *rand.Rand) {
	t.Helper()
	for _, p := range m.Params.All() {
		if !p.Prunable {
			continue
		}
		v := p.Float64s()
		for i := range v {
			if rng.Float64() < frac {
				v[i] = 0
			}
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEngineMatchesGraph compares the engine's logits, loss and accuracy
// with the graph package's evaluation, for dense and CSR kernels, a full
// and a partial last batch, and specs with stride, padding and odd sizes.
func TestEngineMatchesGraph(t *testing.T) {
	ce := models.LossSoftmaxCrossEntropy
	specs := map[string]models.Spec{
		"mlp": {Name: "mlp", Input: []int{12}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 9}, {Kind: models.ReLU},
			{Kind: models.Dropout, Rate: 0.5},
			{Kind: models.Dense, Name: "fc2", Units: 4}}},
		"cnn": {Name: "cnn", Input: []int{2, 9, 8}, Loss: ce, Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1},
			{Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Conv2d, Name: "c2", Filters: 3, Kernel: 2, Stride: 2, Padding: 1},
			{Kind: models.MaxPool2d, Kernel: 3, Stride: 1},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc", Units: 5}}},
		"lenet-5": lookup(t, "lenet-5"),
	}
	for name, spec := range specs {
		for _, frac := range []float64{0, 0.9} {
			rng := rand.New(rand.NewSource(11))
			m, err := models.New(spec, tensor.Float32, rng)
			if err != nil {
				t.Fatal(err)
			}
			sparsify(t, m, frac, rng)
			const n = 23
			d := &dataset.Dataset{Shape: spec.Input, Classes: spec.Classes(), X: make([]float32, n*spec.InputSize()), Y: make([]int, n)}
			for i := range d.X {
				d.X[i] = float32(rng.NormFloat64())
			}
			for i := range d.Y {
				d.Y[i] = rng.Intn(d.Classes)
			}
			want, wantLogits := graphEval(t, m, d, 10)
			for _, k := range []Kernels{Dense, Sparse, Auto} {
				e, err := New(m, Options{Batch: 10, Kernels: k})
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.Evaluate(d.X, d.Y)
				if err != nil {
					t.Fatal(err)
				}
				if got.N != n || got.Accuracy != want.Accuracy || math.Abs(got.Loss-want.Loss) > 1e-5*math.Max(1, want.Loss) {
					t.Errorf("%s sparsity %v kernels %v: %+v, graph %+v", name, frac, k, got, want)
				}
				// EvaluateFunc reading the same samples batch by batch gives the same metrics.
				viaFunc, err := e.EvaluateFunc(d.Y, func(x []float32, start, b int) { d.ReadRange(start, b, x) })
				if err != nil {
					t.Fatal(err)
				}
				if viaFunc != got {
					t.Errorf("%s sparsity %v kernels %v: EvaluateFunc %+v, Evaluate %+v", name, frac, k, viaFunc, got)
				}
				for start := 0; start < n; start += 10 {
					b := min(10, n-start)
					logits, err := e.Forward(d.X[start*spec.InputSize():(start+b)*spec.InputSize()], b)
					if err != nil {
						t.Fatal(err)
					}
					for i, v := range logits {
						w := wantLogits[start*spec.Classes()+i]
						if math.Abs(float64(v)-w) > 1e-4*math.Max(1, math.Abs(w)) {
							t.Fatalf("%s sparsity %v kernels %v: logit %d is %v, graph %v", name, frac, k, start*spec.Classes()+i, v, w)
						}
					}
				}
				for _, p := range e.Plan() {
					if p.Sparse != (k == Sparse || (k == Auto && p.Density <= map[bool]float64{true: ConvCrossover, false: DenseCrossover}[p.Kind == models.Conv2d])) {
						t.Errorf("%s kernels %v: plan %v", name, k, p)
					}
				}
			}
		}
	}
}

func TestEngineBadInput(t *testing.T) {
	spec := lookup(t, "lenet-300-100")
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Forward(make([]float32, 5*784), 5); err == nil {
		t.Error("more samples than the batch: no error")
	}
	if _, err := e.Forward(make([]float32, 783), 1); err == nil {
		t.Error("short input: no error")
	}
	if _, err := e.Evaluate(make([]float32, 784), []int{10}); err == nil {
		t.Error("label 10 of 10 classes: no error")
	}
	if _, err := ParseKernels("fast"); err == nil {
		t.Error("unknown kernels: no error")
	}
}

// TestEngineWithoutLoss: a model with one output value per sample and no
// loss runs, but is not evaluated.
func TestEngineWithoutLoss(t *testing.T) {
	spec := models.Spec{Name: "one", Input: []int{3}, Loss: models.LossNone, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 1}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, -1, 0, 2}
	y, err := e.Forward(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Params.Get("fc/W").Float64s(), m.Params.Get("fc/b").Float64s()
	for i := 0; i < 2; i++ {
		want := b[0]
		for j := 0; j < 3; j++ {
			want += float64(x[3*i+j]) * w[j]
		}
		if len(y) != 2 || math.Abs(float64(y[i])-want) > 1e-5 {
			t.Fatalf("outputs %v, want %v at %d", y, want, i)
		}
	}
	if _, err := e.Evaluate(x, []int{0, 0}); !errors.Is(err, models.ErrNoLoss) {
		t.Errorf("Evaluate: %v, want ErrNoLoss", err)
	}
}

func lookup(t testing.TB, name string) models.Spec {
	t.Helper()
	s, err := models.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEngineBatchBound: New lowers a batch whose buffers and scratch would
// pass the limit (MaxBufferValues, lowered here) to one that fits, the
// engine computes what one with that batch asked for computes, and a model
// that cannot run even one sample within the limit is refused.
func TestEngineBatchBound(t *testing.T) {
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	defer func(old int64) { bufferLimit = old }(bufferLimit)
	bufferLimit = 100_000 // about 240 samples of lenet-300-100
	e, err := New(m, Options{Batch: 1_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if b := e.Batch(); b < 100 || b > 250 {
		t.Fatalf("batch %d for a limit of 100000 values", b)
	}
	var values int64
	for _, b := range e.bufs {
		values += int64(len(b))
	}
	if values += int64(len(e.sc.f) + len(e.sc.i)); values > bufferLimit {
		t.Fatalf("%d values of buffers and scratch, over the limit %d", values, bufferLimit)
	}
	want, err := New(m, Options{Batch: e.Batch()})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(2))
	n := e.Batch()
	x := make([]float32, n*784)
	for i := range x {
		x[i] = rng.Float32()
	}
	got, err := e.Forward(x, n)
	if err != nil {
		t.Fatal(err)
	}
	wantY, err := want.Forward(x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != wantY[i] {
			t.Fatalf("logit %d: %v, want %v", i, got[i], wantY[i])
		}
	}
	bufferLimit = 300 // under one sample (buffers of 300 and 100 values)
	if _, err := New(m, Options{}); err == nil || !strings.Contains(err.Error(), "infer.MaxBufferValues") {
		t.Fatalf("one sample over the limit: %v", err)
	}
}
