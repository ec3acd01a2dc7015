// Package train fits models with minibatch SGD.
//
// The optimizer is written here rather than taken from Gorgonia: Gorgonia's
// VanillaSolver divides its L2 term by the batch size when WithBatchSize is
// set, and its MomentumSolver applies decay to the velocity rather than to
// the weights. SGD implements, for every learnable w with gradient g of the
// mean batch loss,
//
//	d = g + λ·w            (λ = WeightDecay, only for learnables marked Decay)
//	v = μ·v + d            (μ = Momentum; v starts at 0)
//	w = w − η·(d + μ·v)    with Nesterov, else w = w − η·v
//
// which is the update PyTorch's SGD makes and whose fixed points minimise
// L(w) + (λ/2)·‖w‖².
//
// Fit runs epochs of seeded shuffled minibatches with a learning-rate
// Schedule (or any Config.Rate of the epoch and step, such as a warm-up),
// evaluates on held-out data after every epoch, reports to a Recorder, and
// lets callers hook in before each epoch and after each step (package
// compress thresholds and masks weights there). A hook stops the run
// cleanly by returning ErrStop (early stopping): the epochs that ran, the
// last one included, are in the returned history. Same seed, same
// configuration: bit-identical parameters.
//
// Evaluation (Evaluator, Evaluate, the held-out data of Fit) runs a float32
// model through package infer's engine, the weights a WeightSource stands
// for collapsed into a copy of the parameters (see Collapser), and computes
// infer.Metrics with infer.Tally; float64 models, whose precision the
// float32 engine would lose, and sources that cannot collapse run through
// forward graphs.
package train
