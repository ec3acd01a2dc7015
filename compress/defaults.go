package compress

import (
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/train"
)

// DefaultConfig returns the recipe `spred compress` runs with its default
// flags (the settings of the README's LeNet-300-100 result): method spred,
// element-wise, λ = 1.5e-4, τ = 3e-3 with thresholding at every epoch
// start, 10 epochs of SGD at a constant lr 0.3 with momentum 0.9 and batch
// 100, then 5 epochs of masked fine-tuning at lr 0.003 on a cosine
// schedule (batch-norm statistics re-estimated on 20 batches before it),
// seed 1, float32. The command line reads its flag defaults from
// here, so a program that starts from DefaultConfig and changes a few
// fields runs what the command runs with the same flags.
//
// The spred phase takes a larger learning rate than dense training: the
// factors move w at an effective rate of about 2·lr·|w|. It is constant,
// because the weights that should die shrink by a factor of about
// 1 − 2·lr·λ/(1 − momentum) per step (see Config.Lambda).
//
// The zero Config is not this recipe: its zero fields mean the bare
// defaults documented on each field (no momentum, no fine-tuning, lr 0.05).
func DefaultConfig() Config {
	return Config{
		Method:         MethodSpred,
		Lambda:         1.5e-4,
		Threshold:      3e-3,
		EpochThreshold: true,
		Epochs:         10,
		Batch:          100,
		LR:             0.3,
		Momentum:       0.9,
		Schedule:       train.Schedule{Kind: train.Constant, Gamma: 0.1},

		FinetuneEpochs:   5,
		FinetuneLR:       0.003,
		FinetuneSchedule: train.Schedule{Kind: train.Cosine},

		Recalibrate: 20,

		Seed:  1,
		Dtype: tensor.Float32,
	}
}

// DefaultConfigFor returns the recipe of the registered method and structure
// ("" for either means spred or element-wise), Method.DefaultConfig: with
// the learning rate that suits it. The baselines MethodMagnitude and
// MethodL1 train w itself and take a dense-training rate of 0.02 (spred's
// 0.3 moves w only at about 2·0.3·|w|); the grouped structures take 0.05,
// since a unit's factors move w_unit at about lr·‖w_unit‖₂, near 1 for a
// trained neuron. Magnitude pruning runs 3 rounds and still needs
// Config.TargetSparsity, which has no default. An unknown method gets
// DefaultConfig with that Method, which Validate rejects.
func DefaultConfigFor(method, structure string) Config {
	if method == "" {
		method = MethodSpred
	}
	m, err := Lookup(method)
	if err != nil {
		return methodDefault(method, structure)
	}
	return m.DefaultConfig(structure)
}
