package compress

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// trainedMLP is a 20-16-3 network trained briefly on sparseTask.
func trainedMLP(t *testing.T) *models.Model {
	t.Helper()
	spec := models.Spec{Name: "mlp", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), m, train.Data{Train: sparseTask(600, 1)},
		train.Config{Epochs: 3, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 1}, nil, train.Hooks{}, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTargetRatioReached: asking for a compression ratio instead of λ lands
// within 15% of it for every λ-driven pass (spred element-wise and by
// neurons, l1) and for magnitude pruning, records how λ was found, and
// the continuation really raised λ from its start.
func TestTargetRatioReached(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"spred", Config{TargetRatio: 8, LR: 0.3}},
		{"spred-sparsity", Config{TargetSparsity: 0.9, LR: 0.3}},
		{"spred-cosine", Config{TargetRatio: 8, LR: 0.3, Schedule: train.Schedule{Kind: train.Cosine}}},
		{"spred-fixed", Config{TargetRatio: 8, Lambda: 1e-3, LR: 0.3}},
		{"l1-fixed", Config{TargetRatio: 8, Lambda: 1e-3, Method: MethodL1, LR: 0.05}},
		{"neuron", Config{TargetRatio: 3, Structure: StructureNeuron, LR: 0.3, Batch: 30, Epochs: 12}},
		{"l1", Config{TargetRatio: 8, Method: MethodL1, LR: 0.05}},
		{"magnitude", Config{TargetRatio: 8, Method: MethodMagnitude, LR: 0.05}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := trainedMLP(t)
			cfg := tc.cfg
			cfg.Threshold, cfg.EpochThreshold, cfg.Momentum, cfg.Seed, cfg.FinetuneEpochs = 1e-3, true, 0.9, 1, 1
			if cfg.Epochs == 0 {
				cfg.Epochs = 6
			}
			if cfg.Batch == 0 {
				cfg.Batch = 20
			}
			rep, err := Run(context.Background(), m, data, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := cfg.TargetRatio
			if want == 0 {
				want = 1 / (1 - cfg.TargetSparsity)
			}
			got := rep.Totals.CompressionRatio
			if got == nil || math.Abs(*got-want) > 0.15*want {
				t.Fatalf("ratio %v, asked %v", fmtRatio(got), want)
			}
			tg := rep.Target
			if tg == nil || tg.Reached == nil || *tg.Reached != *got || tg.Sparsity != 1-1/want && tg.Sparsity != cfg.TargetSparsity {
				t.Fatalf("target report %+v", tg)
			}
			if cfg.Lambda != 0 {
				// λ given: held as it is, only the final τ set to the ratio.
				if tg.Search != TargetFixed || tg.Lambda != cfg.Lambda || rep.Settings.Lambda != cfg.Lambda || tg.Raises+tg.Lowers != 0 || tg.Threshold <= 0 {
					t.Errorf("fixed λ: target %+v, settings λ %v", tg, rep.Settings.Lambda)
				}
				for _, h := range rep.History {
					if h.Phase != PhaseFinetune && h.Lambda != cfg.Lambda {
						t.Errorf("%s epoch %d: λ %v, given %v", h.Phase, h.Epoch, h.Lambda, cfg.Lambda)
					}
				}
				var text strings.Builder
				if err := rep.WriteText(&text); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text.String(), "λ 0.001 as given, final τ") {
					t.Errorf("the report does not describe the fixed λ:\n%s", text.String())
				}
				return
			}
			checkLambdaHistory(t, rep)
			if cfg.Method == MethodMagnitude {
				if tg.Search != "none" || rep.Settings.TargetSparsity != tg.Sparsity {
					t.Errorf("magnitude: %+v, settings target %v", tg, rep.Settings.TargetSparsity)
				}
				return
			}
			if tg.Search != TargetContinuation || tg.Raises == 0 || tg.Lambda <= tg.LambdaStart || rep.Settings.Lambda != tg.Lambda {
				t.Errorf("λ not searched: %+v (settings λ %v)", tg, rep.Settings.Lambda)
			}
			if tg.Threshold <= 0 {
				t.Errorf("final τ %v", tg.Threshold)
			}
			var text, md strings.Builder
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{text.String(), md.String()} {
				if !strings.Contains(out, "reached "+fmtRatio(got)+"; λ by continuation: from 1e-06") || !strings.Contains(out, "raises and") {
					t.Errorf("the report does not describe the target:\n%s", out)
				}
			}
			if a := rep.Accuracy.Final(); a == nil || *a < 0.8 {
				t.Errorf("accuracy %v, target %+v, ratio %v, stages %v %v %v", fmtPct(a), *tg, *got, fmtPct(rep.Accuracy.Dense), fmtPct(rep.Accuracy.Trained), fmtPct(rep.Accuracy.Thresholded))
			}
		})
	}
}

// checkLambdaHistory: the History records λ per epoch: none for magnitude
// pruning and fine-tuning; for a continuation, rising from its start above
// LambdaStart and ending at the λ reached.
func checkLambdaHistory(t *testing.T, rep *Report) {
	t.Helper()
	var lambdas []float64
	for _, h := range rep.History {
		switch {
		case h.Phase == PhaseFinetune || h.Phase == PhaseMagnitude:
			if h.Lambda != 0 {
				t.Errorf("%s epoch %d: λ %v", h.Phase, h.Epoch, h.Lambda)
			}
		default:
			lambdas = append(lambdas, h.Lambda)
		}
	}
	if rep.Target.Search == "none" {
		return
	}
	if len(lambdas) == 0 || lambdas[len(lambdas)-1] != rep.Target.Lambda || lambdas[0] <= rep.Target.LambdaStart {
		t.Errorf("λ per epoch %v, target %+v", lambdas, rep.Target)
	}
	distinct := map[float64]bool{}
	for _, l := range lambdas {
		distinct[l] = true
	}
	if len(distinct) < 2 {
		t.Errorf("λ per epoch %v never changed", lambdas)
	}
}

// TestTargetResumes: a target run resumed from any of its checkpoints,
// including one taken in the middle of an epoch, gives the same weights
// bit for bit and the same λ schedule.
func TestTargetResumes(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(90, 2)}
	cfg := Config{TargetRatio: 6, Epochs: 3, Batch: 30, LR: 0.3, Momentum: 0.9, Seed: 3, EpochThreshold: true, FinetuneEpochs: 1}
	ref := trainedMLP(t)
	input := ref.Params.Clone()
	rec := &checkpoints{}
	refRep, err := Run(context.Background(), ref, data, cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	irec := &checkpoints{cancel: func(phase string, epoch, step int) {
		if phase == PhaseSpred && epoch == 2 && step == 11 {
			cancel()
		}
	}}
	if _, err := Run(ctx, &models.Model{Spec: ref.Spec, Params: input.Clone()}, data, cfg, irec); err == nil {
		t.Fatal("the interrupted run finished")
	}
	last := irec.all[len(irec.all)-1]
	if last.Target == nil || last.Train.Step != 11 || last.Target.Prev == nil {
		t.Fatalf("the interruption checkpoint holds no search state: %+v", last.Target)
	}
	for _, ck := range append(rec.all, last) {
		m := &models.Model{Spec: ref.Spec, Params: input.Clone()}
		c := cfg
		c.Resume = ck
		rep, err := Run(context.Background(), m, data, c, nil)
		if err != nil {
			t.Fatalf("resume from %s epoch %d step %d: %v", ck.Phase, ck.Train.Epoch, ck.Train.Step, err)
		}
		for _, p := range ref.Params.All() {
			a, b := p.Float64s(), m.Params.Get(p.Name).Float64s()
			for i := range a {
				if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
					t.Fatalf("resume from %s epoch %d step %d: %s[%d] differs", ck.Phase, ck.Train.Epoch, ck.Train.Step, p.Name, i)
				}
			}
		}
		g, w := rep.Target, refRep.Target
		if g.Lambda != w.Lambda || g.Raises != w.Raises || g.Lowers != w.Lowers || g.HeldEpoch != w.HeldEpoch || g.HeldStep != w.HeldStep || g.Threshold != w.Threshold || *g.Reached != *w.Reached {
			t.Errorf("resume from %s epoch %d: target %+v, want %+v", ck.Phase, ck.Train.Epoch, rep.Target, refRep.Target)
		}
	}
}

// TestQuantileTau: the final τ zeroes round(s·N) weights.
func TestQuantileTau(t *testing.T) {
	mags := []float64{0.5, 0, 0.1, 0.3, 0.2, 0.4, 0.05, 0.6}
	for _, tc := range []struct {
		s    float64
		want int
	}{{0.5, 4}, {0.75, 6}, {0.1, 1}, {0.99, 8}} {
		tau := quantileTau(mags, tc.s)
		n := 0
		for _, m := range mags {
			if m < tau {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("sparsity %v: τ %v zeroes %d, want %d", tc.s, tau, n, tc.want)
		}
	}
}

// TestValidationSplit: ValFraction holds out a seeded share of the training
// set, reports the dense and final accuracy on it, and trains on the rest.
func TestValidationSplit(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	cfg := Config{Lambda: 0.01, Threshold: 1e-3, Epochs: 2, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1, ValFraction: 0.2}
	m := trainedLinear(t)
	steps := &stepCount{}
	rep, err := Run(context.Background(), m, data, cfg, steps)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Validation
	if v == nil || v.Samples != 120 || v.TrainSamples != 480 || v.DenseAccuracy == nil || v.FinalAccuracy == nil {
		t.Fatalf("validation %+v", v)
	}
	tr, val, err := HoldOut(data.Train, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr2, val2, _ := HoldOut(data.Train, 0.2, 1)
	tr3, _, _ := HoldOut(data.Train, 0.2, 2)
	if tr.N() != 480 || val.N() != 120 || !equal(tr.Y, tr2.Y) || !equal(val.Y, val2.Y) || equal(tr.X, tr3.X) {
		t.Error("the split is not seeded")
	}
	if _, _, err := HoldOut(data.Train, 0.0001, 1); err == nil {
		t.Error("an empty validation split was accepted")
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "validation (120 of 600 training samples held out, not trained on): accuracy dense") {
		t.Errorf("text report: %v\n%s", err, text.String())
	}
	if steps.steps != 16 { // 480 samples in batches of 30, not 600
		t.Errorf("%d steps per epoch", steps.steps)
	}
}

type stepCount struct{ steps int }

func (s *stepCount) Record(*Stats)                                     {}
func (s *stepCount) Step(phase string, epoch, epochs, step, steps int) { s.steps = steps }

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The progress header says whether a target's λ is found or held.
func TestDescribeTarget(t *testing.T) {
	m, err := Lookup(MethodSpred)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{TargetRatio: 10, Threshold: 3e-3}, "λ found during the run"},
		{Config{TargetRatio: 10, Lambda: 1e-3, Threshold: 3e-3}, "λ=0.001 held"},
		{Config{TargetSparsity: 0.9, Lambda: 1e-3, Threshold: 3e-3}, "λ=0.001 held"},
	} {
		if got := m.Describe(c.cfg); !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q in it", c.cfg, got, c.want)
		}
	}
}

// TestProjectionFollowsSchedule: under a decaying learning rate the
// projection counts the steps ahead by their learning rate. Magnitudes
// that shrink as m₀·exp(−c·Σlr), the law of weight decay on the factors,
// are projected to their true final value: a weight that ends just below τ
// counts as dead, one that ends just above it does not, where counting
// steps alone calls both dead. A constant schedule keeps counting steps.
func TestProjectionFollowsSchedule(t *testing.T) {
	cfg := Config{TargetRatio: 10, Epochs: 10, Batch: 10, LR: 0.2, Schedule: train.Schedule{Kind: train.Cosine}}
	tg := newTarget(cfg, 100) // 10 steps per epoch, 100 in all
	if tg.rates == nil || tg.perEpoch != 10 {
		t.Fatalf("a cosine run keeps no schedule: %+v", tg)
	}
	lrAt := func(n int) float64 { return cfg.Schedule.Rate(cfg.LR, (n-1)/10, cfg.Epochs) }
	sum := func(a, b int) float64 {
		s := 0.0
		for n := a + 1; n <= b; n++ {
			s += lrAt(n)
		}
		return s
	}
	if got, want := tg.lrSum(13, 57), sum(13, 57); math.Abs(got-want) > 1e-12 {
		t.Fatalf("lrSum(13, 57) = %v, want %v", got, want)
	}
	const c, tau, prev, now = 0.5, 0.01, 20, 40
	// Starting magnitudes whose final value is τ·(1∓1%).
	final := func(m0 float64) float64 { return m0 * math.Exp(-c*sum(0, 100)) }
	below, above := tau*0.99/final(1), tau*1.01/final(1)
	at := func(m0 float64, n int) float64 { return m0 * math.Exp(-c*sum(0, n)) }
	tg.Prev, tg.PrevStep = []float64{at(below, prev), at(above, prev)}, prev
	mags := []float64{at(below, now), at(above, now)}
	if p := tg.projected(mags, nil, tau, now); p != 0.5 {
		t.Errorf("projected sparsity %v, want 0.5 (one of two ends below τ)", p)
	}
	steps := *tg
	steps.rates = nil
	if p := steps.projected(mags, nil, tau, now); p != 1 {
		t.Errorf("counting steps projects %v, want 1 (the overestimate the schedule corrects)", p)
	}
	cfg.Schedule = train.Schedule{Kind: train.Constant}
	if tg := newTarget(cfg, 100); tg.rates != nil || tg.lrSum(3, 10) != 7 {
		t.Errorf("a constant schedule weighs steps: rates %v, lrSum(3, 10) = %v", tg.rates, tg.lrSum(3, 10))
	}
}
