// Package lasso fits L1-penalised linear and logistic regression exactly,
// the spred way: the coefficients are written b = u⊙v and the smooth
// function L(u⊙v, b0) + (λ/2)(‖u‖² + ‖v‖²) is minimised by L-BFGS, which
// has the same minimum as L(b, b0) + λ‖b‖₁ (see Solve). It is the check
// that the rewrite solves the problem it claims to: testdata holds Lasso
// problems with glmnet's solutions, which the tests match to 1e-6. It backs
// `spred lasso` and featsel's L1-logistic baseline.
package lasso
