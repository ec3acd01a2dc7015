package compress

import (
	"context"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// sparseTask: 3 classes whose scores depend on only the first 3 of 20
// features, so most first-layer weights are useless.
func sparseTask(n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Shape: []int{20}, Classes: 3}
	for i := 0; i < n; i++ {
		c := i % 3
		for j := 0; j < 20; j++ {
			v := rng.NormFloat64()
			if j == c {
				v += 3
			}
			d.X = append(d.X, float32(v))
		}
		d.Y = append(d.Y, c)
	}
	return d
}

func linearSpec() models.Spec {
	return models.Spec{Name: "linear", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 3}}}
}

func trainedLinear(t *testing.T) *models.Model {
	t.Helper()
	m, err := models.New(linearSpec(), tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.Fit(context.Background(), m, train.Data{Train: sparseTask(600, 1)},
		train.Config{Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1}, nil, train.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunSparsifiesMoreWithLargerLambda(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	var prev = -1
	for _, lambda := range []float64{1e-3, 0.01, 0.05} {
		m := trainedLinear(t)
		cfg := Config{Lambda: lambda, Threshold: 1e-3, Epochs: 4, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1,
			EpochThreshold: true, FinetuneEpochs: 1}
		var recs []Stats
		rep, err := Run(context.Background(), m, data, cfg, recorderFunc(func(s *Stats) { recs = append(recs, *s) }))
		if err != nil {
			t.Fatal(err)
		}
		nz := rep.Totals.PrunableNonZero
		if got := m.Params.Get("fc/W").NonZero(); got != nz {
			t.Fatalf("λ=%v: report says %d non-zeros, model has %d", lambda, nz, got)
		}
		if prev >= 0 && nz >= prev {
			t.Errorf("λ=%v: %d non-zeros, not fewer than %d at the smaller λ", lambda, nz, prev)
		}
		prev = nz
		if len(recs) != 5 || recs[0].Phase != PhaseSpred || recs[4].Phase != PhaseFinetune {
			t.Fatalf("λ=%v: recorded %d epochs: %+v", lambda, len(recs), recs)
		}
		if recs[0].Lambda != lambda || recs[3].Lambda != lambda || recs[4].Lambda != 0 {
			t.Errorf("λ=%v: recorded λ %v (spred) and %v (fine-tuning)", lambda, recs[0].Lambda, recs[4].Lambda)
		}
		for _, s := range []*float64{rep.Accuracy.Dense, rep.Accuracy.Trained, rep.Accuracy.Thresholded, rep.Accuracy.Finetuned} {
			if s == nil || *s < 0.8 {
				t.Fatalf("λ=%v: accuracy stage missing or low: %+v", lambda, rep.Accuracy)
			}
		}
		if lambda == 0.05 {
			// The informative weights (rows 0-2) survive; most of the rest die.
			if nz > 30 || nz < 3 {
				t.Errorf("λ=0.05 kept %d of 60 weights", nz)
			}
			if rep.Totals.CompressionRatio == nil || *rep.Totals.CompressionRatio < 2 {
				t.Errorf("compression ratio %v", rep.Totals.CompressionRatio)
			}
		}
	}
}

// TestRunFromScratchAndDeterminism: the same config twice gives identical
// weights; factors drawn from the seed train too.
func TestRunFromScratchAndDeterminism(t *testing.T) {
	data := Data{Train: sparseTask(300, 1)}
	cfg := Config{Lambda: 0.01, Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 5, FromScratch: true}
	run := func() *models.Model {
		m, _ := models.New(linearSpec(), tensor.Float32, rand.New(rand.NewSource(9)))
		rep, err := Run(context.Background(), m, data, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accuracy.Dense != nil || rep.Accuracy.Trained != nil {
			t.Errorf("accuracies without test data: %+v", rep.Accuracy)
		}
		return m
	}
	a, b := run(), run()
	x, y := a.Params.Get("fc/W").Float64s(), b.Params.Get("fc/W").Float64s()
	for i := range x {
		if x[i] != y[i] {
			t.Fatal("two runs with the same seed differ")
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	data := Data{Train: sparseTask(60, 1)}
	m := trainedLinear(t)
	for _, cfg := range []Config{{Lambda: -1}, {Threshold: -1}, {Lambda: math.NaN()}, {Epochs: -1}, {Momentum: 1.5}} {
		if _, err := Run(context.Background(), m, data, cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: got %v, want ErrConfig", cfg, err)
		}
	}
	noWeights := models.Spec{Name: "none", Input: []int{3}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{{Kind: models.ReLU}}}
	nm, err := models.New(noWeights, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), nm, Data{Train: &dataset.Dataset{Shape: []int{3}, X: make([]float32, 300), Y: make([]int, 100), Classes: 2}}, Config{Lambda: 0.01}, nil); !errors.Is(err, ErrNoPrunable) {
		t.Errorf("model without weights: %v", err)
	}
	if _, err := Run(context.Background(), m, Data{Train: randomData(smallCNN(), 100, 1)}, Config{Lambda: 0.01}, nil); err == nil || !strings.Contains(err.Error(), "takes 20") {
		t.Errorf("mismatched data: %v", err)
	}
}

// TestRunDivergenceLeavesModel: a learning rate that blows up stops with a
// message naming the epoch and step and leaves the model untouched.
func TestRunDivergenceLeavesModel(t *testing.T) {
	m := trainedLinear(t)
	before := m.Params.Get("fc/W").Float64s()
	_, err := Run(context.Background(), m, Data{Train: sparseTask(300, 1)}, Config{Lambda: 0.01, LR: 1e20, Batch: 30, Epochs: 2}, nil)
	if !errors.Is(err, train.ErrDiverged) || !strings.Contains(err.Error(), "epoch 1 step") {
		t.Fatalf("got %v", err)
	}
	for i, v := range m.Params.Get("fc/W").Float64s() {
		if v != before[i] {
			t.Fatal("model changed by a failed run")
		}
	}
}

// TestRunDivergenceNamesLambda: a λ with λ·lr ≥ 1 makes the decay on
// the factors overshoot by itself; the error names λ, not the learning
// rate.
func TestRunDivergenceNamesLambda(t *testing.T) {
	m := trainedLinear(t)
	_, err := Run(context.Background(), m, Data{Train: sparseTask(300, 1)}, Config{Lambda: 1e9, LR: 0.3, Batch: 30, Epochs: 2}, nil)
	if !errors.Is(err, train.ErrDiverged) {
		t.Fatalf("got %v, want ErrDiverged", err)
	}
	if want := "λ = 1e+09 is large for lr 0.3 (λ·lr = 3e+08 ≥ 1"; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "smaller learning rate") {
		t.Errorf("error %q does not say %q", err, want)
	}
}

type recorderFunc func(*Stats)

func (f recorderFunc) Record(s *Stats) { f(s) }

// TestValidateRefusesZeroLambda: method spred without a penalty cannot
// compress, element-wise or grouped, and says so; the baselines that do not
// read λ, and l1 (thresholding alone), accept it.
func TestValidateRefusesZeroLambda(t *testing.T) {
	for _, c := range []Config{{}, {Method: MethodSpred}, {Structure: StructureNeuron}, {Lambda: 0, Epochs: 4}} {
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "lambda is 0") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: got %v", c, err)
		}
	}
	for _, c := range []Config{{Method: MethodMagnitude, TargetSparsity: 0.5}, {Method: MethodL1}, {Lambda: 1e-6}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestDefaultConfig: the recipe validates as it is for spred and each
// structure and baseline (magnitude once given its target), carries the
// settings that make it compress (momentum, epoch thresholding,
// fine-tuning), and gives the baselines and structures their own rate.
func TestDefaultConfig(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Lambda <= 0 || d.Momentum == 0 || !d.EpochThreshold || d.FinetuneEpochs == 0 || d.LR <= (Config{}).Defaults().LR {
		t.Errorf("DefaultConfig is not the recipe: %+v", d)
	}
	if dd := d.Defaults(); dd.EvalBatch != 1000 || func() bool { dd.EvalBatch = 0; return !reflect.DeepEqual(dd, d) }() {
		t.Errorf("Defaults changes DefaultConfig beyond the evaluation batch: %+v", dd)
	}
	for _, c := range []struct {
		method, structure string
		lr                float64
	}{
		{"", "", d.LR}, {MethodSpred, StructureElement, d.LR}, {MethodSpred, StructureNeuron, 0.05},
		{"", StructureMixed, 0.05}, {MethodL1, "", 0.02}, {MethodMagnitude, "", 0.02},
	} {
		cfg := DefaultConfigFor(c.method, c.structure)
		if cfg.Method == MethodMagnitude {
			if cfg.Rounds != 3 {
				t.Errorf("magnitude: %d rounds", cfg.Rounds)
			}
			cfg.TargetSparsity = 0.9
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s/%s: %v", c.method, c.structure, err)
		}
		if cfg.LR != c.lr {
			t.Errorf("%s/%s: lr %v, want %v", c.method, c.structure, cfg.LR, c.lr)
		}
	}
}

// TestFinetuneDecay: weight decay while fine-tuning shrinks the surviving
// weights of every method, keeps the pruned ones at exactly zero, leaves
// the phases before it alone, and is recorded in the report.
func TestFinetuneDecay(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	for _, base := range []Config{
		{Lambda: 0.02, Epochs: 2, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 3, EpochThreshold: true},
		{Method: MethodL1, Lambda: 0.01, Epochs: 2, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 3},
		{Method: MethodMagnitude, TargetSparsity: 0.8, Rounds: 2, Epochs: 3, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 3},
	} {
		base.FinetuneEpochs, base.FinetuneLR = 3, 0.1
		run := func(decay float64) (*models.Param, *Report) {
			m := trainedLinear(t)
			cfg := base
			cfg.FinetuneDecay = decay
			rep, err := Run(context.Background(), m, data, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Settings.FinetuneDecay; got != decay {
				t.Errorf("%s: report's fine-tuning decay %v, want %v", cfg.method(), got, decay)
			}
			return m.Params.Get("fc/W"), rep
		}
		plain, plainRep := run(0)
		decayed, decayedRep := run(0.5)
		if *plainRep.Loss.Thresholded != *decayedRep.Loss.Thresholded || *plainRep.Accuracy.Thresholded != *decayedRep.Accuracy.Thresholded {
			t.Errorf("%s: the decay changed the model before fine-tuning: loss %v against %v", base.method(),
				*decayedRep.Loss.Thresholded, *plainRep.Loss.Thresholded)
		}
		p, d := plain.Float64s(), decayed.Float64s()
		var np, nd float64
		for i := range p {
			if (p[i] == 0) != (d[i] == 0) {
				t.Fatalf("%s: weight %d is %v without decay and %v with it: the mask moved", base.method(), i, p[i], d[i])
			}
			np += p[i] * p[i]
			nd += d[i] * d[i]
		}
		if plain.NonZero() == 0 || !(nd < 0.9*np) {
			t.Errorf("%s: ‖w‖² %v with decay 0.5, %v without (%d non-zero): not shrunk", base.method(), nd, np, plain.NonZero())
		}
	}
	err := Config{Lambda: 1, FinetuneDecay: -1}.Validate()
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "fine-tuning weight decay") {
		t.Errorf("Validate of a negative fine-tuning decay: %v", err)
	}
}
