package compress

import (
	"context"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/train"
)

// Every method hands on a pruned residual network whose batch-norm
// statistics are those of its pruned weights: with no fine-tuning, the
// output's buffers are what train.Recalibrate computes from the output
// itself (it reads only the weights), they differ from a run without
// recalibration, and the report says so. A model without batch norm
// ignores the setting: the same key and the same bytes.
func TestRunRecalibrates(t *testing.T) {
	data := Data{Train: noiseData(60, []int{3, 8, 8}, 3, 1), Test: noiseData(30, []int{3, 8, 8}, 3, 2)}
	for _, c := range []Config{
		{Lambda: 0.05, Threshold: 0.05, Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1},
		{Method: MethodL1, Lambda: 0.05, Threshold: 0.02, Epochs: 2, Batch: 20, LR: 0.05, Momentum: 0.9, Seed: 1},
		{Method: MethodMagnitude, TargetSparsity: 0.8, Rounds: 2, Epochs: 2, Batch: 20, LR: 0.05, Momentum: 0.9, Seed: 1},
		{Structure: StructureFilter, Lambda: 0.7, Threshold: 1e-3, Epochs: 2, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1},
	} {
		name := c.method() + "-" + c.Structure
		t.Run(name, func(t *testing.T) {
			run := func(batches int) (*Report, map[string][]float64, error) {
				m := tinyResNet(t, tensor.Float32, 3)
				cfg := c
				cfg.Recalibrate = batches
				rep, err := Run(context.Background(), m, data, cfg, nil)
				if err != nil {
					return nil, nil, err
				}
				bufs := map[string][]float64{}
				for _, name := range []string{"bn1/mean", "bn1/var", "layer3.0.bn2/var"} {
					bufs[name] = m.Params.Get(name).Float64s()
				}
				again := m.Params.Clone()
				m.Params = again
				if err := train.Recalibrate(context.Background(), m, nil, data.Train, batches, cfg.Batch, cfg.Seed+2); err != nil {
					return nil, nil, err
				}
				// A thinned model sums over fewer channels: the same
				// statistics up to rounding.
				tol := 0.0
				if cfg.structured() {
					tol = 1e-5
				}
				for name, v := range bufs {
					w := again.Get(name).Float64s()
					for i := range v {
						if math.Abs(v[i]-w[i]) > tol*math.Abs(w[i]) {
							t.Errorf("%s[%d] = %v, recalibrating the output gives %v", name, i, v[i], w[i])
						}
					}
				}
				return rep, bufs, nil
			}
			rep, with, err := run(3)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Settings.Recalibrate != 3 {
				t.Errorf("settings record recalibrate %d", rep.Settings.Recalibrate)
			}
			var b strings.Builder
			if err := rep.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "re-estimated on 3 training batches") {
				t.Errorf("the report does not say the statistics were re-estimated:\n%s", b.String())
			}
			m := tinyResNet(t, tensor.Float32, 3)
			cfg := c
			if _, err := Run(context.Background(), m, data, cfg, nil); err != nil {
				t.Fatal(err)
			}
			same := true
			for name, v := range with {
				w := m.Params.Get(name).Float64s()
				for i := range v {
					same = same && v[i] == w[i]
				}
			}
			if same {
				t.Error("the statistics are the same without recalibration")
			}
		})
	}

	t.Run("no-batch-norm", func(t *testing.T) {
		var keys []string
		var outs [][]float64
		for _, batches := range []int{0, 5} {
			m := trainedLinear(t)
			data := Data{Train: sparseTask(300, 2), Test: sparseTask(90, 3)}
			cfg := Config{Lambda: 0.01, Threshold: 0.01, Epochs: 1, Batch: 30, LR: 0.1, Seed: 1, Recalibrate: batches}
			want, err := Key(m, data, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), m, data, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Key != want {
				t.Errorf("recalibrate %d: the run's key %s, Key gives %s", batches, rep.Key, want)
			}
			if rep.Settings.Recalibrate != 0 {
				t.Errorf("a model without batch norm records recalibrate %d", rep.Settings.Recalibrate)
			}
			keys = append(keys, rep.Key)
			outs = append(outs, m.Params.Get("fc/W").Float64s())
		}
		if keys[0] != keys[1] {
			t.Error("recalibrating a model without batch norm changes the run's key")
		}
		for i := range outs[0] {
			if outs[0][i] != outs[1][i] {
				t.Fatalf("fc/W[%d] differs: %v and %v", i, outs[0][i], outs[1][i])
			}
		}
	})
}
