package compress

import (
	"context"
	"math/rand"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// ownLoop drives a Pass over data the way train.Fit does (the same seeded
// shuffle, every full batch), with Step, and finishes it.
func ownLoop(t *testing.T, m *models.Model, data *dataset.Dataset, cfg Config) (*Pass, *models.Model, *Report) {
	t.Helper()
	p, err := NewPass(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = p.Config()
	rng := rand.New(rand.NewSource(cfg.Seed))
	size := data.Size()
	x := make([]float32, cfg.Batch*size)
	y := make([]int, cfg.Batch)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		p.BeginEpoch(epoch)
		perm := rng.Perm(data.N())
		for step := 0; step < data.N()/cfg.Batch; step++ {
			for i := range y {
				j := perm[step*cfg.Batch+i]
				data.Read(j, x[i*size:(i+1)*size])
				y[i] = data.Y[j]
			}
			if _, err := p.Step(x, y); err != nil {
				t.Fatal(err)
			}
		}
		if st := p.FinishEpoch(); st.Epoch != epoch || !(st.TrainLoss > 0) || st.TrainAcc == 0 {
			t.Fatalf("epoch %d: %+v", epoch, st)
		}
	}
	out, rep, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return p, out, rep
}

// TestPassOwnLoopIsRun: a loop of one's own over the same batches with
// Pass.Step gives bit for bit the model and counts of Run's spred phase
// (Run being built on the same Pass), and leaves its input model alone.
func TestPassOwnLoopIsRun(t *testing.T) {
	data := sparseTask(600, 1)
	cfg := Config{Lambda: 0.05, Threshold: 1e-3, EpochThreshold: true, Epochs: 4, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1}
	m := trainedLinear(t)
	before := m.Params.Get("fc/W").Float64s()
	_, got, rep := ownLoop(t, m, data, cfg)
	for i, v := range m.Params.Get("fc/W").Float64s() {
		if v != before[i] {
			t.Fatal("NewPass changed its input model")
		}
	}
	want := trainedLinear(t)
	wantRep, err := Run(context.Background(), want, Data{Train: data}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range want.Params.All() {
		a, b := q.Float64s(), got.Params.Get(q.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: Run %v, own loop %v", q.Name, i, a[i], b[i])
			}
		}
	}
	if a, b := rep.Totals, wantRep.Totals; a.PrunableNonZero != b.PrunableNonZero || a.AllNonZero != b.AllNonZero ||
		*a.CompressionRatio != *b.CompressionRatio || a.PrunableNonZero > a.PrunableParams/2 {
		t.Errorf("totals %+v, Run's %+v", rep.Totals, wantRep.Totals)
	}
	if len(rep.History) != 4 || len(wantRep.History) != 4 {
		t.Fatalf("histories of %d and %d epochs", len(rep.History), len(wantRep.History))
	}
	for i, h := range rep.History {
		w := wantRep.History[i]
		if h.Sparsity != w.Sparsity || h.Imbalance != w.Imbalance || h.LR != w.LR || h.TrainLoss != w.TrainLoss || h.TrainAcc != w.TrainAcc {
			t.Errorf("epoch %d: own loop %+v, Run %+v", i+1, h, w)
		}
	}
	if rep.Settings != wantRep.Settings || rep.Accuracy.Trained != nil {
		t.Errorf("settings %+v, Run's %+v; accuracy %+v", rep.Settings, wantRep.Settings, rep.Accuracy)
	}
	if got.Params.Get("fc/W").Value.Dtype() != tensor.Float32 {
		t.Error("dtype not restored")
	}
}

// TestPassThresholdClearsMomentum: the epoch threshold zeroes the factors
// of the small weights and their velocity, in Step's optimizer and in one
// of one's own, and a finished pass refuses more work.
func TestPassThresholdClearsMomentum(t *testing.T) {
	data := sparseTask(60, 1)
	p, err := NewPass(trainedLinear(t), Config{Lambda: 0.01, Threshold: 0.05, EpochThreshold: true, Epochs: 2, Batch: 30, LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	p.BeginEpoch(1)
	if _, err := p.Step(data.X[:30*20], data.Y[:30]); err != nil {
		t.Fatal(err)
	}
	mine := &train.SGD{} // the optimizer of a step of one's own, with velocity 1 everywhere
	pair := p.Factors().Pairs()[0]
	ones := make([]float64, pair.U.Len())
	for i := range ones {
		ones[i] = 1
	}
	mine.SetVelocity(pair.Name+".u", true, ones)
	p.SetOptimizer(mine)
	small := map[int]bool{}
	u, v := models.Float64s(pair.U.Data()), models.Float64s(pair.V.Data())
	for i := range u {
		if w := u[i] * v[i]; w < 0.05 && w > -0.05 {
			small[i] = true
		}
	}
	if len(small) == 0 || len(small) == len(u) {
		t.Fatalf("%d of %d weights below τ: pick another τ", len(small), len(u))
	}
	if n := p.BeginEpoch(2); n != len(small) {
		t.Errorf("BeginEpoch zeroed %d, want %d", n, len(small))
	}
	own := p.own.Velocity(pair.Name + ".u")
	theirs := mine.Velocity(pair.Name + ".u")
	u = models.Float64s(pair.U.Data())
	for i := range u {
		if small[i] && (u[i] != 0 || own[i] != 0 || theirs[i] != 0) {
			t.Fatalf("entry %d: u %v, velocities %v and %v after thresholding", i, u[i], own[i], theirs[i])
		}
		if !small[i] && (u[i] == 0 || theirs[i] != 1) {
			t.Fatalf("entry %d above τ changed: u %v, velocity %v", i, u[i], theirs[i])
		}
	}
	if p.Penalty() <= 0 {
		t.Error("no penalty")
	}
	if _, _, err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Step(data.X[:30*20], data.Y[:30]); !errors.Is(err, ErrPassDone) {
		t.Errorf("Step after Finish: %v", err)
	}
	if _, _, err := p.Finish(); !errors.Is(err, ErrPassDone) {
		t.Errorf("Finish twice: %v", err)
	}
}

// TestPassPenalty: Penalty is (λ/2)·Σ(u² + v²), which is λ‖w‖₁ right after
// the balanced split.
func TestPassPenalty(t *testing.T) {
	m := trainedLinear(t)
	p, err := NewPass(m, Config{Lambda: 0.1, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var l1 float64
	for _, w := range m.Params.Get("fc/W").Float64s() {
		if w < 0 {
			w = -w
		}
		l1 += w
	}
	if got, want := p.Penalty(), 0.1*l1; got < want*(1-1e-12) || got > want*(1+1e-12) {
		t.Errorf("penalty %v, want λ‖w‖₁ = %v", got, want)
	}
}

func TestNewPassRefuses(t *testing.T) {
	m := trainedLinear(t)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "lambda is 0"},
		{Config{Lambda: 0.01, Structure: StructureNeuron}, "structure neuron"},
		{Config{Method: MethodL1, Lambda: 0.01}, "not l1"},
		{Config{Lambda: 0.01, Resume: &Checkpoint{}}, "resume"},
	} {
		if _, err := NewPass(m, c.cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
	p, err := NewPass(m, Config{Lambda: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Step(make([]float32, 20), []int{0}); err == nil || !strings.Contains(err.Error(), "before BeginEpoch") {
		t.Errorf("Step before BeginEpoch: %v", err)
	}
}

// TestPassDrivenByFit: a Pass driven by train.Fit with its TrainConfig and
// Hooks, finished by Finish, is Run's spred phase bit for bit.
func TestPassDrivenByFit(t *testing.T) {
	data := sparseTask(300, 1)
	cfg := Config{Lambda: 0.05, Threshold: 1e-3, EpochThreshold: true, Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 4}
	p, err := NewPass(trainedLinear(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	epochs := 0
	rec := train.RecorderFunc(func(*train.EpochStats) { p.FinishEpoch(); epochs++ })
	if _, err := train.Fit(context.Background(), p.Model(), train.Data{Train: data}, p.TrainConfig(), p.Factors(), p.Hooks(), rec); err != nil {
		t.Fatal(err)
	}
	got, rep, err := p.Finish()
	if err != nil {
		t.Fatal(err)
	}
	want := trainedLinear(t)
	if _, err := Run(context.Background(), want, Data{Train: data}, cfg, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range want.Params.All() {
		a, b := q.Float64s(), got.Params.Get(q.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: Run %v, Fit with the pass's hooks %v", q.Name, i, a[i], b[i])
			}
		}
	}
	if epochs != 3 || len(rep.History) != 3 || rep.Totals.PrunableNonZero == rep.Totals.PrunableParams {
		t.Errorf("%d epochs, history of %d, %d of %d non-zero", epochs, len(rep.History), rep.Totals.PrunableNonZero, rep.Totals.PrunableParams)
	}
}
