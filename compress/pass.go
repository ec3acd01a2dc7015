package compress

import (
	"math"
	"math/rand"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Pass is the spred phase of Run for a training loop of one's own: the
// caller drives it epoch by epoch, and it owns the factors, the thresholding
// and the collapse back to dense weights.
//
//	p, err := compress.NewPass(model, compress.DefaultConfig())
//	defer p.Close()
//	for epoch := 1; epoch <= epochs; epoch++ {
//		p.BeginEpoch(epoch)             // thresholds (EpochThreshold), clears the velocity
//		for each batch { p.Step(x, y) } // or a step of one's own (below)
//		stats := p.FinishEpoch()        // sparsity and imbalance so far
//	}
//	pruned, report, err := p.Finish()   // threshold, collapse: exact zeros
//
// Step runs one SGD step of Run's optimizer (Config.LR on Config.Schedule,
// Momentum, Nesterov, weight decay Lambda on u and v only). A step of one's
// own instead builds a graph of Model with Factors as its graph.WeightSource
// (graph.New(p.Model(), graph.Options{Source: p.Factors(), Train: true}))
// and applies weight decay Lambda to the learnables marked Decay (u and v);
// its optimizer, given to SetOptimizer, has the velocity of the entries
// BeginEpoch zeroes cleared. train.Fit drives a Pass through Hooks, which is
// how Run uses it.
//
// A Pass is not safe for concurrent use.
type Pass struct {
	cfg  Config
	dt   tensor.Dtype // the input model's dtype, restored by Finish
	work *models.Model
	f    *Factors
	opt  Momentum  // the optimizer whose velocity thresholding clears
	hold *normHold // Config.HoldNorms: the filters held at their norms

	own   *train.SGD     // Step's optimizer
	sess  *graph.Session // Step's graph, built on the first Step
	rng   *rand.Rand     // Step's dropout masks
	epoch int

	// The current epoch's Step statistics.
	lossSum float64
	correct int
	steps   int
	samples int
	lr      float64

	history []Stats
	done    bool

	// target, when Run drives the pass towards a ratio, caps the epoch
	// thresholds and sets the final one (nil: Config.Threshold throughout).
	target *Target
}

// ErrPassDone is returned by a Pass used after Finish or Close.
var ErrPassDone = errors.New("compression pass is finished")

// NewPass validates cfg (its zero fields read as in Run), copies m into
// cfg.Dtype and splits its prunable weights into balanced factors (or draws
// them, with FromScratch). m itself is not changed. Only element-wise
// method spred runs as a Pass; fine-tuning (the Finetune fields) is left to
// the caller, with MaskOf(pruned).Apply after every step.
func NewPass(m *models.Model, cfg Config) (*Pass, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case cfg.method() != MethodSpred:
		return nil, errors.Wrapf(ErrConfig, "a Pass runs method spred, not %s (use Run)", cfg.method())
	case cfg.structured():
		return nil, errors.Wrapf(ErrConfig, "a Pass runs the element-wise rewrite, not structure %s (use Run)", cfg.Structure)
	case cfg.Resume != nil:
		return nil, errors.Wrap(ErrConfig, "a Pass does not resume from a checkpoint (use Run)")
	case cfg.TargetRatio != 0 || cfg.TargetSparsity != 0:
		return nil, errors.Wrap(ErrConfig, "a Pass runs at a given λ; a target ratio or sparsity needs the search of Run")
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	cfg, err := cfg.ResolveLayers(m)
	if err != nil {
		return nil, err
	}
	if len(m.Params.Prunable()) == 0 {
		return nil, errors.Wrapf(ErrNoPrunable, "model %q", m.Spec.Name)
	}
	ps, err := m.Params.AsType(cfg.Dtype)
	if err != nil {
		return nil, err
	}
	p, err := newPass(&models.Model{Spec: m.Spec, Params: ps, Meta: m.Meta}, cfg)
	if err != nil {
		return nil, err
	}
	p.dt = paramsDtype(m)
	return p, nil
}

// newPass factorises work, which the pass then trains and collapses in
// place.
func newPass(work *models.Model, cfg Config) (*Pass, error) {
	var f *Factors
	var err error
	if cfg.FromScratch {
		f, err = RandomFactors(work, rand.New(rand.NewSource(cfg.Seed)))
	} else {
		f, err = Split(work)
	}
	if err != nil {
		return nil, err
	}
	if cfg.LayerThreshold {
		f.ScaleThresholds(cfg.layers)
	}
	p := &Pass{cfg: cfg, dt: cfg.Dtype, work: work, f: f}
	if cfg.HoldNorms { // ResolveLayers has refused a model with nothing to hold
		if p.hold, err = newNormHold(work, f); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Config returns the pass's configuration with its defaults filled in.
func (p *Pass) Config() Config { return p.cfg }

// Model returns the model being trained: its biases and other parameters
// train in place, while its prunable weights hold their values from before
// the pass until Finish collapses the factors into them. Evaluate it with
// the factors: train.Evaluate(p.Model(), p.Factors(), test, 0).
func (p *Pass) Model() *models.Model { return p.work }

// Factors returns the factors u, v of every prunable weight: the
// graph.WeightSource of the model's training graphs.
func (p *Pass) Factors() *Factors { return p.f }

// SetOptimizer names the optimizer of a training step of one's own, whose
// velocity BeginEpoch clears wherever it thresholds (*train.SGD is one).
func (p *Pass) SetOptimizer(o Momentum) { p.opt = o }

// TrainConfig returns the train.Config of Run's spred phase (Epochs, Batch,
// LR, Schedule, Momentum, Nesterov, weight decay Lambda, Seed, Dtype), for
// driving the pass with train.Fit:
//
//	train.Fit(ctx, p.Model(), data, p.TrainConfig(), p.Factors(), p.Hooks(), rec)
func (p *Pass) TrainConfig() train.Config { return p.cfg.spredTrain() }

// Hooks returns the hooks with which train.Fit drives the pass: the
// optimizer's velocity is cleared where the factors are thresholded,
// BeginEpoch runs before every epoch, and AfterStep holds the filter norms
// (Config.HoldNorms; call HoldNorms from an AfterStep of one's own instead).
// Set the other hooks on the result.
func (p *Pass) Hooks() train.Hooks {
	return train.Hooks{
		Optimizer:   func(o *train.SGD) { p.opt = o },
		BeforeEpoch: func(epoch int) error { p.BeginEpoch(epoch); return nil },
		AfterStep:   func(int, int, int) error { p.HoldNorms(); return nil },
	}
}

// HoldNorms rescales every filter that only a batch norm reads back to
// the norm it had when the pass began (Config.HoldNorms; nothing without
// it). Step and Hooks' AfterStep call it; a step of one's own calls it
// after every update.
func (p *Pass) HoldNorms() {
	if !p.done {
		p.hold.apply(p.f)
	}
}

// BeginEpoch starts epoch (1-based). With Config.EpochThreshold, from the
// second epoch on, it first sets u⊙v to exactly zero wherever |u⊙v| <
// Config.Threshold, clears the velocity of those entries in Step's
// optimizer and in the one given to SetOptimizer (or train.Fit's), so that
// the dead weights stay dead, and returns how many weights it zeroed.
func (p *Pass) BeginEpoch(epoch int) int {
	p.epoch = epoch
	p.lossSum, p.correct, p.steps, p.samples = 0, 0, 0, 0
	p.lr = p.cfg.Schedule.Rate(p.cfg.LR, epoch-1, p.cfg.Epochs)
	if !p.cfg.EpochThreshold || epoch <= 1 || p.done {
		return 0
	}
	var opt Momentum = p.own
	switch {
	case p.own == nil:
		opt = p.opt
	case p.opt != nil:
		opt = bothMomenta{p.own, p.opt}
	}
	return p.f.Threshold(p.target.capped(p.cfg.Threshold, p.f.magnitudes), opt)
}

// bothMomenta clears the velocity of two optimizers.
type bothMomenta [2]Momentum

func (b bothMomenta) ZeroVelocity(name string, idx []int) {
	b[0].ZeroVelocity(name, idx)
	b[1].ZeroVelocity(name, idx)
}

// Step trains on one batch (x holds len(y) samples of the model's input,
// y their class indices) with one step of SGD at the epoch's learning rate
// (Config.LR on Config.Schedule over Config.Epochs), momentum, and weight
// decay Lambda on u and v, and returns the batch's mean loss. Every batch
// of the same size runs on the same compiled graph; dropout masks draw from
// a source seeded with Config.Seed. A loss or gradient that
// is not finite stops with an error wrapping train.ErrDiverged before the
// step changes anything.
func (p *Pass) Step(x []float32, y []int) (float64, error) {
	switch {
	case p.done:
		return 0, ErrPassDone
	case p.epoch < 1:
		return 0, errors.New("compression pass: Step before BeginEpoch")
	case len(y) == 0:
		return 0, errors.New("compression pass: Step on an empty batch")
	}
	if p.sess == nil || p.sess.Batch() != len(y) {
		if p.sess != nil {
			p.sess.Close()
		}
		var err error
		if p.sess, err = graph.New(p.work, graph.Options{Batch: len(y), Source: p.f, Train: true}); err != nil {
			p.sess = nil
			return 0, err
		}
	}
	if p.own == nil {
		p.own = &train.SGD{Momentum: p.cfg.Momentum, Nesterov: p.cfg.Nesterov, WeightDecay: p.cfg.Lambda, Scale: p.cfg.factorScale()}
		p.rng = rand.New(rand.NewSource(p.cfg.Seed))
	}
	loss, err := p.sess.Run(x, y, p.rng)
	if err != nil {
		return 0, errors.Wrapf(err, "epoch %d step %d", p.epoch, p.steps+1)
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, errors.Wrapf(train.ErrDiverged, "epoch %d step %d: loss is %v", p.epoch, p.steps+1, loss)
	}
	ls := p.sess.Learnables()
	grads := make([]*tensor.Dense, len(ls))
	for i, l := range ls {
		if grads[i], err = p.sess.Grad(l); err != nil {
			return 0, err
		}
		if !finiteTensor(grads[i]) {
			return 0, errors.Wrapf(train.ErrDiverged, "epoch %d step %d: gradient of %s is not finite", p.epoch, p.steps+1, l.Name)
		}
	}
	p.correct += train.Correct(p.sess.Logits(), y, p.sess.Classes())
	if err := p.own.Step(ls, grads, p.lr); err != nil {
		return 0, err
	}
	p.hold.apply(p.f)
	p.lossSum += loss
	p.steps++
	p.samples += len(y)
	return loss, nil
}

func finiteTensor(t *tensor.Dense) bool {
	for _, v := range models.Float64s(t.Data()) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Penalty returns the current value of the penalty (λ/2)·Σ(u² + v²) over
// all factors (λ times the multiplier of Config.LayerScale and
// LayerLambda for the weights they scale), which equals λ‖u⊙v‖₁ when the factors are balanced: add it to
// the mean loss to follow the objective the pass minimises.
func (p *Pass) Penalty() float64 {
	var s float64
	for _, pr := range p.f.Pairs() {
		f, ok := p.cfg.layers[pr.Name]
		if !ok {
			f = 1
		}
		for _, t := range []*tensor.Dense{pr.U, pr.V} {
			for _, v := range models.Float64s(t.Data()) {
				s += f * v * v
			}
		}
	}
	return p.cfg.Lambda / 2 * s
}

// FinishEpoch ends the epoch BeginEpoch started and returns its statistics,
// which are also kept for the Report's History: the mean loss and accuracy
// of its Steps (zero when the steps were one's own), the learning rate, and
// the sparsity (|u⊙v| < τ) and imbalance of the factors.
func (p *Pass) FinishEpoch() Stats {
	es := train.EpochStats{Epoch: p.epoch, Epochs: p.cfg.Epochs, LR: p.lr}
	if p.steps > 0 {
		es.TrainLoss = p.lossSum / float64(p.steps)
		es.TrainAcc = float64(p.correct) / float64(p.samples)
	}
	return p.endEpoch(es)
}

// endEpoch adds the factors' statistics to es and keeps the result.
func (p *Pass) endEpoch(es train.EpochStats) Stats {
	st := p.f.Stats(p.cfg.Threshold)
	full := Stats{Phase: PhaseSpred, EpochStats: es, Sparsity: st.Sparsity(), Imbalance: st.Imbalance, Lambda: p.target.lambda(p.cfg.Lambda)}
	p.history = append(p.history, full)
	return full
}

// collapse thresholds the factors at τ and writes u⊙v into the working
// model's weights.
func (p *Pass) collapse() error {
	p.f.Threshold(p.target.final(p.cfg.Threshold, p.f.magnitudes), nil) // the factors are collapsed: no more steps
	return p.f.Collapse(p.work)
}

// Finish thresholds |u⊙v| < τ to exact zeros, collapses every pair into one
// dense weight and returns the pruned model (the original architecture and
// dtype, no trace of the rewrite) with its Report: counts, compression
// ratios, settings and the History of FinishEpoch. The Report has no
// accuracies: evaluate the model with train.Evaluate. The pass is closed
// afterwards.
func (p *Pass) Finish() (*models.Model, *Report, error) {
	if p.done {
		return nil, nil, ErrPassDone
	}
	p.Close()
	if err := p.collapse(); err != nil {
		return nil, nil, err
	}
	ps, err := p.work.Params.AsType(p.dt)
	if err != nil {
		return nil, nil, err
	}
	for _, q := range ps.All() {
		if !q.Finite() {
			return nil, nil, errors.Wrapf(train.ErrDiverged, "parameter %s is not finite after compression", q.Name)
		}
	}
	out := &models.Model{Spec: p.work.Spec, Params: ps, Meta: p.work.Meta}
	r := &Report{Settings: spredMethod{}.Settings(p.cfg), History: append([]Stats(nil), p.history...)}
	r.Count(out)
	return out, r, nil
}

// Close releases Step's graph and ends the pass; Finish closes it too.
// Closing twice is harmless.
func (p *Pass) Close() error {
	p.done = true
	if p.sess == nil {
		return nil
	}
	err := p.sess.Close()
	p.sess = nil
	return err
}
