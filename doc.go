// Package spred is the root of spred-go, a toolkit that makes trained neural
// networks sparse with spred (Ziyin & Wang, ICML 2023): every prunable weight
// w is rewritten as u⊙v and trained with plain weight decay on u and v, which
// is exactly an L1 penalty on w.
//
// The work is split by package: models (specs, parameters, model files),
// dataset (MNIST and CSV data), graph (Gorgonia graphs and their VM), train
// (SGD and the training loop), compress (the spred pass) and cmd/spred (the
// command line).
package spred

// Version is the toolkit's version, recorded in every file and report it
// writes.
const Version = "0.2.0"

// Tool is the name and version written into model provenance.
const Tool = "spred-go " + Version
