// Package compress makes a trained network sparse with spred (Ziyin & Wang,
// "spred: Solving L1 Penalty with SGD", ICML 2023).
//
// # Why weight decay on u and v is L1 on w
//
// Every prunable weight tensor w is rewritten as the element-wise product
// w = u⊙v of two tensors of its shape, and plain weight decay λ is put on u
// and v:
//
//	min over (u, v):  L(u⊙v) + (λ/2)·(‖u‖² + ‖v‖²)
//
// For every entry (u² + v²)/2 ≥ |u·v|, with equality exactly when |u| = |v|,
// and any w can be split with |u| = |v| = √|w|. So the minimum over (u, v)
// of the right-hand side equals the minimum over w of L(w) + λ‖w‖₁, and at
// every stationary point the factors are balanced, so the L1 reading is
// exact there. Unlike |w|, the reparametrised objective is smooth: plain SGD
// with weight decay solves it, and the weights that the L1 solution wants at
// zero shrink towards zero geometrically. They never reach exactly zero, so
// the pass thresholds |u⊙v| < τ to exact zeros.
//
// The scale matters: with L the mean loss over a batch and the update
// u ← u − η(∂L/∂u + λu) (package train's SGD), the penalty is exactly λ‖w‖₁
// on the mean loss. Gorgonia's own solvers rescale their L2 term by the batch
// size or apply it to the velocity; they are not used.
//
// # The pass
//
// Run is the front door:
//
//	report, err := compress.Run(ctx, model, data, cfg, recorder)
//
// It evaluates the dense model, splits every prunable weight into balanced
// factors u = sign(w)·√|w|, v = √|w| (the network computes exactly the same
// function; with Config.FromScratch the factors are drawn independently from
// the seed instead), trains u, v and the biases with SGD where the decay λ
// applies to u and v only (biases are not decayed), optionally thresholds
// at the start of every epoch, thresholds at the end, collapses each pair
// back into one dense w with exact zeros (the output model has the original
// architecture and no trace of the rewrite), optionally fine-tunes the
// surviving weights with the zero mask held fixed and no penalty (or plain
// weight decay on them, Config.FinetuneDecay), and
// returns a Report: per-layer non-zeros, compression ratios and the accuracy
// at every stage.
//
// # Asking for the result instead of λ
//
// The sparsity a λ gives depends on the learning rate, the number of steps
// and the model, so Config.TargetRatio (or Config.TargetSparsity) asks for
// the compression ratio itself, for spred (element-wise or structured) and
// l1 alike. λ is then found during the run by continuation (see Target):
// it starts small and grows geometrically at regular checks while the
// projected sparsity (the weights on course to fall below τ by the end,
// at the rate each has been shrinking) is below the target, and is held
// from the first check where it is not, lowered step by step while the
// projection overshoots the target by more than 20%. Per-epoch thresholding zeroes at
// most the target's share, and the final threshold is set from the trained
// magnitudes so that the ratio is the one asked (for a structured pass,
// after thinning). No data enters these choices, so the test set never
// does; Config.ValFraction holds out a validation split of the training
// set whose figures the report gives next to the test ones. The search
// state is part of every Checkpoint: a resumed run is bit-identical.
//
// # Structured passes on residual networks
//
// With Config.Structure neuron, filter or mixed, chains are factorised per
// unit (SplitGroups: w_unit = g·V, a group lasso). Residual networks and
// networks with batch norm are thinned by channel spaces
// (models.CoupledChannels): channels joined by a residual add are removed
// together or not at all. There each channel of a space is one group
// (SplitCoupled): the filters of every convolution writing into the space
// with their biases, and the scales and shifts of its batch norms. The
// group lasso λ Σ‖group‖₂ goes through the same rewrite as on chains: one
// scale g_c per channel of the space and a factor V of every tensor of the
// group, w = g_c·V, with weight decay λ on g and every V (equal to the group
// lasso at balance, |g_c| = ‖V_group‖). The weights reach the factors
// through the graph.WeightSource seam, the biases and batch-norm scales and
// shifts through its optional extension graph.ParamSource. The thresholded
// groups are channels that are zero wherever they are read, and models.Thin
// removes them from every layer of their space.
//
// # Baselines
//
// Config.Method selects a baseline instead, run under the same epoch budget,
// data, learning-rate settings and fine-tuning, and reported in the same
// Report (Settings.Method says which):
//
//   - MethodMagnitude, iterative magnitude pruning with retraining (Han et
//     al. 2015): the Epochs are split over Config.Rounds rounds; each prunes
//     the smallest-magnitude prunable weights (all layers ranked together)
//     up to 1 − (1 − TargetSparsity)^(r/Rounds) (TargetSparsity, or
//     1 − 1/TargetRatio) and retrains the dense
//     weights with the zeros held (RetrainDecay on the prunable weights).
//     The trained and thresholded stages are the same model.
//   - MethodL1: dense SGD with the subgradient λ·sign(w) (sign(0) = 0) on
//     the prunable weights (train.Config.L1), then |w| < τ to exact zeros.
//
// # Methods
//
// A method is a Method registered under its name (Register; Lookup,
// MethodNames): its defaults and recipe, its validation, what it supports
// (MethodInfo: structures, from-scratch factors, targets, λ and τ, rounds,
// resuming) and its training phase, which runs on the Session Run prepares
// (the working model, the data, the report, the recorder, evaluation and
// checkpoints). Run keeps what all methods share: validation of the shared
// fields, the dense and validation evaluations, fine-tuning with the mask
// the phase returns, the counts and the report. The command line and its
// sweeps take any registered method by name, and Config.Method stays that
// name in reports, recipes and checkpoints.
//
// # Checkpoints
//
// Every method and structure of this package checkpoints: a Recorder that is also a
// Checkpointer receives a Checkpoint after every epoch of every phase (a
// magnitude round, the spred or L1 training, the fine-tuning of the pruned
// or thinned model) and when the context is cancelled, and Config.Resume
// continues from it bit-identically. A checkpoint from another tool
// version, configuration or input model is refused (ErrCheckpoint), and so
// is one holding a field the run could not have written (an unknown phase
// or round, an epoch beyond the phase, a mask outside the weights, a
// thinned spec wider than the input; train.ErrResume for the training
// state): the error names the field.
//
// # Defaults
//
// The zero Config is bare (no momentum, no fine-tuning); DefaultConfig is
// the recipe `spred compress` runs, whose flags read their defaults from it,
// and DefaultConfigFor gives the baselines and the structures their own
// learning rate. Validate refuses λ = 0 for method spred, which could not
// compress. The effect of λ grows with lr × steps (see Config.Lambda).
//
// # In a training loop of one's own
//
// A Pass is the spred phase of Run driven by the caller: NewPass splits the
// weights, BeginEpoch thresholds (clearing the momentum of what it zeroes),
// Step trains on a batch (or the caller steps a graph of Pass.Model with
// Pass.Factors as its WeightSource), FinishEpoch measures, and Finish
// collapses the factors into a dense model with exact zeros and a Report.
// Run's own spred phase is a Pass driven by train.Fit.
//
// # On a Gorgonia graph of one's own
//
// A network written directly in Gorgonia needs none of package models or
// graph: Rewrite turns a weight into the node u⊙v with the factors as
// learnables, Penalty is the node (λ/2)·Σ(u² + v²) to add to the loss for
// Gorgonia's solvers, NodePair.Threshold makes the small weights exactly
// zero, and Collapse returns the dense weights for models.WriteTensorsFile
// (plain safetensors) or a model of one's own spec.
//
// The smaller pieces are usable on their own too: Split makes the factors,
// which are a graph.WeightSource that any graph built by package graph
// accepts; train.Fit trains them; Factors.Threshold and Factors.Collapse
// finish the job.
package compress
