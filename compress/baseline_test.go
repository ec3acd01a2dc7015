package compress

import (
	"context"
	"math"
	"testing"

	"github.com/pkg/errors"
)

// TestMagnitudeReachesTarget: iterative magnitude pruning ends with exactly
// round(target·N) zeros, the zeros of each round stay zero while it
// retrains, and the accuracy stays high on the sparse task.
func TestMagnitudeReachesTarget(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	m := trainedLinear(t)
	cfg := Config{Method: MethodMagnitude, TargetSparsity: 0.9, Rounds: 3, Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1,
		FinetuneEpochs: 1}
	// The zeros after each round's pruning must survive its retraining:
	// sparsity (exact zeros) never drops, and each round's epochs show at
	// least the round's target.
	var recs []Stats
	rep, err := Run(context.Background(), m, data, cfg, recorderFunc(func(s *Stats) { recs = append(recs, *s) }))
	if err != nil {
		t.Fatal(err)
	}
	n := 60
	want := n - int(math.Round(0.9*float64(n)))
	if got := m.Params.Get("fc/W").NonZero(); got != want || rep.Totals.PrunableNonZero != want {
		t.Fatalf("non-zeros: model %d, report %d, want %d", got, rep.Totals.PrunableNonZero, want)
	}
	if len(recs) != 4 || recs[0].Phase != PhaseMagnitude || recs[3].Phase != PhaseFinetune {
		t.Fatalf("recorded %+v", recs)
	}
	for i := 0; i < 3; i++ {
		zeros := int(math.Round(RoundSparsity(0.9, i+1, 3) * float64(n)))
		if got := int(math.Round(recs[i].Sparsity * float64(n))); got != zeros {
			t.Errorf("round %d: %d zeros after retraining, want %d (the mask must hold)", i+1, got, zeros)
		}
	}
	if rep.Settings.Method != MethodMagnitude || rep.Settings.TargetSparsity != 0.9 || rep.Settings.Rounds != 3 {
		t.Errorf("settings %+v", rep.Settings)
	}
	for _, s := range []*float64{rep.Accuracy.Dense, rep.Accuracy.Trained, rep.Accuracy.Thresholded, rep.Accuracy.Finetuned} {
		if s == nil || *s < 0.8 {
			t.Fatalf("accuracy stage missing or low: %+v", rep.Accuracy)
		}
	}
	if *rep.Accuracy.Trained != *rep.Accuracy.Thresholded {
		t.Errorf("thresholded accuracy %v differs from trained %v", *rep.Accuracy.Thresholded, *rep.Accuracy.Trained)
	}
}

func TestRoundSparsity(t *testing.T) {
	for r, want := range []float64{0, 1 - math.Pow(0.1, 1.0/3), 1 - math.Pow(0.1, 2.0/3), 0.9} {
		if got := RoundSparsity(0.9, r, 3); math.Abs(got-want) > 1e-15 {
			t.Errorf("round %d: %v, want %v", r, got, want)
		}
	}
	total := 0
	for r := 1; r <= 3; r++ {
		total += roundEpochs(10, r, 3)
	}
	if total != 10 || roundEpochs(10, 1, 3) != 4 || roundEpochs(10, 3, 3) != 3 {
		t.Errorf("epochs split: %d in all", total)
	}
}

// TestL1SparsifiesMoreWithLargerLambda: subgradient L1 leaves weights near
// zero, thresholding makes them exactly zero, and more λ gives fewer
// non-zeros.
func TestL1SparsifiesMoreWithLargerLambda(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	prev := -1
	for _, lambda := range []float64{0.001, 0.01, 0.05} {
		m := trainedLinear(t)
		cfg := Config{Method: MethodL1, Lambda: lambda, Threshold: 1e-2, Epochs: 4, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1}
		rep, err := Run(context.Background(), m, data, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		nz := rep.Totals.PrunableNonZero
		w := m.Params.Get("fc/W").Float64s()
		if got := m.Params.Get("fc/W").NonZero(); got != nz {
			t.Fatalf("λ=%v: report says %d non-zeros, model has %d", lambda, nz, got)
		}
		for _, x := range w {
			if x != 0 && math.Abs(x) < 1e-2 {
				t.Fatalf("λ=%v: weight %v below τ survived thresholding", lambda, x)
			}
		}
		if prev >= 0 && nz >= prev {
			t.Errorf("λ=%v: %d non-zeros, not fewer than %d at the smaller λ", lambda, nz, prev)
		}
		prev = nz
		if rep.Settings.Method != MethodL1 || rep.Settings.Lambda != lambda {
			t.Errorf("settings %+v", rep.Settings)
		}
		if lambda == 0.05 {
			if nz >= 60 || rep.Accuracy.Thresholded == nil || *rep.Accuracy.Thresholded < 0.8 {
				t.Errorf("λ=0.05: %d non-zeros, accuracy %+v", nz, rep.Accuracy)
			}
		}
	}
}

func TestRunRejectsBadMethod(t *testing.T) {
	data := Data{Train: sparseTask(60, 1)}
	m := trainedLinear(t)
	for _, cfg := range []Config{
		{Method: "obd"},
		{Method: MethodMagnitude},
		{Method: MethodMagnitude, TargetSparsity: 1},
		{Method: MethodMagnitude, TargetSparsity: 0.5, Rounds: -1},
		{Method: MethodL1, FromScratch: true},
		{TargetSparsity: 0.5, TargetRatio: 2},
		{TargetRatio: 1},
		{TargetRatio: math.Inf(1)},
		{ValFraction: 1},
		{ValFraction: -0.1},
	} {
		if _, err := Run(context.Background(), m, data, cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: got %v, want ErrConfig", cfg, err)
		}
	}
	// The baselines resume (TestResumeEveryRunKind), but not from a checkpoint of another run.
	if _, err := Run(context.Background(), m, data, Config{Method: MethodL1, Resume: &Checkpoint{}}, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume with l1 from a foreign checkpoint: %v", err)
	}
}

// TestSpredSettingsMethod: a spred run records its method whether Method
// is empty or "spred", and both have the same fingerprint.
func TestSpredSettingsMethod(t *testing.T) {
	m := trainedLinear(t)
	a, err := fingerprint(m, Data{}, Config{Lambda: 0.01}.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := fingerprint(m, Data{}, Config{Lambda: 0.01, Method: MethodSpred}.Defaults())
	if a != b {
		t.Error("Method spred changes the fingerprint")
	}
	meth, err := Config{}.lookup()
	if err != nil {
		t.Fatal(err)
	}
	if s := meth.Settings(Config{}.Defaults()); s.Method != MethodSpred {
		t.Errorf("method %q", s.Method)
	}
}
