// Package spred is the root of spred-go, a toolkit that makes trained neural
// networks sparse with spred (Ziyin & Wang, ICML 2023): every prunable weight
// w is rewritten as u⊙v and trained with plain weight decay on u and v, which
// is exactly an L1 penalty on w.
//
// The work is split by package, with imports running one way
// (models ← graph ← train ← compress ← sweep ← cmd/spred):
//
//   - models: architecture specs (graphs of layers), named parameters, the
//     zoo, safetensors model files, thinning
//   - dataset: image folders (MNIST, Fashion-MNIST, CIFAR-10), CSV tables,
//     augmentation, normalisation
//   - graph: Gorgonia graphs built from a spec, the WeightSource seam, the
//     session that owns the VM, fused ops, the BLAS backend
//   - train: SGD and the training loop, checkpoint state
//   - compress: the spred pass, its baselines and structured form, reports
//   - infer: the graph-free engine for evaluation and deployment (dense or
//     CSR products per layer)
//   - interop: ONNX import and export
//   - sweep: grids of runs, tables and Pareto plots
//   - sensitivity: per-layer pruning sensitivity
//   - lasso: the exact L1 solver that checks the rewrite against glmnet
//   - featsel: feature selection with an input gate and a group lasso
//   - cmd/spred: the command line
package spred

// Version is the toolkit's version, recorded in every file and report it
// writes.
const Version = "0.2.0"

// Tool is the name and version written into model provenance.
const Tool = "spred-go " + Version
