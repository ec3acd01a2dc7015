package compress

import (
	"context"
	"fmt"
	"github.com/spred-go/spred/graph"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

type checkpoints struct {
	all    []*Checkpoint
	cancel func(phase string, epoch, step int)
}

func (c *checkpoints) Record(*Stats)                   {}
func (c *checkpoints) Checkpoint(ck *Checkpoint) error { c.all = append(c.all, ck); return nil }
func (c *checkpoints) Step(phase string, epoch, epochs, step, steps int) {
	if c.cancel != nil {
		c.cancel(phase, epoch, step)
	}
}

// TestResumeFromCheckpoints: resuming from a checkpoint of either phase,
// or from one taken at an interruption, gives the same pruned weights, bit
// for bit, as the uninterrupted pass.
func TestResumeFromCheckpoints(t *testing.T) {
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(90, 2)}
	cfg := Config{Lambda: 0.02, Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 3, EpochThreshold: true, FinetuneEpochs: 2}
	ref := trainedLinear(t)
	input := ref.Params.Clone()
	rec := &checkpoints{}
	refRep, err := Run(context.Background(), ref, data, cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.all) != 5 || rec.all[2].Phase != PhaseSpred || rec.all[3].Phase != PhaseFinetune {
		t.Fatalf("%d checkpoints", len(rec.all))
	}
	// An interruption in the middle of fine-tuning epoch 1.
	ctx, cancel := context.WithCancel(context.Background())
	irec := &checkpoints{cancel: func(phase string, epoch, step int) {
		if phase == PhaseFinetune && epoch == 1 && step == 7 {
			cancel()
		}
	}}
	m := &models.Model{Spec: ref.Spec, Params: input.Clone()}
	if _, err := Run(ctx, m, data, cfg, irec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	last := irec.all[len(irec.all)-1]
	if last.Phase != PhaseFinetune || last.Train.Step != 7 {
		t.Fatalf("interruption checkpoint at %s epoch %d step %d", last.Phase, last.Train.Epoch, last.Train.Step)
	}
	for _, ck := range []*Checkpoint{rec.all[0], rec.all[2], rec.all[3], last} {
		m := &models.Model{Spec: ref.Spec, Params: input.Clone()}
		c := cfg
		c.Resume = ck
		rep, err := Run(context.Background(), m, data, c, nil)
		if err != nil {
			t.Fatalf("resume from %s epoch %d step %d: %v", ck.Phase, ck.Train.Epoch, ck.Train.Step, err)
		}
		a, b := ref.Params.Get("fc/W").Float64s(), m.Params.Get("fc/W").Float64s()
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("resume from %s epoch %d step %d: weight %d differs", ck.Phase, ck.Train.Epoch, ck.Train.Step, i)
			}
		}
		if *rep.Accuracy.Finetuned != *refRep.Accuracy.Finetuned || *rep.Accuracy.Dense != *refRep.Accuracy.Dense || len(rep.History) != len(refRep.History) {
			t.Errorf("resume from %s epoch %d: report differs", ck.Phase, ck.Train.Epoch)
		}
	}

	// A checkpoint is refused by another configuration or another model.
	other := cfg
	other.Lambda = 0.03
	other.Resume = rec.all[0]
	if _, err := Run(context.Background(), &models.Model{Spec: ref.Spec, Params: input.Clone()}, data, other, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("other config: %v", err)
	}
	c := cfg
	c.Resume = rec.all[0]
	changed := input.Clone()
	changed.Get("fc/b").Value.Data().([]float32)[0] += 1
	if _, err := Run(context.Background(), &models.Model{Spec: ref.Spec, Params: changed}, data, c, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("other model: %v", err)
	}
}

// TestResumeEveryRunKind: every method and structure checkpoints every
// epoch of every phase and at an interruption, and resuming from any of
// those checkpoints gives the same model (spec and bits) and the same
// report as the uninterrupted pass.
func TestResumeEveryRunKind(t *testing.T) {
	linear := func(t *testing.T) *models.Model { return trainedLinear(t) }
	mlp := func(t *testing.T) *models.Model {
		spec := models.Spec{Name: "mlp", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
			Layers: []models.Layer{{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 3}}}
		m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	lenet := func(t *testing.T) *models.Model {
		m, err := models.New(structSpec(), tensor.Float32, rand.New(rand.NewSource(2)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	resnet := func(t *testing.T) *models.Model { return tinyResNet(t, tensor.Float32, 3) }
	vec := Data{Train: sparseTask(300, 1), Test: sparseTask(60, 2)}
	img := Data{Train: noiseData(60, []int{1, 10, 10}, 3, 1), Test: noiseData(30, []int{1, 10, 10}, 3, 2)}
	rgb := Data{Train: noiseData(60, []int{3, 8, 8}, 3, 1), Test: noiseData(20, []int{3, 8, 8}, 3, 2)}
	cases := []struct {
		name  string
		model func(*testing.T) *models.Model
		data  Data
		cfg   Config
	}{
		{"spred from scratch", linear, vec, Config{FromScratch: true, Lambda: 0.02, Epochs: 2, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 3, FinetuneEpochs: 1}},
		{"magnitude", linear, vec, Config{Method: MethodMagnitude, TargetSparsity: 0.8, Rounds: 2, Epochs: 3, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 3, FinetuneEpochs: 1}},
		{"l1", linear, vec, Config{Method: MethodL1, Lambda: 0.01, Epochs: 2, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 3, FinetuneEpochs: 1}},
		{"neuron", mlp, vec, Config{Structure: StructureNeuron, Lambda: 0.05, Threshold: 0.3, EpochThreshold: true, Epochs: 3, Batch: 30, LR: 0.3, Momentum: 0.9, Seed: 1, FinetuneEpochs: 1}},
		{"mixed", lenet, img, Config{Structure: StructureMixed, Lambda: 0.3, EpochThreshold: true, Epochs: 2, Batch: 20, LR: 0.1, Threshold: 0.3, Momentum: 0.9, Seed: 1, FinetuneEpochs: 1}},
		{"coupled filter", resnet, rgb, Config{Structure: StructureFilter, Lambda: 0.7, Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1, FinetuneEpochs: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkResumeRun(t, c.model, c.data, c.cfg)
		})
	}
}

func checkResumeRun(t *testing.T, model func(*testing.T) *models.Model, data Data, cfg Config) {
	ref := model(t)
	input, spec := ref.Params.Clone(), ref.Spec
	fresh := func() *models.Model { return &models.Model{Spec: spec, Params: input.Clone()} }
	rec := &checkpoints{}
	refRep, err := Run(context.Background(), ref, data, cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := cfg.Epochs + cfg.FinetuneEpochs; len(rec.all) != want {
		t.Fatalf("%d checkpoints for %d epochs", len(rec.all), want)
	}
	all := rec.all
	// An interruption in the second step of the first epoch of every phase.
	for _, phase := range []string{cfg.firstPhase(), PhaseFinetune} {
		ctx, cancel := context.WithCancel(context.Background())
		irec := &checkpoints{cancel: func(p string, epoch, step int) {
			if p == phase && epoch == 1 && step == 2 {
				cancel()
			}
		}}
		if _, err := Run(ctx, fresh(), data, cfg, irec); !errors.Is(err, context.Canceled) {
			t.Fatalf("run interrupted in phase %s: %v", phase, err)
		}
		last := irec.all[len(irec.all)-1]
		if last.Phase != phase || last.Train.Step != 2 {
			t.Fatalf("interruption checkpoint at %s epoch %d step %d, want %s step 2", last.Phase, last.Train.Epoch, last.Train.Step, phase)
		}
		all = append(all, last)
	}
	refSpec, _ := models.MarshalSpec(ref.Spec)
	if inSpec, _ := models.MarshalSpec(spec); cfg.structured() && string(inSpec) == string(refSpec) {
		t.Fatal("the structured pass removed no unit: fine-tuning does not run on a thinned model")
	}
	for _, ck := range all {
		where := fmt.Sprintf("%s round %d epoch %d step %d", ck.Phase, ck.Round, ck.Train.Epoch, ck.Train.Step)
		m := fresh()
		c := cfg
		c.Resume = ck
		rep, err := Run(context.Background(), m, data, c, nil)
		if err != nil {
			t.Fatalf("resume from %s: %v", where, err)
		}
		if spec, _ := models.MarshalSpec(m.Spec); string(spec) != string(refSpec) {
			t.Fatalf("resume from %s: spec %s, uninterrupted %s", where, spec, refSpec)
		}
		for _, p := range ref.Params.All() {
			a, b := p.Float64s(), m.Params.Get(p.Name).Float64s()
			for i := range a {
				if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
					t.Fatalf("resume from %s: %s[%d] = %v, uninterrupted %v", where, p.Name, i, b[i], a[i])
				}
			}
		}
		if *rep.Accuracy.Final() != *refRep.Accuracy.Final() || len(rep.History) != len(refRep.History) ||
			rep.History[len(rep.History)-1].TrainLoss != refRep.History[len(refRep.History)-1].TrainLoss ||
			rep.Settings.Decay != refRep.Settings.Decay || (refRep.Thin != nil) != (rep.Thin != nil) {
			t.Errorf("resume from %s: report differs", where)
		}
	}
}

// TestResumeRejectsForgedCheckpoint: a checkpoint with the run's key but a
// field the run could not have written is refused before training with an
// error wrapping ErrCheckpoint (or train.ErrResume for the training state)
// that names the field.
func TestResumeRejectsForgedCheckpoint(t *testing.T) {
	data := Data{Train: sparseTask(300, 1), Test: sparseTask(60, 2)}
	cfg := Config{Method: MethodMagnitude, TargetSparsity: 0.8, Rounds: 2, Epochs: 3, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 3, FinetuneEpochs: 1}
	ref := trainedLinear(t)
	input := ref.Params.Clone()
	rec := &checkpoints{}
	if _, err := Run(context.Background(), ref, data, cfg, rec); err != nil {
		t.Fatal(err)
	}
	round2, finetune := rec.all[2], rec.all[3] // round 2 after its first epoch; fine-tuning done
	if round2.Phase != PhaseMagnitude || round2.Round != 2 || finetune.Phase != PhaseFinetune {
		t.Fatalf("checkpoints %s round %d, %s", round2.Phase, round2.Round, finetune.Phase)
	}
	edit := func(ck *Checkpoint, f func(c *Checkpoint)) *Checkpoint {
		c := *ck
		st := *ck.Train
		c.Train = &st
		c.Mask = map[string][]int{}
		for k, v := range ck.Mask {
			c.Mask[k] = append([]int(nil), v...)
		}
		f(&c)
		return &c
	}
	big := 7.0
	cases := []struct {
		name, field string
		ck          *Checkpoint
	}{
		{"unknown phase", "Phase", edit(round2, func(c *Checkpoint) { c.Phase = "l1" })},
		{"round beyond the rounds", "Round", edit(round2, func(c *Checkpoint) { c.Round = 9 })},
		{"round zero", "Round", edit(round2, func(c *Checkpoint) { c.Round = 0 })},
		{"round in fine-tuning", "Round", edit(finetune, func(c *Checkpoint) { c.Round = 1 })},
		{"epoch beyond the phase", "Train.Epoch", edit(finetune, func(c *Checkpoint) { c.Train.Epoch = 100 })},
		{"history of another epoch", "History", edit(round2, func(c *Checkpoint) { c.History = c.History[:1] })},
		{"accuracy above 1", "Accuracy", edit(finetune, func(c *Checkpoint) { c.Accuracy.Trained = &big })},
		{"no mask", "Mask", edit(round2, func(c *Checkpoint) { c.Mask = nil })},
		{"mask of another weight", "Mask", edit(round2, func(c *Checkpoint) { c.Mask["fc/b"] = []int{0} })},
		{"mask index out of range", "Mask", edit(finetune, func(c *Checkpoint) { c.Mask["fc/W"] = append(c.Mask["fc/W"], 1<<30) })},
		{"mask out of order", "Mask", edit(finetune, func(c *Checkpoint) { c.Mask["fc/W"] = []int{3, 1} })},
		{"thinned spec in an element-wise pass", "Thinned", edit(finetune, func(c *Checkpoint) { c.Thinned = []byte("{}") })},
		{"huge draw count", "Draws", edit(round2, func(c *Checkpoint) { c.Train.Draws = 1 << 62 })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := cfg
			cc.Resume = c.ck
			_, err := Run(context.Background(), &models.Model{Spec: ref.Spec, Params: input.Clone()}, data, cc, nil)
			if !(errors.Is(err, ErrCheckpoint) || errors.Is(err, train.ErrResume)) || !strings.Contains(err.Error(), "field "+c.field) {
				t.Fatalf("got %v, want a refusal naming field %s", err, c.field)
			}
		})
	}
}

// TestKeyCoversTheRun: the report records Key; another setting, another
// input model or other data give another key, and a checkpoint of the run
// is refused with other data.
func TestKeyCoversTheRun(t *testing.T) {
	data := Data{Train: sparseTask(300, 1), Test: sparseTask(60, 2)}
	cfg := Config{Lambda: 0.02, Epochs: 1, Batch: 30, LR: 0.1, Seed: 3}
	m := trainedLinear(t)
	input := m.Params.Clone()
	key, err := Key(m, data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &checkpoints{}
	rep, err := Run(context.Background(), &models.Model{Spec: m.Spec, Params: input.Clone()}, data, cfg, rec)
	if err != nil || rep.Key != key {
		t.Fatalf("report key %q, Key %q (%v)", rep.Key, key, err)
	}
	less := Data{Train: sparseTask(270, 1), Test: data.Test}
	other := cfg
	other.FinetuneSchedule = train.Schedule{Kind: train.Cosine}
	changed := input.Clone()
	changed.Get("fc/W").Value.Data().([]float32)[0] += 1e-6
	for name, k := range map[string]func() (string, error){
		"other data":    func() (string, error) { return Key(m, less, cfg) },
		"other setting": func() (string, error) { return Key(m, data, other) },
		"other model":   func() (string, error) { return Key(&models.Model{Spec: m.Spec, Params: changed}, data, cfg) },
		"other convolutions": func() (string, error) {
			defer func(b string) { graph.ConvBackend = b }(graph.ConvBackend)
			graph.ConvBackend = map[string]string{"go": "onednn", "onednn": "go"}[graph.ConvBackend]
			return Key(m, data, cfg)
		},
	} {
		if got, _ := k(); got == key {
			t.Errorf("%s: same key", name)
		}
	}
	c := cfg
	c.Resume = rec.all[0]
	if _, err := Run(context.Background(), &models.Model{Spec: m.Spec, Params: input.Clone()}, less, c, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume with other data: %v", err)
	}
}

// TestResumeRejectsForgedThinning: the fine-tuning checkpoint of a
// structured pass is refused when its thinned spec is not a thinning of
// the input (a wider layer, another layer) or its mask leaves the thinned
// weights.
func TestResumeRejectsForgedThinning(t *testing.T) {
	spec := models.Spec{Name: "mlp", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 3}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	input := m.Params.Clone()
	data := Data{Train: sparseTask(300, 1), Test: sparseTask(60, 2)}
	cfg := Config{Structure: StructureNeuron, Lambda: 0.05, Threshold: 0.3, EpochThreshold: true, Epochs: 2, Batch: 30, LR: 0.3, Momentum: 0.9, Seed: 1, FinetuneEpochs: 1}
	rec := &checkpoints{}
	if _, err := Run(context.Background(), m, data, cfg, rec); err != nil {
		t.Fatal(err)
	}
	ft := rec.all[len(rec.all)-1]
	if ft.Phase != PhaseFinetune || ft.Thinned == nil {
		t.Fatalf("last checkpoint: %s, thinned %v", ft.Phase, ft.Thinned != nil)
	}
	thinned, err := models.ParseSpec(ft.Thinned)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(s *models.Spec), mask map[string][]int) *Checkpoint {
		s := thinned
		s.Layers = append([]models.Layer(nil), thinned.Layers...)
		f(&s)
		b, err := models.MarshalSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		c := *ft
		c.Thinned = b
		if mask != nil {
			c.Mask = mask
		}
		return &c
	}
	for name, ck := range map[string]*Checkpoint{
		"wider layer":    with(func(s *models.Spec) { s.Layers[0].Units = 32 }, nil),
		"another layer":  with(func(s *models.Spec) { s.Layers[1].Kind = models.Sigmoid }, nil),
		"mask too large": with(func(s *models.Spec) {}, map[string][]int{"fc1/W": {20 * 16}}),
		"not a spec":     func() *Checkpoint { c := *ft; c.Thinned = []byte("{"); return &c }(),
	} {
		c := cfg
		c.Resume = ck
		_, err := Run(context.Background(), &models.Model{Spec: spec, Params: input.Clone()}, data, c, nil)
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "field ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := cfg
	c.Resume = ft
	if _, err := Run(context.Background(), &models.Model{Spec: spec, Params: input.Clone()}, data, c, nil); err != nil {
		t.Errorf("the checkpoint as written: %v", err)
	}
}

// TestKeyBytesAsFloats checks that a data set held as bytes gives the key
// of the same values held as float32, and that its values are hashed.
func TestKeyBytesAsFloats(t *testing.T) {
	m := trainedLinear(t)
	cfg := Config{Lambda: 0.02, Epochs: 1, Batch: 30, LR: 0.1, Seed: 3}
	pix := []uint8{0, 1, 127, 128, 254, 255, 3, 200}
	b := &dataset.Dataset{Name: "b", Pixels: pix, Y: []int{0, 1}, Shape: []int{4}, Classes: 2}
	f := &dataset.Dataset{Name: "f", X: make([]float32, len(pix)), Y: []int{0, 1}, Shape: []int{4}, Classes: 2}
	for i, p := range pix {
		f.X[i] = float32(p) / 255
	}
	kb, err := Key(m, Data{Train: b, Test: b}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kf, _ := Key(m, Data{Train: f, Test: f}, cfg)
	if kb != kf {
		t.Errorf("bytes key %s, floats key %s", kb, kf)
	}
	c := *b
	c.Pixels = append([]uint8(nil), pix...)
	c.Pixels[5] = 254
	if kc, _ := Key(m, Data{Train: &c, Test: b}, cfg); kc == kb {
		t.Errorf("a changed pixel gives the same key")
	}
}
