package train

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
)

func dropoutMLP() models.Spec {
	return models.Spec{Name: "mlp-dropout", Input: []int{6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU}, {Kind: models.Dropout, Rate: 0.3},
		{Kind: models.Dense, Name: "fc2", Units: 3}}}
}

// TestResumeIsExact: a run resumed from any checkpoint — taken at the end
// of an epoch or when the run was interrupted in the middle of one — ends
// with the same bits as a run that was never interrupted. One model uses
// dropout, so the random stream must be resumed exactly too; the other is a
// residual CNN with batch norm trained on augmented images, so the
// running statistics and the augmentation's draws must be too.
func TestResumeIsExact(t *testing.T) {
	t.Run("dropout", func(t *testing.T) {
		data := Data{Train: blobs(600, 6, 1), Test: blobs(90, 6, 2)}
		cfg := Config{Epochs: 3, Batch: 20, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Seed: 7, EvalBatch: 64}
		checkResumeExact(t, dropoutMLP(), data, cfg)
	})
	t.Run("residual-augmented", func(t *testing.T) {
		spec := tinyResNet()
		data := Data{Train: images(600, spec.Input, 1), Test: images(90, spec.Input, 2)}
		cfg := Config{Epochs: 3, Batch: 20, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-4, Seed: 7, EvalBatch: 64,
			Augment: dataset.Augment{Pad: 1, Flip: true}}
		checkResumeExact(t, spec, data, cfg)
	})
}

// tinyResNet is a residual block with batch norm on 2×6×6 images.
func tinyResNet() models.Spec {
	return models.Spec{Name: "tiny-resnet", Input: []int{2, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn1"},
		{Kind: models.ReLU, Name: "r1"},
		{Kind: models.Conv2d, Name: "c2", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn2"},
		{Kind: models.Add, Name: "sum", Inputs: []string{"bn2", "r1"}},
		{Kind: models.ReLU},
		{Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc", Units: 3}}}
}

// images are n random images of the given shape whose class is the
// channel-0 mean's tercile.
func images(n int, shape []int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	size := shape[0] * shape[1] * shape[2]
	d := &dataset.Dataset{Shape: append([]int(nil), shape...), Classes: 3}
	for i := 0; i < n; i++ {
		c := i % 3
		for j := 0; j < size; j++ {
			d.X = append(d.X, float32(rng.NormFloat64()+float64(c)*0.5))
		}
		d.Y = append(d.Y, c)
	}
	return d
}

func checkResumeExact(t *testing.T, spec models.Spec, data Data, cfg Config) {
	t.Helper()
	fresh := func() *models.Model {
		m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var states []*State
	ref := fresh()
	refHist, err := Fit(context.Background(), ref, data, cfg, nil, Hooks{Checkpoint: func(s *State) error {
		states = append(states, s)
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 3 {
		t.Fatalf("%d checkpoints for 3 epochs", len(states))
	}

	// An interrupted run: cancel during epoch 2, step 13.
	ctx, cancel := context.WithCancel(context.Background())
	var interrupted *State
	_, err = Fit(ctx, fresh(), data, cfg, nil, Hooks{
		AfterStep: func(epoch, step, steps int) error {
			if epoch == 2 && step == 13 {
				cancel()
			}
			return nil
		},
		Checkpoint: func(s *State) error { interrupted = s; return nil },
	}, nil)
	if !errors.Is(err, context.Canceled) || interrupted == nil || interrupted.Epoch != 2 || interrupted.Step != 13 {
		t.Fatalf("interruption: err %v, state %+v", err, interrupted)
	}

	for _, st := range []*State{states[0], states[1], interrupted} {
		m := fresh()
		c := cfg
		c.Resume = st
		hist, err := Fit(context.Background(), m, data, c, nil, Hooks{}, nil)
		if err != nil {
			t.Fatalf("resume from epoch %d step %d: %v", st.Epoch, st.Step, err)
		}
		if len(hist) != 3 || hist[2].TrainLoss != refHist[2].TrainLoss || hist[1].TrainAcc != refHist[1].TrainAcc {
			t.Errorf("resume from epoch %d step %d: history differs", st.Epoch, st.Step)
		}
		for _, p := range ref.Params.All() {
			a, b := p.Value.Data().([]float32), m.Params.Get(p.Name).Value.Data().([]float32)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
					t.Fatalf("resume from epoch %d step %d: %s[%d] = %v, uninterrupted %v", st.Epoch, st.Step, p.Name, i, b[i], a[i])
				}
			}
		}
	}
}

func TestResumeRejectsForeignState(t *testing.T) {
	m, _ := models.New(dropoutMLP(), tensor.Float32, rand.New(rand.NewSource(1)))
	data := Data{Train: blobs(60, 6, 1)}
	bad := []*State{
		{Epoch: 1, Values: map[string][]float64{"fc1/W": {1}}},
		{Epoch: 0},
	}
	for _, st := range bad {
		_, err := Fit(context.Background(), m, data, Config{Epochs: 1, Batch: 20, Resume: st}, nil, Hooks{}, nil)
		if err == nil {
			t.Errorf("state %+v accepted", st)
		}
	}
}

// TestResumeBeforeFirstStep: a run interrupted before its first step of an
// epoch resumes before that epoch's shuffle.
func TestResumeBeforeFirstStep(t *testing.T) {
	data := Data{Train: blobs(600, 6, 1)}
	cfg := Config{Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 7}
	fresh := func() *models.Model {
		m, _ := models.New(dropoutMLP(), tensor.Float32, rand.New(rand.NewSource(1)))
		return m
	}
	ref := fresh()
	if _, err := Fit(context.Background(), ref, data, cfg, nil, Hooks{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var st *State
	if _, err := Fit(ctx, fresh(), data, cfg, nil, Hooks{Checkpoint: func(s *State) error { st = s; return nil }}, nil); !errors.Is(err, context.Canceled) || st == nil {
		t.Fatalf("%v %v", err, st)
	}
	m := fresh()
	c := cfg
	c.Resume = st
	if _, err := Fit(context.Background(), m, data, c, nil, Hooks{}, nil); err != nil {
		t.Fatal(err)
	}
	a, b := ref.Params.Get("fc1/W").Float64s(), m.Params.Get("fc1/W").Float64s()
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("resumed run differs")
		}
	}
}

// TestResumeRejectsForgedState: a state edited in any field to something
// the run could not have written is refused before training, with an
// error wrapping ErrResume that names the field, and the model is left as
// it was.
func TestResumeRejectsForgedState(t *testing.T) {
	data := Data{Train: blobs(200, 6, 1)}
	cfg := Config{Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 7}
	fresh := func() *models.Model {
		m, _ := models.New(dropoutMLP(), tensor.Float32, rand.New(rand.NewSource(1)))
		return m
	}
	ctx, cancel := context.WithCancel(context.Background())
	var good *State
	_, err := Fit(ctx, fresh(), data, cfg, nil, Hooks{
		AfterStep: func(epoch, step, steps int) error {
			if epoch == 2 && step == 4 {
				cancel()
			}
			return nil
		},
		Checkpoint: func(s *State) error { good = s; return nil },
	}, nil)
	if !errors.Is(err, context.Canceled) || good == nil || good.Epoch != 2 || good.Step != 4 {
		t.Fatalf("interruption: %v %+v", err, good)
	}
	edit := func(f func(s *State)) *State {
		s := *good
		s.Values, s.Velocity = map[string][]float64{}, map[string][]float64{}
		for k, v := range good.Values {
			s.Values[k] = append([]float64(nil), v...)
		}
		for k, v := range good.Velocity {
			s.Velocity[k] = append([]float64(nil), v...)
		}
		s.History = append([]EpochStats(nil), good.History...)
		f(&s)
		return &s
	}
	cases := []struct {
		name, field string
		state       *State
	}{
		{"epoch beyond the run", "Epoch", edit(func(s *State) { s.Epoch, s.Step = 100, 0 })},
		{"epoch zero", "Epoch", edit(func(s *State) { s.Epoch = 0 })},
		{"step beyond an epoch", "Step", edit(func(s *State) { s.Step = 10 })},
		{"negative step", "Step", edit(func(s *State) { s.Step = -1 })},
		{"step after the last epoch", "Step", edit(func(s *State) { s.Epoch = 3; s.History = append(s.History, s.History[0]) })},
		{"history of another epoch", "History", edit(func(s *State) { s.History = nil })},
		{"huge draw count", "Draws", edit(func(s *State) { s.Draws = 1 << 62 })},
		{"huge epoch draws", "EpochDraws", edit(func(s *State) { s.EpochDraws = 1 << 62; s.Draws = 1 << 62 })},
		{"draws before epoch draws", "Draws", edit(func(s *State) { s.Draws = s.EpochDraws - 1 })},
		{"NaN loss sum", "LossSum", edit(func(s *State) { s.LossSum = math.NaN() })},
		{"negative correct", "Correct", edit(func(s *State) { s.Correct = -1 })},
		{"more correct than samples", "Correct", edit(func(s *State) { s.Correct = 4*20 + 1 })},
		{"NaN weight", "Values", edit(func(s *State) { s.Values["fc1/W"][3] = math.NaN() })},
		{"weight of another shape", "Values", edit(func(s *State) { s.Values["fc1/W"] = s.Values["fc1/W"][1:] })},
		{"missing weight", "Values", edit(func(s *State) { delete(s.Values, "fc2/b"); delete(s.Velocity, "fc2/b") })},
		{"infinite momentum", "Velocity", edit(func(s *State) { s.Velocity["fc1/W"][0] = math.Inf(1) })},
		{"momentum of another shape", "Velocity", edit(func(s *State) { s.Velocity["fc1/W"] = s.Velocity["fc1/W"][:2] })},
		{"momentum of no weight", "Velocity", edit(func(s *State) { s.Velocity["fc9/W"] = []float64{0} })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fresh()
			before := m.Params.Get("fc1/W").Float64s()
			cc := cfg
			cc.Resume = c.state
			_, err := Fit(context.Background(), m, data, cc, nil, Hooks{}, nil)
			if !errors.Is(err, ErrResume) || !strings.Contains(err.Error(), "field "+c.field) {
				t.Fatalf("got %v, want ErrResume naming field %s", err, c.field)
			}
			after := m.Params.Get("fc1/W").Float64s()
			for i := range before {
				if before[i] != after[i] {
					t.Fatal("the refused state was written into the model")
				}
			}
		})
	}
	cc := cfg
	cc.Resume = good
	if _, err := Fit(context.Background(), fresh(), data, cc, nil, Hooks{}, nil); err != nil {
		t.Fatalf("the state as written: %v", err)
	}
}

// TestSkipHearsCancel: replaying draws stops when the context is cancelled.
func TestSkipHearsCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := newCountingSource(1)
	done := make(chan error, 1)
	go func() { done <- c.skipTo(ctx, 1<<62) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("skip: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("skipTo did not stop on a cancelled context")
	}
}
