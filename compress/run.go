package compress

import (
	"context"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Phases of the pass, as reported in Stats.
const (
	PhaseSpred    = "spred"
	PhaseFinetune = "finetune"
)

// Stats is what a Recorder receives after every epoch of either phase.
type Stats struct {
	Phase string `json:"phase"`
	train.EpochStats
	// Sparsity is the fraction of prunable weights with |w| < τ at the end
	// of the epoch (exact zeros during fine-tuning).
	Sparsity float64 `json:"sparsity"`
	// Imbalance is the mean |u² − v²| over the prunable weights (spred
	// phase only): it shrinks at a rate of about 2λ towards 0.
	Imbalance float64 `json:"imbalance"`
	// Lambda is λ at the end of the epoch: Config.Lambda, or the λ a
	// target's continuation had reached (0 during fine-tuning and for
	// magnitude pruning).
	Lambda float64 `json:"lambda,omitempty"`
}

// Recorder receives per-epoch statistics. A Recorder that also implements
// StepRecorder is told about every step.
type Recorder interface {
	Record(*Stats)
}

// StepRecorder is told about every training step, for progress bars.
type StepRecorder interface {
	Step(phase string, epoch, epochs, step, steps int)
}

// Data is the training set and the held-out set the accuracies are
// measured on (Test may be nil: the accuracies are then absent).
type Data = train.Data

// Run compresses m with spred and returns the report. On success m holds the
// pruned model: the original architecture, dense tensors with exact zeros,
// in its original dtype; with a grouped Config.Structure, the thinned model
// (fewer units, models.Thin) with its new spec. On failure m is left as it was. A run that
// diverges (NaN or Inf) stops with an error wrapping train.ErrDiverged that
// names the epoch and step.
func Run(ctx context.Context, m *models.Model, data Data, cfg Config, rec Recorder) (*Report, error) {
	start := time.Now()
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	meth, err := cfg.lookup()
	if err != nil {
		return nil, err
	}
	info := meth.Info()
	if cfg.Resume != nil && !info.Resume {
		return nil, errors.Wrapf(ErrConfig, "method %s does not resume from a checkpoint", meth.Name())
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	if cfg, err = cfg.ResolveLayers(m); err != nil {
		return nil, err
	}
	if len(m.Params.Prunable()) == 0 {
		return nil, errors.Wrapf(ErrNoPrunable, "model %q", m.Spec.Name)
	}
	ps, err := m.Params.AsType(cfg.Dtype)
	if err != nil {
		return nil, err
	}
	work := &models.Model{Spec: m.Spec, Params: ps, Meta: m.Meta}
	if !hasBuffers(m) {
		cfg.Recalibrate = 0 // nothing to re-estimate: the same run, and the same key
	}
	r := &Report{Settings: meth.Settings(cfg)}
	r.Settings.Recalibrate = cfg.Recalibrate
	data, val, validation, err := holdOut(data, cfg)
	if err != nil {
		return nil, err
	}
	r.Validation = validation
	if data.Train != nil {
		r.Target = newTarget(cfg, data.Train.N())
	}
	key, err := fingerprint(m, data, cfg)
	if err != nil {
		return nil, err
	}
	r.Key = key
	ck := cfg.Resume
	phase := info.Phase
	if ck != nil {
		if err := checkResume(ck, key, cfg, m); err != nil {
			return nil, err
		}
		phase = ck.Phase
		r.Accuracy, r.Loss = ck.Accuracy, ck.Loss
		if ck.Target != nil {
			r.Target = ck.Target.clone()
			if data.Train != nil {
				r.Target.setSchedule(cfg, data.Train.N())
			}
		}
		r.History = append(r.History, ck.History...)
	}
	saver, _ := rec.(Checkpointer)
	if !info.Resume {
		saver = nil
	}
	checkpoint := func(phase string, round int, mask *Mask) func(*train.State) error {
		if saver == nil {
			return nil
		}
		return func(s *train.State) error {
			c := &Checkpoint{Tool: spred.Tool, Key: key, Phase: phase, Round: round, Train: s, Accuracy: r.Accuracy, Loss: r.Loss,
				History: append([]Stats(nil), r.History...), Target: r.Target.clone()}
			if mask != nil {
				c.Mask = mask.zeros
			}
			if phase == PhaseFinetune && cfg.structured() {
				spec, err := models.MarshalSpec(work.Spec)
				if err != nil {
					return err
				}
				c.Thinned, c.Thin = spec, r.Thin
			}
			return saver.Checkpoint(c)
		}
	}

	var eval func(src graph.WeightSource) (*float64, *float64, error)
	if data.Test != nil {
		eval = func(src graph.WeightSource) (*float64, *float64, error) {
			mt, err := train.Evaluate(work, src, data.Test, cfg.EvalBatch)
			if err != nil {
				return nil, nil, err
			}
			return &mt.Accuracy, &mt.Loss, nil
		}
	} else {
		eval = func(graph.WeightSource) (*float64, *float64, error) { return nil, nil, nil }
	}
	if !cfg.FromScratch && ck == nil {
		if r.Accuracy.Dense, r.Loss.Dense, err = eval(nil); err != nil {
			return nil, errors.Wrap(err, "evaluating the dense model")
		}
	}

	if r.Validation != nil {
		if r.Validation.DenseAccuracy, r.Validation.DenseLoss, err = evalOn(work, val, cfg.EvalBatch); err != nil {
			return nil, err
		}
	}

	var mask *Mask
	switch {
	case phase == PhaseFinetune:
		if mask, err = resumeFinetune(work, cfg, ck, r); err != nil {
			return nil, err
		}
	default:
		s := &Session{Model: work, Data: data, Config: cfg, Report: r, Recorder: rec, Resume: ck, phase: info.Phase, eval: eval, save: checkpoint}
		if mask, err = meth.Train(ctx, s); err != nil {
			return nil, err
		}
		if mask == nil {
			return nil, errors.Errorf("method %s returned no mask", meth.Name())
		}
	}

	if cfg.FinetuneEpochs > 0 {
		ft := train.Hooks{
			AfterStep: func(epoch, step, steps int) error {
				mask.Apply(work)
				if s, ok := rec.(StepRecorder); ok && rec != nil {
					s.Step(PhaseFinetune, epoch, cfg.FinetuneEpochs, step, steps)
				}
				return nil
			},
			Checkpoint: checkpoint(PhaseFinetune, 0, mask),
		}
		recordFT := train.RecorderFunc(func(s *train.EpochStats) {
			rr := Report{}
			rr.Count(work)
			sp := 1 - float64(rr.Totals.PrunableNonZero)/float64(rr.Totals.PrunableParams)
			full := Stats{Phase: PhaseFinetune, EpochStats: *s, Sparsity: sp}
			r.History = append(r.History, full)
			if rec != nil {
				rec.Record(&full)
			}
		})
		tc := cfg.finetuneTrain()
		if ck != nil && ck.Phase == PhaseFinetune {
			tc.Resume = ck.Train
		}
		// The prunable weights are marked for decay only when there is some,
		// so that a run without it computes what it always did.
		if _, err := train.Fit(ctx, work, data, tc, graph.Plain{Decay: cfg.FinetuneDecay > 0}, ft, recordFT); err != nil {
			return nil, errors.Wrap(err, "fine-tuning")
		}
		if r.Accuracy.Finetuned, r.Loss.Finetuned, err = eval(nil); err != nil {
			return nil, errors.Wrap(err, "evaluating the fine-tuned model")
		}
	}

	if r.Validation != nil {
		if r.Validation.FinalAccuracy, r.Validation.FinalLoss, err = evalOn(work, val, cfg.EvalBatch); err != nil {
			return nil, err
		}
	}
	out, err := work.Params.AsType(paramsDtype(m))
	if err != nil {
		return nil, err
	}
	for _, p := range out.All() {
		if !p.Finite() {
			return nil, errors.Wrapf(train.ErrDiverged, "parameter %s is not finite after compression", p.Name)
		}
	}
	if cfg.structured() {
		orig := m.Spec
		m.Spec, m.Params = work.Spec, out
		if err := r.countThinned(orig, m); err != nil {
			return nil, err
		}
	} else {
		m.Params = out
		r.Count(m)
	}
	if r.Target != nil {
		r.Target.Prev, r.Target.PrevStep = nil, 0 // search state, not a result
		r.Target.Reached = r.Totals.CompressionRatio
		if r.Target.continuation() {
			r.Settings.Lambda = r.Target.Lambda
		}
	}
	r.WallSeconds = time.Since(start).Seconds()
	return r, nil
}

// spredPhase trains the factors of work with decay λ on u and v (nothing
// else) as a Pass driven by train.Fit, thresholds and collapses them into
// work, measures the stages, and returns the zero mask for fine-tuning.
func spredPhase(ctx context.Context, work *models.Model, data Data, cfg Config, ck *Checkpoint, r *Report, rec Recorder,
	eval func(graph.WeightSource) (*float64, *float64, error), save func(*train.State) error) (*Mask, error) {
	p, err := newPass(work, cfg)
	if err != nil {
		return nil, err
	}
	p.target = r.Target
	hooks := p.Hooks()
	progress := stepper(rec, PhaseSpred, cfg.Epochs)
	hooks.AfterStep = func(epoch, step, steps int) error {
		p.HoldNorms()
		if progress == nil {
			return nil
		}
		return progress(epoch, step, steps)
	}
	hooks.Checkpoint = save
	hooks = r.Target.drive(hooks, setDecay, fixedTau(cfg.Threshold), func() ([]float64, []int) { return p.Factors().magnitudes(), nil })
	record := train.RecorderFunc(func(s *train.EpochStats) {
		full := p.endEpoch(*s)
		r.History = append(r.History, full)
		if rec != nil {
			rec.Record(&full)
		}
	})
	tc := cfg.spredTrain()
	if ck != nil {
		tc.Resume = ck.Train
	}
	if cfg.Epochs > 0 {
		if _, err := train.Fit(ctx, work, data, tc, p.Factors(), hooks, record); err != nil {
			return nil, errors.Wrap(lambdaHint(err, cfg), "spred training")
		}
	}
	if r.Accuracy.Trained, r.Loss.Trained, err = eval(p.Factors()); err != nil {
		return nil, errors.Wrap(err, "evaluating the trained model")
	}
	if err := p.collapse(); err != nil {
		return nil, err
	}
	if err := recalibrate(ctx, work, data, cfg); err != nil {
		return nil, err
	}
	if r.Accuracy.Thresholded, r.Loss.Thresholded, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thresholded model")
	}
	return MaskOf(work), nil
}

// recalibrate re-estimates the batch-norm running statistics of the
// pruned work on cfg.Recalibrate batches of the training data
// (Config.Recalibrate); it does nothing without batch norm.
func recalibrate(ctx context.Context, work *models.Model, data Data, cfg Config) error {
	if cfg.Recalibrate == 0 || data.Train == nil {
		return nil
	}
	return errors.Wrap(train.Recalibrate(ctx, work, nil, data.Train, cfg.Recalibrate, cfg.Batch, cfg.Seed+2), "re-estimating the batch-norm statistics")
}

// hasBuffers reports whether m keeps batch-norm running statistics.
func hasBuffers(m *models.Model) bool {
	bufs, err := m.Buffers()
	return err == nil && len(bufs) > 0
}

func stepper(rec Recorder, phase string, epochs int) func(epoch, step, steps int) error {
	s, ok := rec.(StepRecorder)
	if !ok || rec == nil {
		return nil
	}
	return func(epoch, step, steps int) error {
		s.Step(phase, epoch, epochs, step, steps)
		return nil
	}
}

func paramsDtype(m *models.Model) tensor.Dtype {
	return m.Params.All()[0].Value.Dtype()
}

// lambdaHint names λ in a divergence of the spred phase when λ·lr ≥ 1:
// the decay on the factors then overshoots by itself, and λ, not the
// learning rate, is the likely cause.
func lambdaHint(err error, cfg Config) error {
	if errors.Is(err, train.ErrDiverged) && cfg.Lambda*cfg.LR >= 1 {
		return errors.Wrapf(err, "λ = %g is large for lr %g (λ·lr = %g ≥ 1, the decay on u and v alone overshoots): try a smaller λ", cfg.Lambda, cfg.LR, cfg.Lambda*cfg.LR)
	}
	return err
}
