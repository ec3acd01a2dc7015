package compress

import (
	"context"
	"math"
	"testing"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
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
