package compress

import (
	"context"
	"math"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Phases of the baseline methods, as reported in Stats.
const (
	PhaseMagnitude = "magnitude" // a retraining round of MethodMagnitude
	PhaseL1        = "l1"        // subgradient L1 training of MethodL1
)

// RoundSparsity is the sparsity magnitude pruning reaches after round r of
// rounds (1-based) on its way to target: 1 − (1 − target)^(r/rounds), so
// that every round removes the same fraction of the surviving weights. The
// last round gives target exactly.
func RoundSparsity(target float64, r, rounds int) float64 {
	if r >= rounds {
		return target
	}
	return 1 - math.Pow(1-target, float64(r)/float64(rounds))
}

// roundEpochs splits epochs over rounds, the remainder going to the first
// rounds, so that the rounds together train for exactly epochs.
func roundEpochs(epochs, r, rounds int) int {
	n := epochs / rounds
	if r <= epochs%rounds {
		n++
	}
	return n
}

// PruneMagnitude sets the smallest-magnitude prunable weights of m to zero
// so that exactly round(sparsity·N) of the N prunable weights are zero
// (ranked over all prunable layers together; weights already zero count
// first, ties broken by parameter then index order). It returns the number
// of zeros.
func PruneMagnitude(m *models.Model, sparsity float64) int {
	type entry struct {
		abs  float64
		p, i int
	}
	ps := m.Params.Prunable()
	var all []entry
	for pi, p := range ps {
		for i, x := range p.Float64s() {
			all = append(all, entry{abs: math.Abs(x), p: pi, i: i})
		}
	}
	k := int(math.Round(sparsity * float64(len(all))))
	if k > len(all) {
		k = len(all)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].abs < all[b].abs })
	mask := &Mask{zeros: map[string][]int{}}
	for _, e := range all[:k] {
		name := ps[e.p].Name
		mask.zeros[name] = append(mask.zeros[name], e.i)
	}
	mask.Apply(m)
	return k
}

// magnitudePhase runs iterative magnitude pruning: Rounds times, prune the
// smallest surviving weights to the round's sparsity, then retrain the dense
// weights with the zeros held for that round's share of the epochs (the
// learning-rate schedule restarts every round). It returns the final mask.
// A checkpoint ck of round k resumes that round with its mask and state
// (the weights of the earlier rounds are in the state).
func magnitudePhase(ctx context.Context, work *models.Model, data Data, cfg Config, ck *Checkpoint, r *Report, rec Recorder,
	eval func(graph.WeightSource) (*float64, *float64, error), save func(round int, mask *Mask) func(*train.State) error) (*Mask, error) {
	var mask *Mask
	first := 1
	if ck != nil {
		first = ck.Round
	}
	for round := first; round <= cfg.Rounds; round++ {
		resumed := ck != nil && round == ck.Round
		if resumed {
			mask = &Mask{zeros: ck.Mask}
		} else {
			PruneMagnitude(work, RoundSparsity(cfg.targetSparsity(), round, cfg.Rounds))
			mask = MaskOf(work)
		}
		epochs := roundEpochs(cfg.Epochs, round, cfg.Rounds)
		if epochs == 0 {
			continue
		}
		step := stepper(rec, PhaseMagnitude, epochs)
		hooks := train.Hooks{AfterStep: func(epoch, s, steps int) error {
			mask.Apply(work)
			if step != nil {
				return step(epoch, s, steps)
			}
			return nil
		}, Checkpoint: save(round, mask)}
		tc := train.Config{Epochs: epochs, Batch: cfg.Batch, LR: cfg.LR, Momentum: cfg.Momentum, Nesterov: cfg.Nesterov,
			WeightDecay: cfg.RetrainDecay, Schedule: cfg.Schedule, Seed: cfg.Seed + 1000*int64(round), EvalBatch: cfg.EvalBatch, Dtype: cfg.Dtype}
		if resumed {
			tc.Resume = ck.Train
		}
		if _, err := train.Fit(ctx, work, data, tc, graph.Plain{Decay: true}, hooks, recordDense(work, r, rec, PhaseMagnitude, 0, 0)); err != nil {
			return nil, errors.Wrapf(err, "magnitude pruning round %d", round)
		}
	}
	if err := recalibrate(ctx, work, data, cfg); err != nil {
		return nil, err
	}
	var err error
	if r.Accuracy.Trained, r.Loss.Trained, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the pruned model")
	}
	r.Accuracy.Thresholded, r.Loss.Thresholded = r.Accuracy.Trained, r.Loss.Trained
	return mask, nil
}

// l1Phase trains the dense weights with the subgradient λ·sign(w) on the
// prunable ones, thresholds |w| < τ to exact zeros and returns the mask.
func l1Phase(ctx context.Context, work *models.Model, data Data, cfg Config, ck *Checkpoint, r *Report, rec Recorder,
	eval func(graph.WeightSource) (*float64, *float64, error), save func(*train.State) error) (*Mask, error) {
	tc := train.Config{Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Momentum: cfg.Momentum, Nesterov: cfg.Nesterov,
		L1: cfg.Lambda, DecayScale: cfg.layers, Schedule: cfg.Schedule, Seed: cfg.Seed, EvalBatch: cfg.EvalBatch, Dtype: cfg.Dtype}
	if ck != nil {
		tc.Resume = ck.Train
	}
	hooks := train.Hooks{AfterStep: stepper(rec, PhaseL1, cfg.Epochs), Checkpoint: save}
	hooks = r.Target.drive(hooks, setL1, func(l float64) float64 { return math.Max(cfg.Threshold, cfg.LR*l/(1-cfg.Momentum)) }, func() ([]float64, []int) { return denseMagnitudes(work), nil })
	if _, err := train.Fit(ctx, work, data, tc, graph.Plain{Decay: true}, hooks, recordDense(work, r, rec, PhaseL1, cfg.Threshold, cfg.Lambda)); err != nil {
		return nil, errors.Wrap(err, "L1 training")
	}
	var err error
	if r.Accuracy.Trained, r.Loss.Trained, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the trained model")
	}
	ThresholdWeights(work, r.Target.final(cfg.Threshold, func() []float64 { return denseMagnitudes(work) }))
	if err := recalibrate(ctx, work, data, cfg); err != nil {
		return nil, err
	}
	if r.Accuracy.Thresholded, r.Loss.Thresholded, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thresholded model")
	}
	return MaskOf(work), nil
}

// ThresholdWeights sets the prunable weights of m with |w| < tau to exactly
// zero and returns how many it zeroed that were not zero already.
func ThresholdWeights(m *models.Model, tau float64) int {
	n := 0
	for _, p := range m.Params.Prunable() {
		switch d := p.Value.Data().(type) {
		case []float32:
			n += thresholdDense(d, float32(tau))
		case []float64:
			n += thresholdDense(d, tau)
		}
	}
	return n
}

func thresholdDense[T float32 | float64](w []T, tau T) int {
	n := 0
	for i, x := range w {
		if x < tau && -x < tau {
			if x != 0 {
				n++
			}
			w[i] = 0
		}
	}
	return n
}

// recordDense records an epoch of a baseline phase: the sparsity is the
// fraction of prunable weights with |w| < tau (exact zeros when tau is 0),
// λ is lambda or the one the target's continuation reached.
func recordDense(work *models.Model, r *Report, rec Recorder, phase string, tau, lambda float64) train.Recorder {
	return train.RecorderFunc(func(s *train.EpochStats) {
		small, all := 0, 0
		for _, p := range work.Params.Prunable() {
			for _, x := range p.Float64s() {
				if x == 0 || math.Abs(x) < tau {
					small++
				}
			}
			all += p.Len()
		}
		full := Stats{Phase: phase, EpochStats: *s, Sparsity: float64(small) / float64(all), Lambda: r.Target.lambda(lambda)}
		r.History = append(r.History, full)
		if rec != nil {
			rec.Record(&full)
		}
	})
}
