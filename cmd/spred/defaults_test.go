package main

import (
	"fmt"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/compress"
)

// TestCompressFlagDefaultsAreTheLibrarys: every flag of `spred compress`
// that sets a field of compress.Config defaults to compress.DefaultConfig's
// value (the learning rate of the baselines and structures to
// DefaultConfigFor's), so a Go user starting from DefaultConfig runs what
// the command runs.
func TestCompressFlagDefaultsAreTheLibrarys(t *testing.T) {
	d := compress.DefaultConfig()
	want := map[string]any{
		"method": d.Method, "lambda": d.Lambda, "threshold": d.Threshold, "epoch-threshold": d.EpochThreshold,
		"from-scratch": d.FromScratch, "finetune-epochs": d.FinetuneEpochs, "finetune-lr": d.FinetuneLR, "recalibrate": d.Recalibrate,
		"finetune-schedule": d.FinetuneSchedule.Kind, "epochs": d.Epochs, "batch": d.Batch, "lr": d.LR,
		"momentum": d.Momentum, "nesterov": d.Nesterov, "schedule": d.Schedule.Kind, "step-every": d.Schedule.StepEvery,
		"gamma": d.Schedule.Gamma, "seed": d.Seed, "dtype": d.Dtype.String(), "retrain-decay": d.RetrainDecay,
		"finetune-decay": d.FinetuneDecay,
		"rounds":         compress.DefaultConfigFor(compress.MethodMagnitude, "").Rounds,
	}
	seen := 0
	for _, f := range compressCommand().Flags {
		name := f.Names()[0]
		w, ok := want[name]
		if !ok {
			continue
		}
		seen++
		var got any
		switch f := f.(type) {
		case *cli.StringFlag:
			got = f.Value
		case *cli.Float64Flag:
			got = f.Value
		case *cli.IntFlag:
			got = f.Value
		case *cli.Int64Flag:
			got = f.Value
		case *cli.BoolFlag:
			got = f.Value
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("--%s defaults to %v, the library's default is %v", name, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d flags", seen, len(want))
	}
	if structuredLR != compress.DefaultConfigFor("", compress.StructureFilter).LR {
		t.Errorf("structured lr %v", structuredLR)
	}
}
