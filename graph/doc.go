// Package graph builds Gorgonia expression graphs from a models.Spec and
// runs them.
//
// Parameters live outside the graph, in a models.Params set: every graph
// binds its learnable nodes to those tensors, so a training graph and an
// evaluation graph of another batch size (Gorgonia bakes the batch size into
// the shapes) share the same values, and an update written into a parameter
// is seen by every graph at once.
//
// Every prunable weight is obtained through one seam, the WeightSource: the
// Plain source returns a node bound to the weight itself; package compress
// supplies a source that returns u⊙v instead and registers u and v as the
// learnables. No layer knows which source it is given.
//
// A Session owns the Gorgonia VM of one graph: it binds a batch, runs the
// forward (and, for a training graph, backward) pass, resets the machine
// after every run so no stale value can be read, and closes it. Gradients
// are read from the gradient nodes of the last run; nothing accumulates
// across runs.
//
// A graph follows the spec's layer graph (models.Spec.Nodes): every layer
// reads the outputs of the layers it names, so residual sums work. Each
// layer kind has one builder, registered in layers.go.
//
// Batch-norm running statistics (the "name/mean" and "name/var" buffers)
// are bound as plain nodes, not learnables: a training session updates
// those parameter tensors in place once per Run, with PyTorch's momentum
// rule; an evaluation session normalises with them.
//
// The graph package knows nothing about compression or optimisation: the
// training loop lives in package train.
package graph
