// Package featsel selects input features with spred: a gate vector s, one
// entry per feature, multiplies the input before the first layer of a
// linear or one-hidden-layer (ReLU) softmax head,
//
//	x → (s⊙x) → head,
//
// and weight decay (λ/2)(‖s‖² + ‖W1‖²) on the gate and the first layer's
// weights is, at the minimum over the split, the group lasso
// λ·Σ_j ‖s_j·W1_j‖ over the rows of the effective first layer
// V_j = s_j·W1_j: for every feature (s_j² + ‖W1_j‖²)/2 ≥ |s_j|·‖W1_j‖ with
// equality when |s_j| = ‖W1_j‖. A feature whose row is zero is dropped; the
// survivors are ranked by |s_j|. With two classes and the linear head this
// is exactly L1-penalised logistic regression at λ/√2 (the logit
// difference b_j = V_j2 − V_j1 costs at least |b_j|/√2), which the tests
// check against lasso.Solve.
//
// # Solver
//
// The problems this package is for are small and wide: a few hundred
// samples, tens of thousands of features (the gene-expression table has
// 128 × 12,625). They are solved full-batch in plain Go with float64
// arithmetic and a hand-written L-BFGS, not through Gorgonia graphs: a
// graph would need a fixed input width, its float32 arithmetic is too
// coarse to tell a zero group from a small one, and a per-fit graph
// compilation would cost more than the fit. The fit uses a working set:
// the net is trained on the features in the set only; a feature outside it
// sits at a local minimum (s_j = 0, W1_j = 0) exactly when the gradient of
// the loss with respect to its effective row has norm at most λ (the
// Hessian block of (s_j, W1_j) there is [[λ, gᵀ], [g, λI]]), so one pass
// over all features finds the violators, the largest of which join the
// set, until none is left. For the convex heads (linear, and the
// l1-logistic baseline) this changes the cost, not the answer. A fit
// touches the full matrix only to compute those gradient norms, so memory
// stays at the data plus a few working arrays of the width of the data.
//
// Rows whose ‖s_j·W1_j‖ falls below Config.Threshold times the largest
// are set to exactly 0 after every round, as the compression pass
// thresholds |u⊙v|.
//
// # Heads
//
// The MLP head's output layer is weight-normalised (every row of W2 is
// used at unit length): with a ReLU hidden layer, scaling W1 and b1 down
// and W2 up leaves the function unchanged, so a free W2 would let the
// penalty on W1 be driven to 0; decaying W2 instead makes the origin of
// the three factors (s, W1, W2) a local minimum at every λ, into which the
// fits collapse. The MLP is not convex: every fit starts from the same
// point drawn from Config.Seed, so that the features it selects depend on
// λ alone, not on the path of a search; a feature thresholded out does
// not re-enter within a fit (the linear head lets it back, its fits being
// convex).
//
// # Selection by count, refit, cross-validation
//
// With Config.Features = K, Select bisects log λ between λ_max (no feature
// survives) and a λ at which more than K survive, and returns the
// smallest λ tried at which at most K survive; when several features
// enter at once (the MLP's selection grows in jumps), it takes the K
// highest-ranked features of the fit at the lower end of the final
// bracket instead. SelectTargets shares the fits among several targets.
// Select then refits the head on the selected features alone, without the
// gate and with a small ridge decay, and that model classifies held-out
// rows.
//
// CrossValidate runs the whole pipeline inside every fold of a stratified
// k-fold split, repeated with several seeds: the standardisation (mean and
// standard deviation of every feature) is fitted on the training rows of
// the fold alone, and the selection, including the λ search, sees only
// those rows, so no held-out row leaks into the choice of features. It
// reports the accuracy, the number of features, how often each feature was
// selected across folds and the overlap (Jaccard index) of the fold
// selections. A feature constant on a training fold is standardised to 0
// and can never be selected.
package featsel
