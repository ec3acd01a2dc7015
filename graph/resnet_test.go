package graph

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// smallResNet8 is the zoo's ResNet-8 for 1×12×12 images, its parameters
// drawn from rng.
func smallResNet8(t *testing.T, rng *rand.Rand) (models.Spec, *models.Model) {
	t.Helper()
	e, err := models.LookupEntry("resnet-8")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := e.ForInput([]int{1, 12, 12})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	return spec, m
}

// TestResNet8Trains builds the zoo's ResNet-8 for small images, takes a few
// plain SGD steps on one random batch (the loss must go down, without NaN)
// and checks that an evaluation session reads the running statistics the
// training session updated.
func TestResNet8Trains(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	spec, m := smallResNet8(t, rng)
	const batch = 8
	tr, err := New(m, Options{Batch: batch, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ev, err := New(m, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	for _, l := range tr.Learnables() {
		if strings.HasSuffix(l.Name, "/mean") || strings.HasSuffix(l.Name, "/var") {
			t.Fatalf("buffer %s registered as a learnable", l.Name)
		}
		if l.Decay {
			t.Errorf("%s decayed without Options.DecayNorm", l.Name)
		}
	}
	x, y := randomBatch(rng, spec, batch)
	if _, err := ev.Run(x[:2*spec.InputSize()], nil, nil); err != nil {
		t.Fatal(err)
	}
	before := ev.Logits()
	var first, last float64
	for step := 0; step < 8; step++ {
		loss, err := tr.Run(x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			t.Fatalf("step %d: loss %v", step, loss)
		}
		if step == 0 {
			first = loss
		}
		last = loss
		for _, l := range tr.Learnables() {
			g, err := tr.Grad(l)
			if err != nil {
				t.Fatal(err)
			}
			w, d := l.Value.Data().([]float32), g.Data().([]float32)
			for i := range w {
				w[i] -= 0.05 * d[i]
			}
		}
	}
	t.Logf("loss %.4f → %.4f", first, last)
	if !(last < 0.8*first) {
		t.Errorf("loss went from %v to %v", first, last)
	}
	// The running statistics moved away from their start (mean 0, var 1).
	mean := m.Params.Get("layer2.0.bn1/mean").Float64s()
	if mean[0] == 0 {
		t.Fatal("the training session did not update layer2.0.bn1/mean")
	}
	if _, err := ev.Run(x[:2*spec.InputSize()], nil, nil); err != nil {
		t.Fatal(err)
	}
	trained := ev.Logits()
	// The evaluation session reads the buffers live: resetting them to
	// their start changes its logits, restoring them brings them back.
	saved := map[string][]float64{}
	for _, p := range m.Params.All() {
		if r := p.Name[strings.LastIndex(p.Name, "/")+1:]; r == models.RoleMean || r == models.RoleVar {
			saved[p.Name] = p.Float64s()
			v := make([]float64, p.Len())
			for i := range v {
				if r == models.RoleVar {
					v[i] = 1
				}
			}
			_ = p.SetFloat64s(v)
		}
	}
	if len(saved) != 2*9 {
		t.Fatalf("%d buffers, want 18 (9 batch norms)", len(saved))
	}
	ev.Run(x[:2*spec.InputSize()], nil, nil)
	reset := ev.Logits()
	for name, v := range saved {
		_ = m.Params.Get(name).SetFloat64s(v)
	}
	ev.Run(x[:2*spec.InputSize()], nil, nil)
	again := ev.Logits()
	same := func(a, b []float64) bool {
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if same(trained, before) || same(trained, reset) || !same(trained, again) {
		t.Fatalf("eval logits: before training %v, after %v, buffers reset %v, restored %v", before, trained, reset, again)
	}
}

// TestNoGradRunsAsTraining: a NoGrad session gives a training session's
// loss and leaves the same running statistics (it normalises by the batch
// and updates the buffers), but holds no gradient.
func TestNoGradRunsAsTraining(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	spec, m := smallResNet8(t, rng)
	bufs, err := m.Buffers()
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() [][]float64 {
		out := make([][]float64, len(bufs))
		for i, p := range bufs {
			out[i] = p.Float64s()
		}
		return out
	}
	const batch = 6
	x, y := randomBatch(rng, spec, batch)
	start := snapshot()
	var losses [2]float64
	var after [2][][]float64
	for i, noGrad := range []bool{false, true} {
		for j, p := range bufs { // both runs start from the same buffers
			_ = p.SetFloat64s(start[j])
		}
		s, err := New(m, Options{Batch: batch, Train: true, NoGrad: noGrad})
		if err != nil {
			t.Fatal(err)
		}
		if losses[i], err = s.Run(x, y, nil); err != nil {
			t.Fatal(err)
		}
		after[i] = snapshot()
		_, gradErr := s.Grad(s.Learnables()[0])
		if noGrad != (gradErr != nil) {
			t.Errorf("NoGrad %v: gradient error %v", noGrad, gradErr)
		}
		s.Close()
	}
	if losses[0] != losses[1] {
		t.Errorf("loss %v with gradients, %v without", losses[0], losses[1])
	}
	moved := false
	for j := range start {
		for k := range start[j] {
			if after[0][j][k] != after[1][j][k] {
				t.Fatalf("%s[%d]: %v with gradients, %v without", bufs[j].Name, k, after[0][j][k], after[1][j][k])
			}
			moved = moved || after[1][j][k] != start[j][k]
		}
	}
	if !moved {
		t.Error("the NoGrad run left the running statistics as they were")
	}
}
