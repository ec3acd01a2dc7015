package compress

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Config configures Run and NewPass. The zero value of every field means
// its default, given in its comment; Validate rejects values out of range.
// Those zero-value defaults are bare (no momentum, no epoch thresholding,
// no fine-tuning): start from DefaultConfig for the recipe that compresses,
// which is what `spred compress` runs.
type Config struct {
	// Method is the name of a registered compression method (Register,
	// Lookup): MethodSpred (the zero value means this), or one of the
	// baselines MethodMagnitude and MethodL1, which run under the same
	// epoch budget, data and training settings.
	Method string `json:",omitempty"`
	// TargetSparsity is the final fraction of prunable weights set to
	// zero, in (0, 1). MethodMagnitude needs it or TargetRatio; for the
	// λ-driven methods (spred, element-wise or structured, and l1) it asks
	// for the result instead of the knob: λ is found during the run (see
	// Target) and Lambda must be 0. 0 means none.
	TargetSparsity float64 `json:",omitempty"`
	// Rounds of prune-then-retrain of MethodMagnitude; 0 means 3.
	Rounds int `json:",omitempty"`
	// RetrainDecay is the weight decay on the prunable weights while
	// MethodMagnitude retrains them; 0 means none.
	RetrainDecay float64 `json:",omitempty"`

	// Structure is the grouping of the rewrite: StructureElement (the zero
	// value means this: w = u⊙v, L1), or StructureNeuron, StructureFilter or
	// StructureMixed (one scale per output neuron or filter: the group lasso
	// λ Σ‖w_unit‖₂, see Groups), after which dead units are removed with
	// models.Thin and the smaller model is fine-tuned. Method spred only.
	Structure string `json:",omitempty"`

	// Lambda is the L1 coefficient λ: the weight decay on u and v, so that
	// the pass minimises L(w) + λ‖w‖₁. It is required (> 0) for method
	// spred, whose factors without a penalty only rescale the weights.
	//
	// The scale of λ is that of the loss L: the mean over the batch of the
	// per-sample loss (for softmax cross-entropy, summed over the classes
	// of a sample, not averaged over them: graph.SoftmaxCrossEntropy). A loss that also averages over
	// the classes, as Gorgonia's examples do with Mean over a batch ×
	// classes matrix, is smaller by the number of classes and makes the
	// same λ that many times stronger.
	//
	// How far λ gets depends on the learning rate and the number of steps:
	// a weight the penalty alone acts on shrinks by a factor of about
	// 1 − 2·lr·λ/(1 − momentum) per step, so what decides whether it falls
	// below Threshold is roughly λ·lr·steps/(1 − momentum), with steps =
	// Epochs × samples/Batch. Halving LR or Epochs needs about twice the λ
	// for the same sparsity.
	Lambda float64
	// LayerScale sets λ per prunable weight by a rule: LayerScaleUniform
	// ("" too) is the same λ everywhere; LayerScaleSize multiplies it by
	// √(n/n_max) for a weight of n entries (SizeScaledLambda). Element-wise
	// methods with a λ only (spred, l1). What they gave on LeNet-300-100 is
	// in benchmarks/results/frontier/layer-lambda.
	LayerScale string `json:",omitempty"`
	// LayerLambda multiplies λ for the prunable weights it names, in place
	// of LayerScale's multiplier for them: λ·LayerLambda[name] on that
	// weight's |w|.
	LayerLambda map[string]float64 `json:",omitempty"`
	// LayerThreshold scales τ as λ: the threshold of every prunable weight
	// (at each epoch, the final one, and the one a target sets) is τ times
	// its multiplier of λ from LayerScale and LayerLambda, so a weight
	// penalised less is also cut less (Factors.ScaleThresholds). It needs a
	// λ per layer; element-wise spred only.
	LayerThreshold bool `json:",omitempty"`
	// HoldNorms rescales, after every step, each filter of a convolution
	// that only a batch norm reads back to the norm it had when the pass
	// began (see ScaleFree): the batch norm makes such a filter's scale
	// free, and the penalty would otherwise shrink it instead of making it
	// sparse. Element-wise spred only.
	HoldNorms bool `json:",omitempty"`
	// layers is the multiplier of every prunable weight whose λ is not
	// λ itself, from LayerScale and LayerLambda (ResolveLayers).
	layers map[string]float64
	// Threshold τ: after training, |u⊙v| < τ becomes exactly 0. 0 means 1e-3.
	Threshold float64
	// EpochThreshold also thresholds at the start of every training epoch
	// after the first (as the authors do), so that dead weights stay dead.
	EpochThreshold bool
	// FromScratch draws u and v independently from the seed instead of
	// splitting the given weights (whose values are then ignored).
	FromScratch bool

	// Epochs of spred training; 0 means 10.
	Epochs int
	// Batch is the number of samples per step; 0 means 100.
	Batch int
	// LR is the base learning rate of spred training; 0 means 0.05.
	LR float64
	// Momentum of SGD; 0 means none.
	Momentum float64
	// Nesterov momentum.
	Nesterov bool
	// Schedule of the learning rate over the spred epochs; zero is constant.
	Schedule train.Schedule

	// FinetuneEpochs of training the surviving weights with the zero mask
	// held fixed and no penalty; 0 means no fine-tuning.
	FinetuneEpochs int
	// FinetuneLR is the learning rate of fine-tuning; 0 means LR/10.
	FinetuneLR float64
	// FinetuneSchedule of the learning rate over the fine-tuning epochs;
	// zero is constant.
	FinetuneSchedule train.Schedule
	// FinetuneDecay is the weight decay on the surviving prunable weights
	// while they are fine-tuned (every method; biases and batch-norm
	// parameters are not decayed): a regulariser for a sparse network that
	// would otherwise fit its training set to the last example. The pruned
	// weights stay exactly zero. 0 means none.
	FinetuneDecay float64 `json:",omitempty"`

	// Seed seeds shuffling, dropout and (with FromScratch) the factors.
	Seed int64
	// Dtype of the arithmetic: tensor.Float32 (the zero value means this) or
	// tensor.Float64. The output model keeps the input model's dtype.
	Dtype tensor.Dtype
	// EvalBatch is the batch of the evaluation graphs; 0 means 1000.
	EvalBatch int
	// Resume continues the pass a Checkpoint was taken from (any method
	// and structure); it must come from the same tool version,
	// configuration and input model.
	Resume *Checkpoint `json:"-"`

	// TargetRatio asks for a compression ratio R > 1 (prunable weights /
	// non-zero prunable weights), the same as TargetSparsity 1 − 1/R; at
	// most one of the two may be set. 0 means none.
	TargetRatio float64 `json:",omitempty"`
	// ValFraction holds out this fraction of the training set, in [0, 1),
	// drawn with the seed, as a validation split: it is not trained on,
	// and the report gives the dense and the final model's accuracy on it
	// next to the test figures. 0 means no split.
	ValFraction float64 `json:",omitempty"`
	// Recalibrate is the number of training batches (of Batch samples) on
	// which the batch-norm running statistics are re-estimated once the
	// weights are pruned (train.Recalibrate), before the pruned model is
	// evaluated and fine-tuned: the statistics gathered while the weights
	// shrank describe another network. 0 means none; a model without batch
	// norm ignores it.
	Recalibrate int `json:",omitempty"`
}

// The methods this package registers (see Register).
const (
	MethodSpred     = "spred"     // w = u⊙v with weight decay λ on u and v
	MethodMagnitude = "magnitude" // iterative magnitude pruning with retraining (Han et al. 2015)
	MethodL1        = "l1"        // plain L1 by subgradient SGD on w, then thresholding
)

// method is c.Method with the zero value read as MethodSpred.
func (c Config) method() string {
	if c.Method == "" {
		return MethodSpred
	}
	return c.Method
}

// lookup returns the registered method of c.
func (c Config) lookup() (Method, error) {
	return Lookup(c.method())
}

// Defaults returns c with every zero field replaced by its default, those
// of its method (Method.Defaults) included.
func (c Config) Defaults() Config {
	if m, err := c.lookup(); err == nil {
		c = m.Defaults(c)
	}
	if c.Threshold == 0 {
		c.Threshold = 1e-3
	}
	// The training settings take train.Config's defaults, kept in one place.
	t := train.Config{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, EvalBatch: c.EvalBatch, Schedule: c.Schedule}.Defaults()
	c.Epochs, c.Batch, c.LR, c.EvalBatch, c.Schedule = t.Epochs, t.Batch, t.LR, t.EvalBatch, t.Schedule
	if c.FinetuneLR == 0 {
		c.FinetuneLR = c.LR / 10
	}
	if c.Dtype == (tensor.Dtype{}) {
		c.Dtype = tensor.Float32
	}
	if c.FinetuneSchedule.Kind == "" {
		c.FinetuneSchedule.Kind = train.Constant
	}
	return c
}

// ErrConfig is returned (wrapped) by Validate.
var ErrConfig = errors.New("invalid compression config")

// Validate reports the first field out of range, the unknown method or the
// setting the method does not support (MethodInfo), then what the method's
// own Validate rejects.
func (c Config) Validate() error {
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	meth, err := c.lookup()
	if err != nil {
		return err
	}
	info, m := meth.Info(), meth.Name()
	switch {
	case c.TargetSparsity != 0 && !(c.TargetSparsity > 0 && c.TargetSparsity < 1):
		return errors.Wrapf(ErrConfig, "target sparsity must be in (0, 1), got %v", c.TargetSparsity)
	case c.TargetRatio != 0 && !(c.TargetRatio > 1) || math.IsInf(c.TargetRatio, 0):
		return errors.Wrapf(ErrConfig, "target ratio must be > 1 and finite, got %v", c.TargetRatio)
	case c.TargetSparsity != 0 && c.TargetRatio != 0:
		return errors.Wrapf(ErrConfig, "give a target sparsity or a target ratio, not both (%v and %v)", c.TargetSparsity, c.TargetRatio)
	case !info.Target && c.targetSparsity() != 0:
		return errors.Wrapf(ErrConfig, "a target sparsity or ratio applies to method %s only, not %s", orList(methodsWith(func(i MethodInfo) bool { return i.Target })), m)
	case bad(c.ValFraction) || c.ValFraction >= 1:
		return errors.Wrapf(ErrConfig, "validation fraction must be in [0, 1), got %v", c.ValFraction)
	case c.Rounds < 0:
		return errors.Wrapf(ErrConfig, "rounds must be ≥ 0, got %d", c.Rounds)
	case bad(c.RetrainDecay):
		return errors.Wrapf(ErrConfig, "retraining decay must be ≥ 0 and finite, got %v", c.RetrainDecay)
	case c.Structure != "" && c.Structure != StructureElement && c.Structure != StructureNeuron && c.Structure != StructureFilter && c.Structure != StructureMixed:
		return errors.Wrapf(ErrConfig, "unknown structure %q (want element, neuron, filter or mixed)", c.Structure)
	case !info.Structure && c.structured():
		return errors.Wrapf(ErrConfig, "structure %s applies to method %s only, not %s", c.Structure, orList(methodsWith(func(i MethodInfo) bool { return i.Structure })), m)
	case c.structured() && c.FromScratch:
		return errors.Wrapf(ErrConfig, "structure %s starts from the given weights; from-scratch is element-wise only", c.Structure)
	case !info.FromScratch && c.FromScratch:
		return errors.Wrapf(ErrConfig, "from-scratch applies to method %s only, not %s", orList(methodsWith(func(i MethodInfo) bool { return i.FromScratch })), m)
	case bad(c.Lambda):
		return errors.Wrapf(ErrConfig, "lambda must be ≥ 0 and finite, got %v", c.Lambda)
	case c.LayerScale != "" && c.LayerScale != LayerScaleUniform && c.LayerScale != LayerScaleSize:
		return errors.Wrapf(ErrConfig, "unknown layer scale %q (want %s or %s)", c.LayerScale, LayerScaleUniform, LayerScaleSize)
	case c.HoldNorms && (c.method() != MethodSpred || c.structured()):
		return errors.Wrapf(ErrConfig, "holding filter norms applies to the element-wise pass of method %s only", MethodSpred)
	case c.HoldNorms && c.targetSparsity() > 0 && c.Lambda == 0:
		// The held filters never shrink, so the search's projected
		// sparsity lags and λ is raised until training diverges (resnet-8
		// at 10×, benchmarks/results/resnet/resnet-8-full/variants/hold).
		return errors.Wrap(ErrConfig, "holding filter norms needs a given λ with a target ratio or sparsity: the λ search cannot reach a target while the held filters keep their norms")
	case c.LayerThreshold && (c.method() != MethodSpred || c.structured()):
		return errors.Wrapf(ErrConfig, "a threshold per layer applies to the element-wise pass of method %s only", MethodSpred)
	case (len(c.LayerLambda) > 0 || c.LayerScale == LayerScaleSize) && (!info.Lambda || c.structured()):
		return errors.Wrapf(ErrConfig, "a λ per layer applies to the element-wise passes of method %s only", orList(methodsWith(func(i MethodInfo) bool { return i.Lambda })))
	case c.LayerThreshold && len(c.LayerLambda) == 0 && c.LayerScale != LayerScaleSize:
		return errors.Wrap(ErrConfig, "a threshold per layer scales τ as the λ per layer: give a λ per layer too (LayerScale size or LayerLambda)")
	case bad(c.Threshold):
		return errors.Wrapf(ErrConfig, "threshold must be ≥ 0 and finite, got %v", c.Threshold)
	case c.Epochs < 0:
		return errors.Wrapf(ErrConfig, "epochs must be ≥ 0, got %d", c.Epochs)
	case c.FinetuneEpochs < 0:
		return errors.Wrapf(ErrConfig, "fine-tuning epochs must be ≥ 0, got %d", c.FinetuneEpochs)
	case c.Recalibrate < 0:
		return errors.Wrapf(ErrConfig, "recalibration batches must be ≥ 0, got %d", c.Recalibrate)
	case c.Batch < 0:
		return errors.Wrapf(ErrConfig, "batch must be ≥ 0, got %d", c.Batch)
	case bad(c.LR):
		return errors.Wrapf(ErrConfig, "learning rate must be ≥ 0 and finite, got %v", c.LR)
	case bad(c.FinetuneLR):
		return errors.Wrapf(ErrConfig, "fine-tuning learning rate must be ≥ 0 and finite, got %v", c.FinetuneLR)
	case bad(c.FinetuneDecay):
		return errors.Wrapf(ErrConfig, "fine-tuning weight decay must be ≥ 0 and finite, got %v", c.FinetuneDecay)
	case bad(c.Momentum) || c.Momentum >= 1:
		return errors.Wrapf(ErrConfig, "momentum must be in [0, 1), got %v", c.Momentum)
	case c.Dtype != (tensor.Dtype{}) && c.Dtype != tensor.Float32 && c.Dtype != tensor.Float64:
		return errors.Wrapf(ErrConfig, "dtype must be float32 or float64, got %v", c.Dtype)
	}
	for _, name := range sortedNames(c.LayerLambda) {
		if f := c.LayerLambda[name]; bad(f) {
			return errors.Wrapf(ErrConfig, "λ multiplier of %q must be ≥ 0 and finite, got %v", name, f)
		}
	}
	if err := meth.Validate(c); err != nil {
		return err
	}
	if err := c.Schedule.Validate(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrConfig)
	}
	if err := c.FinetuneSchedule.Validate(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrConfig)
	}
	return nil
}

func (c Config) spredTrain() train.Config {
	return train.Config{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, Nesterov: c.Nesterov,
		WeightDecay: c.Lambda, DecayScale: c.factorScale(), Schedule: c.Schedule, Seed: c.Seed, EvalBatch: c.EvalBatch, Dtype: c.Dtype}
}

// factorScale is the resolved multipliers of λ for the factors'
// learnables: the multiplier of weight p goes to p.u and p.v (nil when
// there is none).
func (c Config) factorScale() map[string]float64 {
	if len(c.layers) == 0 {
		return nil
	}
	out := make(map[string]float64, 2*len(c.layers))
	for name, f := range c.layers {
		out[name+".u"], out[name+".v"] = f, f
	}
	return out
}

// The rules of Config.LayerScale.
const (
	LayerScaleUniform = "uniform" // the same λ on every prunable weight
	LayerScaleSize    = "size"    // λ·√(n/n_max) (SizeScaledLambda)
)

// ResolveLayers returns c ready to run on m: the multiplier of λ of every
// prunable weight, from LayerScale overridden by LayerLambda's names, is
// worked out (and recorded in the report as Settings.Decay), or an error
// names an entry of LayerLambda that is no prunable weight of m, or says
// that m has nothing for HoldNorms to hold. Run and NewPass call it.
func (c Config) ResolveLayers(m *models.Model) (Config, error) {
	if c.HoldNorms {
		names, err := ScaleFree(m)
		if err != nil {
			return c, err
		}
		if len(names) == 0 {
			return c, errors.Wrapf(ErrConfig, "holding filter norms: model %q has no prunable convolution that only a batch norm reads", m.Spec.Name)
		}
	}
	for _, name := range sortedNames(c.LayerLambda) {
		if p := m.Params.Get(name); p == nil || !p.Prunable {
			return c, errors.Wrapf(ErrConfig, "λ multiplier for %q: the model has no prunable weight of that name (its prunable weights: %s)", name, strings.Join(prunableNames(m), ", "))
		}
	}
	out := map[string]float64{}
	if c.LayerScale == LayerScaleSize {
		out = SizeScaledLambda(m)
	}
	for name, f := range c.LayerLambda {
		out[name] = f
	}
	for name, f := range out {
		if f == 1 {
			delete(out, name)
		}
	}
	c.layers = nil
	if len(out) > 0 {
		c.layers = out
	}
	return c, nil
}

func prunableNames(m *models.Model) []string {
	var out []string
	for _, p := range m.Params.Prunable() {
		out = append(out, p.Name)
	}
	return out
}

// sortedNames returns the keys of m in order.
func sortedNames(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SizeScaledLambda returns the λ multipliers that scale the penalty of
// every prunable weight with the square root of its size relative to the
// largest one, √(n/n_max): the small layers, whose every weight carries
// more of the function, are penalised less (LeNet-300-100: fc2/W ×0.36,
// fc3/W ×0.065).
func SizeScaledLambda(m *models.Model) map[string]float64 {
	largest := 0
	for _, p := range m.Params.Prunable() {
		largest = max(largest, p.Value.Shape().TotalSize())
	}
	out := map[string]float64{}
	for _, p := range m.Params.Prunable() {
		out[p.Name] = math.Sqrt(float64(p.Value.Shape().TotalSize()) / float64(largest))
	}
	return out
}

func (c Config) finetuneTrain() train.Config {
	return train.Config{Epochs: c.FinetuneEpochs, Batch: c.Batch, LR: c.FinetuneLR, Momentum: c.Momentum, Nesterov: c.Nesterov,
		WeightDecay: c.FinetuneDecay, Schedule: c.FinetuneSchedule, Seed: c.Seed + 1, EvalBatch: c.EvalBatch, Dtype: c.Dtype}
}

// orList joins names as "a", "a or b", "a, b or c" ("none" for no name).
func orList(names []string) string {
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
