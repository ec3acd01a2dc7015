package train

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/models"
)

// ErrDiverged is returned (wrapped, with the epoch, step and what went
// non-finite) when the loss, a gradient or a parameter becomes NaN or Inf.
// The parameters are restored to their values at the start of that epoch.
var ErrDiverged = errors.New("training diverged")

// EpochStats is what a Recorder receives after every epoch.
type EpochStats struct {
	Epoch     int                `json:"epoch"` // 1-based
	Epochs    int                `json:"epochs"`
	LR        float64            `json:"lr"`
	TrainLoss float64            `json:"train_loss"` // mean over the epoch's steps
	TrainAcc  float64            `json:"train_accuracy"`
	TestLoss  float64            `json:"test_loss,omitempty"`
	TestAcc   float64            `json:"test_accuracy,omitempty"`
	Seconds   float64            `json:"seconds"`
	Extra     map[string]float64 `json:"extra,omitempty"` // added by hooks (sparsity, imbalance, ...)
}

// Recorder receives progress. Implementations must not keep the pointer.
type Recorder interface {
	Record(*EpochStats)
}

// RecorderFunc adapts a function to Recorder.
type RecorderFunc func(*EpochStats)

// Record implements Recorder.
func (f RecorderFunc) Record(s *EpochStats) { f(s) }

// ErrStop, returned by a hook (wrapped or not), ends Fit cleanly: Fit
// returns the history and a nil error. From AfterEpoch it stops after that
// epoch, which is in the history, is recorded and is checkpointed as usual.
// From AfterStep it ends the epoch after that step: the epoch's statistics
// cover the steps run, are evaluated, recorded and kept in the history, but
// no checkpoint is taken (a resumed run would skip the rest of the epoch).
// From BeforeEpoch it stops before that epoch runs a step.
var ErrStop = errors.New("stop training")

// Hooks let a caller act during Fit. Any of them may be nil; an error stops
// the run and is returned, except ErrStop, which stops it cleanly.
type Hooks struct {
	BeforeEpoch func(epoch int) error                    // before the first step of epoch (1-based)
	AfterStep   func(epoch, step, steps int) error       // after every update
	AfterEpoch  func(epoch int, stats *EpochStats) error // before the Recorder sees stats
	// Checkpoint receives a resumable State after every epoch and when the
	// context is cancelled (Fit then returns the context's error).
	Checkpoint func(*State) error
	// Optimizer receives the optimizer before the first step, so that the
	// other hooks can act on its state (compress clears the velocity of
	// the weights it thresholds).
	Optimizer func(*SGD)
}

// Data is the training set and an optional held-out set evaluated after
// every epoch.
type Data struct {
	Train *dataset.Dataset
	Test  *dataset.Dataset
}

// Fit trains m's parameters in place: every learnable the WeightSource
// registers (nil means graph.Plain{Decay: true}: weights decayed, biases
// not) is updated by SGD. It returns the statistics of every epoch that ran,
// also when it stops early: on a hook's ErrStop (with a nil error) or on the
// context's cancellation (with the context's error, after the Checkpoint
// hook has seen the state to resume from).
func Fit(ctx context.Context, m *models.Model, data Data, cfg Config, src graph.WeightSource, hooks Hooks, rec Recorder) ([]EpochStats, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkData(m, data.Train); err != nil {
		return nil, errors.Wrap(err, "training data")
	}
	if data.Test != nil {
		if err := checkData(m, data.Test); err != nil {
			return nil, errors.Wrap(err, "test data")
		}
	}
	if !cfg.Augment.IsZero() && len(data.Train.Shape) != 3 {
		return nil, errors.Errorf("augmentation needs images ([channels, rows, columns]), the training samples have shape %v", data.Train.Shape)
	}
	if data.Train.N() < cfg.Batch {
		return nil, errors.Errorf("training data has %d samples, fewer than one batch of %d", data.Train.N(), cfg.Batch)
	}
	if src == nil {
		src = graph.Plain{Decay: true}
	}
	sess, err := graph.New(m, graph.Options{Batch: cfg.Batch, Source: src, Train: true, GorgoniaOps: cfg.GorgoniaOps})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	var eval *Evaluator
	if data.Test != nil {
		eval = NewEvaluator(m, src, cfg.EvalBatch)
		eval.gorgoniaOps = cfg.GorgoniaOps
		defer eval.Close()
	}
	src64 := newCountingSource(cfg.Seed)
	rng := rand.New(src64)
	opt := &SGD{Momentum: cfg.Momentum, Nesterov: cfg.Nesterov, WeightDecay: cfg.WeightDecay, L1: cfg.L1, Scale: cfg.DecayScale}
	if hooks.Optimizer != nil {
		hooks.Optimizer(opt)
	}
	ls := sess.Learnables()
	// What a checkpoint holds and a divergence restores: the learnables
	// and the buffers training updates (batch-norm running statistics).
	kept, err := withBuffers(ls, m)
	if err != nil {
		return nil, err
	}
	grads := make([]*tensor.Dense, len(ls))
	n, size := data.Train.N(), data.Train.Size()
	steps := n / cfg.Batch
	xb := make([]float32, cfg.Batch*size)
	xin := xb // what the graph reads: xb, or its augmented copy
	if !cfg.Augment.IsZero() {
		xin = make([]float32, len(xb))
	}
	yb := make([]int, cfg.Batch)
	var history []EpochStats
	first, firstStep := 1, 0
	var lossSum float64
	correct := 0
	if r := cfg.Resume; r != nil {
		perEpoch, err := drawsPerEpoch(m, cfg, n)
		if err != nil {
			return nil, err
		}
		if err := r.check(bounds{epochs: cfg.Epochs, steps: steps, batch: cfg.Batch, perEpoch: perEpoch}); err != nil {
			return nil, errors.Wrap(err, "resume")
		}
		if err := apply(r, kept, opt); err != nil {
			return nil, errors.Wrap(err, "resume")
		}
		history = append(history, r.History...)
		first, firstStep, lossSum, correct = r.Epoch, r.Step, r.LossSum, r.Correct
	}
	save := func(epoch, step int, epochDraws uint64) error {
		if hooks.Checkpoint == nil {
			return nil
		}
		draws := src64.n
		if step == 0 {
			// The epoch has not run a step: resume before its shuffle.
			draws = epochDraws
		}
		st := &State{Epoch: epoch, Step: step, Draws: draws, EpochDraws: epochDraws, LossSum: lossSum, Correct: correct,
			History: append([]EpochStats(nil), history...)}
		capture(st, kept, opt)
		return hooks.Checkpoint(st)
	}
	for epoch := first; epoch <= cfg.Epochs; epoch++ {
		start := time.Now()
		resumed := epoch == first && firstStep > 0
		if !resumed {
			lossSum, correct = 0, 0
			if hooks.BeforeEpoch != nil {
				if err := hooks.BeforeEpoch(epoch); err != nil {
					return history, stopped(err)
				}
			}
		}
		snapshot := snapshotOf(kept)
		lr := cfg.Schedule.Rate(cfg.LR, epoch-1, cfg.Epochs)
		stop := false // a hook returned ErrStop
		ran := 0      // steps run in this epoch, counting those before a resume
		startStep := 0
		if epoch == first && cfg.Resume != nil {
			target := cfg.Resume.Draws
			if resumed {
				target = cfg.Resume.EpochDraws
			}
			if err := src64.skipTo(ctx, target); err != nil {
				return history, errors.Wrap(err, "resume")
			}
		}
		epochDraws := src64.n
		perm := rng.Perm(n)
		if resumed {
			if err := src64.skipTo(ctx, cfg.Resume.Draws); err != nil {
				return history, errors.Wrap(err, "resume")
			}
			startStep = firstStep
		}
		ran = startStep
		for step := startStep; step < steps && !stop; step++ {
			if err := ctx.Err(); err != nil {
				if serr := save(epoch, step, epochDraws); serr != nil {
					return history, errors.Wrap(serr, "saving the checkpoint after an interruption")
				}
				return history, err
			}
			batch := perm[step*cfg.Batch : (step+1)*cfg.Batch]
			data.Train.ReadBatch(batch, xb)
			for i, j := range batch {
				yb[i] = data.Train.Y[j]
			}
			if !cfg.Augment.IsZero() {
				if err := cfg.Augment.Apply(xin, xb, data.Train.Shape, cfg.Batch, rng); err != nil {
					return history, err
				}
			}
			loss, err := sess.Run(xin, yb, rng)
			if err != nil {
				return history, errors.Wrapf(err, "epoch %d step %d", epoch, step+1)
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				restore(kept, snapshot)
				return history, errors.Wrapf(ErrDiverged, "epoch %d step %d: loss is %v (parameters restored to the start of the epoch; %s)", epoch, step+1, loss, divergedHint(cfg))
			}
			for i, l := range ls {
				if grads[i], err = sess.Grad(l); err != nil {
					return history, err
				}
				if !finite(grads[i]) {
					restore(kept, snapshot)
					return history, errors.Wrapf(ErrDiverged, "epoch %d step %d: gradient of %s is not finite (parameters restored to the start of the epoch; %s)", epoch, step+1, l.Name, divergedHint(cfg))
				}
			}
			lossSum += loss
			correct += Correct(sess.Logits(), yb, sess.Classes())
			if cfg.Rate != nil {
				if lr = cfg.Rate(epoch, step+1, steps); lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) {
					return history, errors.Errorf("epoch %d step %d: Config.Rate gave the learning rate %v (want ≥ 0 and finite)", epoch, step+1, lr)
				}
			}
			if err := opt.Step(ls, grads, lr); err != nil {
				return history, err
			}
			ran = step + 1
			if hooks.AfterStep != nil {
				if err := hooks.AfterStep(epoch, step+1, steps); err != nil {
					if !errors.Is(err, ErrStop) {
						return history, err
					}
					stop = true
				}
			}
		}
		for _, l := range kept {
			if !finite(l.Value) {
				restore(kept, snapshot)
				return history, errors.Wrapf(ErrDiverged, "epoch %d: parameter %s is not finite (parameters restored to the start of the epoch; %s)", epoch, l.Name, divergedHint(cfg))
			}
		}
		st := EpochStats{Epoch: epoch, Epochs: cfg.Epochs, LR: lr,
			TrainLoss: lossSum / float64(ran), TrainAcc: float64(correct) / float64(ran*cfg.Batch)}
		if eval != nil {
			mt, err := eval.Evaluate(data.Test)
			if err != nil {
				return history, err
			}
			st.TestLoss, st.TestAcc = mt.Loss, mt.Accuracy
		}
		partial := stop && ran < steps // stopped within the epoch: no checkpoint of it
		if hooks.AfterEpoch != nil {
			if err := hooks.AfterEpoch(epoch, &st); err != nil {
				if !errors.Is(err, ErrStop) {
					return history, err
				}
				stop = true
			}
		}
		st.Seconds = time.Since(start).Seconds()
		history = append(history, st)
		if rec != nil {
			rec.Record(&st)
		}
		lossSum, correct = 0, 0
		if !partial {
			if err := save(epoch+1, 0, src64.n); err != nil {
				return history, errors.Wrapf(err, "saving the checkpoint of epoch %d", epoch)
			}
		}
		if stop {
			break
		}
	}
	return history, nil
}

// stopped is err, or nil when it is ErrStop.
func stopped(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

func checkData(m *models.Model, d *dataset.Dataset) error {
	if d == nil || d.N() == 0 {
		return errors.New("no samples")
	}
	if d.Size() != m.Spec.InputSize() {
		return errors.Errorf("samples have %d values (shape %v), model %q takes %d (shape %v)", d.Size(), d.Shape, m.Spec.Name, m.Spec.InputSize(), m.Spec.Input)
	}
	if d.Values() != d.N()*d.Size() {
		return errors.Errorf("%d values for %d samples of %d", d.Values(), d.N(), d.Size())
	}
	if c := m.Spec.Classes(); d.Classes > c {
		return errors.Errorf("data has %d classes, model %q outputs %d", d.Classes, m.Spec.Name, c)
	}
	return nil
}

// Correct counts the rows of logits (batch × classes, row-major) whose
// largest entry (the first of equal ones) is at the row's label.
func Correct(logits []float64, labels []int, classes int) int {
	n := 0
	for i, y := range labels {
		if infer.Argmax(logits[i*classes:(i+1)*classes]) == y {
			n++
		}
	}
	return n
}

func finite(t *tensor.Dense) bool {
	switch d := t.Data().(type) {
	case []float32:
		return kernels.AllFinite(d)
	case []float64:
		return kernels.AllFinite(d)
	}
	return true
}

// withBuffers returns ls followed by m's buffers (the parameters its spec
// marks as such), each as a Learnable without a node, so that they are
// checkpointed and restored with the learnables.
func withBuffers(ls []*graph.Learnable, m *models.Model) ([]*graph.Learnable, error) {
	bufs, err := m.Buffers()
	if err != nil {
		return nil, err
	}
	out := append([]*graph.Learnable(nil), ls...)
	for _, p := range bufs {
		out = append(out, &graph.Learnable{Name: p.Name, Value: p.Value})
	}
	return out, nil
}

func snapshotOf(ls []*graph.Learnable) []*tensor.Dense {
	out := make([]*tensor.Dense, len(ls))
	for i, l := range ls {
		out[i] = l.Value.Clone().(*tensor.Dense)
	}
	return out
}

func restore(ls []*graph.Learnable, snap []*tensor.Dense) {
	for i, l := range ls {
		switch d := l.Value.Data().(type) {
		case []float32:
			copy(d, snap[i].Data().([]float32))
		case []float64:
			copy(d, snap[i].Data().([]float64))
		}
	}
}

// divergedHint is the advice that ends a divergence error. A weight decay
// with decay·lr ≥ 1 scales every decayed parameter by 1 − decay·lr ≤ 0 at
// each step: it overshoots by itself, whatever the data, and is then the
// likely cause; otherwise the learning rate usually is.
func divergedHint(cfg Config) string {
	if r := cfg.WeightDecay * cfg.LR; r >= 1 {
		return fmt.Sprintf("the weight decay %g is the likely cause: at learning rate %g each step scales a decayed parameter by 1 − %g; try a smaller weight decay", cfg.WeightDecay, cfg.LR, r)
	}
	return "try a smaller learning rate"
}
