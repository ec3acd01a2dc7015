package compress

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/train"
)

// TestDefaultsShareTraining: a compression config's training settings
// default to train.Config's, and fields that are set are kept.
func TestDefaultsShareTraining(t *testing.T) {
	c, tr := Config{}.Defaults(), train.Config{}.Defaults()
	if c.Epochs != tr.Epochs || c.Batch != tr.Batch || c.LR != tr.LR || c.EvalBatch != tr.EvalBatch || c.Schedule != tr.Schedule {
		t.Errorf("defaults differ: compress %d/%d/%g/%d/%v, train %d/%d/%g/%d/%v",
			c.Epochs, c.Batch, c.LR, c.EvalBatch, c.Schedule, tr.Epochs, tr.Batch, tr.LR, tr.EvalBatch, tr.Schedule)
	}
	if c.FinetuneLR != c.LR/10 || c.Dtype != tensor.Float32 || c.FinetuneSchedule.Kind != train.Constant {
		t.Errorf("fine-tuning defaults: lr %g, dtype %v, schedule %v", c.FinetuneLR, c.Dtype, c.FinetuneSchedule)
	}
	set := Config{Epochs: 3, Batch: 7, LR: 0.2, EvalBatch: 50, Schedule: train.Schedule{Kind: train.Cosine}}.Defaults()
	if set.Epochs != 3 || set.Batch != 7 || set.LR != 0.2 || set.EvalBatch != 50 || set.Schedule.Kind != train.Cosine || set.FinetuneLR != 0.02 {
		t.Errorf("set fields not kept: %+v", set)
	}
}
