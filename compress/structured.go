package compress

import (
	"context"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// The structures Config.Structure accepts.
const (
	StructureElement = "element" // w = u⊙v for every weight: L1 (the zero value means this)
	StructureNeuron  = "neuron"  // dense layers: one scale per output neuron; conv2d layers element-wise
	StructureFilter  = "filter"  // conv2d layers: one scale per filter; dense layers element-wise
	StructureMixed   = "mixed"   // neurons of dense layers and filters of conv2d layers
)

// Structures lists the accepted values of Config.Structure.
var Structures = []string{StructureElement, StructureNeuron, StructureFilter, StructureMixed}

// structured reports whether c asks for a grouped rewrite.
func (c Config) structured() bool {
	return c.Structure != "" && c.Structure != StructureElement
}

// grouped reports whether structure puts one scale per unit on layers of
// kind (models.Dense or models.Conv2d).
func grouped(structure, kind string) bool {
	switch structure {
	case StructureNeuron:
		return kind == models.Dense
	case StructureFilter:
		return kind == models.Conv2d
	case StructureMixed:
		return kind == models.Dense || kind == models.Conv2d
	}
	return false
}

// structuredSource is what the structured pass trains: Groups on chains,
// Coupled on networks thinned by channel spaces.
type structuredSource interface {
	graph.WeightSource
	Threshold(tau float64, opt Momentum) (units, elements int)
	Collapse(m *models.Model) error
	Stats(tau float64) FactorStats
}

// splitStructured picks the factorisation of the structured pass for m.
func splitStructured(m *models.Model, structure string) (structuredSource, *Coupled, error) {
	if err := models.Thinnable(m.Spec); err != nil {
		return nil, nil, errors.Wrapf(ErrConfig, "structured spred: %v", err)
	}
	if models.ChainThinnable(m.Spec) == nil {
		gs, err := SplitGroups(m, structure)
		return gs, nil, err
	}
	c, err := SplitCoupled(m, structure)
	return c, c, err
}

// structuredPhase trains the grouped factors of work with decay λ (on
// networks thinned by channel spaces, the g·V factors of the coupled
// channel groups), thresholds units and elements, collapses, thins work
// into the smaller dense model (work's spec and parameters are replaced),
// measures the stages and returns the zero mask of the thinned model for
// fine-tuning.
func structuredPhase(ctx context.Context, work *models.Model, data Data, cfg Config, ck *Checkpoint, r *Report, rec Recorder,
	eval func(graph.WeightSource) (*float64, *float64, error), save func(*train.State) error) (*Mask, error) {
	gs, coupled, err := splitStructured(work, cfg.Structure)
	if err != nil {
		return nil, err
	}
	var opt *train.SGD
	if coupled != nil {
		r.Settings.Decay = coupledDecaySetting(cfg.Structure)
	}
	hooks := train.Hooks{
		Optimizer: func(o *train.SGD) { opt = o },
		BeforeEpoch: func(epoch int) error {
			if cfg.EpochThreshold && epoch > 1 {
				tau, err := r.Target.structuredCapped(cfg.Threshold, gs, work)
				if err != nil {
					return err
				}
				gs.Threshold(tau, opt)
			}
			return nil
		},
		AfterStep:  stepper(rec, PhaseSpred, cfg.Epochs),
		Checkpoint: save,
	}
	hooks = r.Target.drive(hooks, setDecay, fixedTau(cfg.Threshold), func() ([]float64, []int) { return unitMagnitudes(gs) })
	record := train.RecorderFunc(func(s *train.EpochStats) {
		st := gs.Stats(cfg.Threshold)
		full := Stats{Phase: PhaseSpred, EpochStats: *s, Sparsity: st.Sparsity(), Imbalance: st.Imbalance, Lambda: r.Target.lambda(cfg.Lambda)}
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
		if _, err := train.Fit(ctx, work, data, tc, gs, hooks, record); err != nil {
			return nil, errors.Wrap(lambdaHint(err, cfg), "structured spred training")
		}
	}
	if r.Accuracy.Trained, r.Loss.Trained, err = eval(gs); err != nil {
		return nil, errors.Wrap(err, "evaluating the trained model")
	}
	tau, err := r.Target.structuredFinal(cfg.Threshold, gs, work)
	if err != nil {
		return nil, err
	}
	gs.Threshold(tau, nil)
	if err := gs.Collapse(work); err != nil {
		return nil, err
	}
	if err := recalibrate(ctx, work, data, cfg); err != nil {
		return nil, err
	}
	if r.Accuracy.Thresholded, r.Loss.Thresholded, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thresholded model")
	}
	thin, rep, err := models.Thin(work)
	if err != nil {
		return nil, errors.Wrap(err, "thinning")
	}
	work.Spec, work.Params = thin.Spec, thin.Params
	r.Thin = rep
	if r.Accuracy.Thinned, r.Loss.Thinned, err = eval(nil); err != nil {
		return nil, errors.Wrap(err, "evaluating the thinned model")
	}
	return MaskOf(work), nil
}

// structureSetting is the structure recorded in the report: empty for the
// element-wise pass, so that its reports stay as they were.
func structureSetting(c Config) string {
	if c.structured() {
		return c.Structure
	}
	return ""
}

// decaySetting says which parameters λ applies to.
func decaySetting(c Config) string {
	switch {
	case !c.structured():
		return "λ on u and v of every prunable weight; biases not decayed"
	case c.Structure == StructureNeuron:
		return "λ on g and V of dense layers (group lasso over neurons), on u and v of conv2d layers; biases not decayed"
	case c.Structure == StructureFilter:
		return "λ on g and V of conv2d layers (group lasso over filters), on u and v of dense layers; biases not decayed"
	}
	return "λ on g and V of every prunable weight (group lasso over neurons and filters); biases not decayed"
}

// coupledDecaySetting is decaySetting for the coupled channel groups.
func coupledDecaySetting(structure string) string {
	what := map[string]string{StructureFilter: "conv2d", StructureNeuron: "dense", StructureMixed: "conv2d and dense"}[structure]
	return "λ on g and V of the coupled channels of " + what + " layers (group lasso λ Σ‖group‖₂ over filters or neurons with their biases and batch-norm scales and shifts, one scale g per channel and a factor V of every tensor of the group); λ on u and v of the other prunable weights; other biases not decayed"
}
