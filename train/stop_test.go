package train

import (
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// fitWith trains the blobs MLP for 4 epochs of 30 steps with the given
// hooks and returns the model, the history, what the Recorder saw, the
// epochs of the checkpoints taken and Fit's error.
func fitWith(t *testing.T, ctx context.Context, cfg Config, hooks Hooks) (*models.Model, []EpochStats, []EpochStats, []int, error) {
	t.Helper()
	m, err := models.New(mlp(6), tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Epochs == 0 {
		cfg = Config{Epochs: 4, Batch: 20, LR: 0.1, Momentum: 0.9, Seed: 1, EvalBatch: 64}
	}
	var recorded []EpochStats
	var checkpoints []int
	hooks.Checkpoint = func(s *State) error {
		checkpoints = append(checkpoints, s.Epoch)
		return nil
	}
	hist, err := Fit(ctx, m, Data{Train: blobs(600, 6, 1), Test: blobs(90, 6, 2)}, cfg, nil, hooks,
		RecorderFunc(func(s *EpochStats) { recorded = append(recorded, *s) }))
	return m, hist, recorded, checkpoints, err
}

// TestFitEarlyStopKeepsLastEpoch: an AfterEpoch hook that asks to stop
// (early stopping on the test accuracy) ends the run without an error, and
// the epoch it stopped after is in the history, recorded and checkpointed.
func TestFitEarlyStopKeepsLastEpoch(t *testing.T) {
	_, hist, recorded, cks, err := fitWith(t, context.Background(), Config{}, Hooks{
		AfterEpoch: func(epoch int, s *EpochStats) error {
			if epoch == 2 {
				return errors.Wrap(ErrStop, "test accuracy reached")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("stopping on request returned %v", err)
	}
	if len(hist) != 2 || hist[1].Epoch != 2 || hist[1].TestAcc == 0 {
		t.Fatalf("history %+v, want epochs 1 and 2", hist)
	}
	if len(recorded) != 2 || recorded[1].Epoch != 2 {
		t.Errorf("recorded %+v", recorded)
	}
	if len(cks) != 2 || cks[1] != 3 {
		t.Errorf("checkpoints before epochs %v, want [2 3]", cks)
	}
}

// TestFitStopWithinEpoch: ErrStop from AfterStep ends the epoch after that
// step; the short epoch is kept, measured over the steps it ran, and not
// checkpointed. ErrStop from BeforeEpoch runs nothing of that epoch.
func TestFitStopWithinEpoch(t *testing.T) {
	steps := 0
	_, hist, recorded, cks, err := fitWith(t, context.Background(), Config{}, Hooks{
		AfterStep: func(epoch, step, _ int) error {
			if epoch == 2 {
				steps++
				if step == 5 {
					return ErrStop
				}
			}
			return nil
		},
	})
	if err != nil || len(hist) != 2 || len(recorded) != 2 || steps != 5 {
		t.Fatalf("err %v, %d epochs, %d recorded, %d steps of epoch 2", err, len(hist), len(recorded), steps)
	}
	// Over the 5 steps run, not the 30 of a whole epoch: after a first
	// epoch on separable blobs the accuracy is far above 5/30.
	if l := hist[1].TrainLoss; !(l > 0) || l > 5*hist[0].TrainLoss || hist[1].TrainAcc > 1 || hist[1].TrainAcc < 0.5 {
		t.Errorf("short epoch measured as %+v (first epoch %+v)", hist[1], hist[0])
	}
	if len(cks) != 1 || cks[0] != 2 {
		t.Errorf("checkpoints before epochs %v, want [2]", cks)
	}

	_, hist, _, _, err = fitWith(t, context.Background(), Config{}, Hooks{
		BeforeEpoch: func(epoch int) error {
			if epoch == 3 {
				return ErrStop
			}
			return nil
		},
	})
	if err != nil || len(hist) != 2 {
		t.Fatalf("BeforeEpoch stop: err %v, %d epochs", err, len(hist))
	}
	_, hist, _, _, err = fitWith(t, context.Background(), Config{}, Hooks{
		AfterStep: func(epoch, step, _ int) error {
			if epoch == 2 && step == 5 {
				return errors.New("disk full")
			}
			return nil
		},
	})
	if err == nil || err.Error() != "disk full" || len(hist) != 1 {
		t.Errorf("another error: %v, %d epochs", err, len(hist))
	}
}

// TestFitCancelKeepsCompletedEpochs: a cancelled context stops the run
// with its error, every epoch completed before it in the history and a
// checkpoint to resume from.
func TestFitCancelKeepsCompletedEpochs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, hist, _, cks, err := fitWith(t, ctx, Config{}, Hooks{
		AfterStep: func(epoch, step, _ int) error {
			if epoch == 3 && step == 7 {
				cancel()
			}
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) || len(hist) != 2 || hist[1].Epoch != 2 {
		t.Fatalf("err %v, history %+v", err, hist)
	}
	if len(cks) != 3 || cks[2] != 3 {
		t.Errorf("checkpoints %v, want the interrupted epoch 3 last", cks)
	}
}

// TestFitRate: a learning-rate function replaces LR and Schedule. One that
// reproduces a built-in schedule gives bit-identical weights; it is asked
// for every step with its epoch, step and steps; a warm-up trains
// differently; a negative rate is refused with the step.
func TestFitRate(t *testing.T) {
	base := Config{Epochs: 3, Batch: 20, LR: 0.1, Momentum: 0.9, Schedule: Schedule{Kind: Cosine}, Seed: 1, EvalBatch: 64}
	want, wantHist, _, _, err := fitWith(t, context.Background(), base, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	var calls [][3]int
	withRate := base
	withRate.LR, withRate.Schedule = 7, Schedule{Kind: Step} // ignored
	withRate.Rate = func(epoch, step, steps int) float64 {
		calls = append(calls, [3]int{epoch, step, steps})
		return Schedule{Kind: Cosine}.Rate(0.1, epoch-1, 3)
	}
	got, gotHist, _, _, err := fitWith(t, context.Background(), withRate, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want.Params.All() {
		a, b := p.Float64s(), got.Params.Get(p.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v with the schedule, %v with the same rate as a function", p.Name, i, a[i], b[i])
			}
		}
	}
	for i := range wantHist {
		if wantHist[i].LR != gotHist[i].LR {
			t.Errorf("epoch %d: lr %v, want %v", i+1, gotHist[i].LR, wantHist[i].LR)
		}
	}
	if len(calls) != 90 || calls[0] != [3]int{1, 1, 30} || calls[89] != [3]int{3, 30, 30} {
		t.Errorf("%d calls, first %v, last %v", len(calls), calls[0], calls[len(calls)-1])
	}

	warm := base
	warm.Rate = func(epoch, step, steps int) float64 {
		if epoch == 1 {
			return 0.1 * float64(step) / float64(steps)
		}
		return 0.1
	}
	wm, wh, _, _, err := fitWith(t, context.Background(), warm, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if wh[0].LR != 0.1 || wm.Params.Get("fc1/W").Float64s()[0] == want.Params.Get("fc1/W").Float64s()[0] {
		t.Errorf("warm-up: first epoch lr %v, weights as without it", wh[0].LR)
	}

	bad := base
	bad.Rate = func(epoch, step, _ int) float64 {
		if epoch == 2 && step == 3 {
			return math.NaN()
		}
		return 0.1
	}
	_, hist, _, _, err := fitWith(t, context.Background(), bad, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "epoch 2 step 3") || len(hist) != 1 {
		t.Errorf("NaN rate: %v, %d epochs", err, len(hist))
	}
}
