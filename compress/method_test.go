package compress_test

import (
	"context"
	"errors"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// halveMethod is a method outside the package: it trains the dense
// weights for the epochs, then zeroes the smaller half of them.
type halveMethod struct{}

const halveName = "test-halve"

func (halveMethod) Name() string { return halveName }

func (halveMethod) Info() compress.MethodInfo {
	return compress.MethodInfo{Summary: "dense training, then half the weights pruned", Title: "halving", Phase: "halve"}
}

func (halveMethod) Defaults(c compress.Config) compress.Config { return c }

func (halveMethod) DefaultConfig(string) compress.Config {
	c := compress.DefaultConfig()
	c.Method, c.Lambda, c.LR = halveName, 0, 0.07
	return c
}

func (halveMethod) Validate(c compress.Config) error {
	if c.Lambda != 0 {
		return errors.New("test-halve reads no λ")
	}
	return nil
}

func (halveMethod) Settings(c compress.Config) compress.Settings { return compress.SharedSettings(c) }

func (halveMethod) Describe(c compress.Config) string { return "half of the weights" }

func (halveMethod) Train(ctx context.Context, s *compress.Session) (*compress.Mask, error) {
	c := s.Config
	tc := train.Config{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Seed: c.Seed, EvalBatch: c.EvalBatch, Dtype: c.Dtype}
	hooks := train.Hooks{AfterStep: s.Stepper(c.Epochs), Checkpoint: s.Checkpoint(0, nil)}
	rec := train.RecorderFunc(func(e *train.EpochStats) { s.Record(compress.Stats{Phase: "halve", EpochStats: *e}) })
	if _, err := train.Fit(ctx, s.Model, s.Data, tc, graph.Plain{}, hooks, rec); err != nil {
		return nil, err
	}
	var err error
	if s.Report.Accuracy.Trained, s.Report.Loss.Trained, err = s.Evaluate(nil); err != nil {
		return nil, err
	}
	compress.PruneMagnitude(s.Model, 0.5)
	if s.Report.Accuracy.Thresholded, s.Report.Loss.Thresholded, err = s.Evaluate(nil); err != nil {
		return nil, err
	}
	return compress.MaskOf(s.Model), nil
}

func init() { compress.Register(halveMethod{}) }

// blobs is n samples of 3 classes in 8 features, class c shifted on
// feature c.
func blobs(n int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Shape: []int{8}, Classes: 3}
	for i := 0; i < n; i++ {
		for j := 0; j < 8; j++ {
			v := rng.NormFloat64()
			if j == i%3 {
				v += 3
			}
			d.X = append(d.X, float32(v))
		}
		d.Y = append(d.Y, i%3)
	}
	return d
}

func tinyModel(t *testing.T) *models.Model {
	t.Helper()
	spec := models.Spec{Name: "tiny", Input: []int{8}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 3}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMethodRegistry(t *testing.T) {
	names := compress.MethodNames()
	if !sort.StringsAreSorted(names) {
		t.Errorf("MethodNames not sorted: %v", names)
	}
	for _, n := range []string{compress.MethodL1, compress.MethodMagnitude, compress.MethodSpred, halveName} {
		m, err := compress.Lookup(n)
		if err != nil || m.Name() != n {
			t.Errorf("Lookup(%q) = %v, %v", n, m, err)
		}
		if i := sort.SearchStrings(names, n); i == len(names) || names[i] != n {
			t.Errorf("MethodNames %v lacks %s", names, n)
		}
	}
	_, err := compress.Lookup("nope")
	if !errors.Is(err, compress.ErrConfig) || !strings.Contains(err.Error(), `unknown method "nope" (registered: l1, magnitude, spred, test-halve)`) {
		t.Errorf("Lookup(nope): %v", err)
	}
	err = compress.Config{Method: "nope", Lambda: 1}.Validate()
	if !errors.Is(err, compress.ErrConfig) || !strings.Contains(err.Error(), "test-halve") {
		t.Errorf("Validate of method nope: %v", err)
	}
	if c := compress.DefaultConfigFor(halveName, ""); c.Method != halveName || c.LR != 0.07 {
		t.Errorf("DefaultConfigFor(%s): method %q lr %v", halveName, c.Method, c.LR)
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, m := range []compress.Method{halveMethod{}, namedMethod{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", m.Name())
				}
			}()
			compress.Register(m)
		}()
	}
	if _, err := compress.Lookup(""); err == nil {
		t.Error("the empty name was registered")
	}
}

// namedMethod is halveMethod under the empty name.
type namedMethod struct{ halveMethod }

func (namedMethod) Name() string { return "" }

// checkpoints counts the checkpoints Run hands it.
type checkpoints struct{ n int }

func (c *checkpoints) Record(*compress.Stats)                {}
func (c *checkpoints) Checkpoint(*compress.Checkpoint) error { c.n++; return nil }

func TestRunCustomMethod(t *testing.T) {
	data := compress.Data{Train: blobs(120, 1), Test: blobs(60, 2)}
	cfg := compress.Config{Method: halveName, Epochs: 2, Batch: 20, LR: 0.1, FinetuneEpochs: 1, FinetuneLR: 0.01, Seed: 3}
	m := tinyModel(t)
	var ck checkpoints
	rep, err := compress.Run(context.Background(), m, data, cfg, &ck)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Settings.Method != halveName || rep.Settings.Epochs != 2 {
		t.Errorf("settings %+v", rep.Settings)
	}
	if rep.Totals.PrunableParams != 24 || rep.Totals.PrunableNonZero != 12 {
		t.Errorf("%d of %d prunable weights non-zero, want 12 of 24", rep.Totals.PrunableNonZero, rep.Totals.PrunableParams)
	}
	var phases []string
	for _, h := range rep.History {
		phases = append(phases, h.Phase)
	}
	if got := strings.Join(phases, ","); got != "halve,halve,"+compress.PhaseFinetune {
		t.Errorf("phases %s", got)
	}
	if rep.Accuracy.Dense == nil || rep.Accuracy.Trained == nil || rep.Accuracy.Thresholded == nil || rep.Accuracy.Finetuned == nil {
		t.Errorf("stages %+v", rep.Accuracy)
	}
	if ck.n != 0 {
		t.Errorf("%d checkpoints of a method that does not resume", ck.n)
	}

	// The same seed gives the same bytes.
	m2 := tinyModel(t)
	if _, err := compress.Run(context.Background(), m2, data, cfg, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params.All() {
		a, b := p.Float64s(), m2.Params.All()[i].Float64s()
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s[%d]: %v then %v", p.Name, j, a[j], b[j])
			}
		}
	}

	for _, tc := range []struct {
		name string
		set  func(*compress.Config)
		want string
	}{
		{"own validation", func(c *compress.Config) { c.Lambda = 0.1 }, "test-halve reads no λ"},
		{"from scratch", func(c *compress.Config) { c.FromScratch = true }, "from-scratch applies to method spred only, not test-halve"},
		{"structure", func(c *compress.Config) { c.Structure = compress.StructureNeuron }, "structure neuron applies to method spred only, not test-halve"},
		{"target", func(c *compress.Config) { c.TargetRatio = 4 }, "applies to method l1, magnitude or spred only, not test-halve"},
		{"resume", func(c *compress.Config) { c.Resume = &compress.Checkpoint{} }, "method test-halve does not resume"},
	} {
		c := cfg
		tc.set(&c)
		_, err := compress.Run(context.Background(), tinyModel(t), data, c, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
