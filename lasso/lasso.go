package lasso

import (
	"context"
	"math"

	"github.com/pkg/errors"
)

// Family names the data loss of a penalised linear model fitted by Solve.
type Family string

// The loss families Solve supports.
const (
	// FamilyGaussian is least squares: L(b, b0) = 1/(2n)·‖y − Xb − b0‖².
	FamilyGaussian Family = "gaussian"
	// FamilyBinomial is logistic regression with labels in {0, 1}:
	// L(b, b0) = −1/n·Σᵢ (yᵢηᵢ − log(1 + exp(ηᵢ))) with η = Xb + b0.
	FamilyBinomial Family = "binomial"
)

// Defaults used by Solve for the zero values of Config's fields.
const (
	// DefaultTol is the convergence tolerance on the relative change
	// of the spred objective used when Config.Tol is 0. It is below
	// float64 precision on purpose: Solve computes objective changes from
	// the changes of the parameters, accurate far below the rounding error
	// of the objective itself, and on ill-conditioned problems a relative
	// change of 1e-15 still leaves coefficient errors of order 1e-8.
	DefaultTol = 1e-20
	// DefaultMaxIter is the iteration limit used when
	// Config.MaxIter is 0.
	DefaultMaxIter = 100000
)

// stallIters is the number of consecutive iterations whose relative
// objective change must stay below Tol before Solve stops.
const stallIters = 10

// eps is float64's machine epsilon.
const eps = 0x1p-52

// Config configures Solve.
type Config struct {
	// Family is the data loss: FamilyGaussian or FamilyBinomial; "" means
	// FamilyGaussian.
	Family Family
	// Lambda is the L1 penalty coefficient λ ≥ 0 on the mean loss: the
	// fitted objective is L(b, b0) + λ‖b‖₁.
	Lambda float64
	// Intercept fits an unpenalised intercept b0. The intercept is an
	// ordinary parameter: it is not factorised and not decayed. Without it
	// b0 is 0.
	Intercept bool
	// Tol is the convergence tolerance: the solver stops once the relative
	// change |ΔF|/|F| of the spred objective F(u, v, b0) has stayed at or
	// below Tol for 10 consecutive iterations (|F| is taken as at least
	// sqrt(ε)·|F| at the start, ε the float64 machine epsilon, so that a
	// minimum of 0 stops too), or when no step decreases F any more. 0
	// means DefaultTol (1e-20). It must be below 1: a relative change
	// of 1 or more is met by almost any step, so that the solver would stop
	// at once and report convergence.
	Tol float64
	// MaxIter caps the number of solver iterations; 0 means
	// DefaultMaxIter. Hitting it returns a result with Converged false.
	MaxIter int
	// Threshold: coefficients with |u⊙v| < Threshold are set to exactly 0
	// at the end. 0 means sqrt(Tol)·max(1, max_j |u_j·v_j|) (1e-10 for the
	// default Tol, scaled by the largest coefficient when that exceeds 1).
	// Rationale: at a relative objective error ε a coefficient that the L1
	// problem sets to 0 is left at about ε·|F|/(λ − |∂L/∂b_j|), far below
	// sqrt(ε), while the others are accurate to about sqrt(ε·|F|/μ), μ the
	// curvature; sqrt(Tol) separates the two. Negative means no
	// thresholding.
	Threshold float64
}

// Result is a fitted L1-penalised linear model.
type Result struct {
	// Coef holds the d coefficients b = u⊙v after thresholding.
	Coef []float64 `json:"coef"`
	// Intercept is b0 (0 without Config.Intercept).
	Intercept float64 `json:"intercept"`
	// NonZero counts the non-zero entries of Coef.
	NonZero int `json:"nonzero"`
	// Objective is the L1 objective L(b, b0) + λ‖b‖₁ at the returned
	// (thresholded) coefficients, as Objective computes it.
	Objective float64 `json:"objective"`
	// Iterations is the number of solver iterations run.
	Iterations int `json:"iterations"`
	// Converged reports whether the stopping rule was met before MaxIter.
	Converged bool `json:"converged"`
}

func (f Family) orDefault() Family {
	if f == "" {
		return FamilyGaussian
	}
	return f
}

// Validate checks the configuration on its own, without data: a known
// family, λ and MaxIter finite and not negative, Tol in [0, 1).
func (c Config) Validate() error {
	switch c.Family.orDefault() {
	case FamilyGaussian, FamilyBinomial:
	default:
		return errors.Errorf("lasso: unknown family %q (want %q or %q)", string(c.Family), FamilyGaussian, FamilyBinomial)
	}
	if math.IsNaN(c.Lambda) || math.IsInf(c.Lambda, 0) || c.Lambda < 0 {
		return errors.Errorf("lasso: lambda must be a finite number ≥ 0, got %v", c.Lambda)
	}
	if !(c.Tol >= 0 && c.Tol < 1) {
		return errors.Errorf("lasso: tol must be in [0, 1) (a relative change of the objective), got %v", c.Tol)
	}
	if c.MaxIter < 0 {
		return errors.Errorf("lasso: max-iter must be ≥ 0, got %d", c.MaxIter)
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return errors.Errorf("lasso: threshold must be a finite number, got %v", c.Threshold)
	}
	return nil
}

// validateData checks the shapes and values of a problem.
func validateData(X []float64, n, d int, y []float64, fam Family) error {
	if n <= 0 {
		return errors.Errorf("lasso: need at least one sample, got n = %d", n)
	}
	if d <= 0 {
		return errors.Errorf("lasso: need at least one feature, got d = %d", d)
	}
	if n > math.MaxInt/d {
		return errors.Errorf("lasso: n×d = %d×%d overflows", n, d)
	}
	if len(X) != n*d {
		return errors.Errorf("lasso: X has %d values, want n×d = %d×%d = %d", len(X), n, d, n*d)
	}
	if len(y) != n {
		return errors.Errorf("lasso: y has %d values, want n = %d", len(y), n)
	}
	for k, x := range X {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.Errorf("lasso: X[%d][%d] = %v is not finite", k/d, k%d, x)
		}
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.Errorf("lasso: y[%d] = %v is not finite", i, v)
		}
		if fam == FamilyBinomial && v != 0 && v != 1 {
			return errors.Errorf("lasso: binomial y[%d] = %v, want 0 or 1", i, v)
		}
	}
	return nil
}

// Solve fits the L1-penalised linear model
//
//	min over b, b0:  L(b, b0) + λ‖b‖₁
//
// on the n×d row-major design X (no standardisation) and the responses y,
// the spred way: it writes b = u⊙v and minimises the smooth function
//
//	F(u, v, b0) = L(u⊙v, b0) + (λ/2)(‖u‖² + ‖v‖²)
//
// over (u, v, b0), whose gradient is ∂F/∂u = v⊙∇L(b) + λu,
// ∂F/∂v = u⊙∇L(b) + λv and ∂F/∂b0 = ∂L/∂b0. Since (u² + v²)/2 ≥ |uv| with
// equality when |u| = |v|, min F equals the L1 minimum, and every local
// minimum of F is a global minimum of the (convex) L1 problem.
//
// The minimiser is L-BFGS on (u, v, b0): full-batch gradients, a
// Wolfe line search, and as initial inverse Hessian the inverses of the 2×2
// diagonal blocks ∂²F/∂(u_j, v_j)² (eigenvalues replaced by their absolute
// values), which removes the |b_j|-dependent scaling that the product
// u⊙v gives each coordinate. The start is deterministic: u = c, v = 0, with
// c the square root of the size of the largest one-feature least-squares
// coefficient, and b0 the intercept-only fit. (Not (u, v) = 0, a saddle
// point, and not u = v, which keeps u⊙v ≥ 0 for ever.)
//
// It stops when the relative change of F has stayed at or below
// Config.Tol for 10 consecutive iterations, or when the line search can
// no longer decrease F in float64 arithmetic (both count as converged), or
// after MaxIter iterations (Converged false), or with ctx's error when ctx is
// done. Then coefficients with |u⊙v| below the threshold (see
// Config.Threshold) become exactly 0 and b = u⊙v is returned.
//
// One case is decided without iterating: when the KKT conditions hold at
// b = 0 with the optimal intercept, that is ‖∇_b L(0, b0)‖∞ ≤ λ (up to a
// relative 1e-12, i.e. λ ≥ λ_max = ‖Xᵀy‖∞/n for gaussian without
// intercept), b = 0 is the exact solution and is returned with Iterations
// 0. (Near λ_max the spred iteration approaches 0 only sublinearly.)
//
// X and y are not modified. Errors are returned for a bad configuration,
// mismatched lengths, n or d of 0, values that are not finite, binomial
// labels other than 0 and 1, and binomial labels that are all equal when an
// intercept is fitted (no minimum exists then).
func Solve(ctx context.Context, X []float64, n, d int, y []float64, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fam := cfg.Family.orDefault()
	if err := validateData(X, n, d, y, fam); err != nil {
		return nil, err
	}
	if fam == FamilyBinomial && cfg.Intercept {
		ones := 0
		for _, v := range y {
			if v == 1 {
				ones++
			}
		}
		if ones == 0 || ones == n {
			return nil, errors.Errorf("lasso: binomial y is all %v; with an intercept the loss has no minimum", y[0])
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.Wrap(err, "lasso")
	}
	tol := cfg.Tol
	if tol == 0 {
		tol = DefaultTol
	}
	maxIter := cfg.MaxIter
	if maxIter == 0 {
		maxIter = DefaultMaxIter
	}
	p := newProblem(X, n, d, y, fam, cfg.Lambda, cfg.Intercept)
	x, gmax := p.start()
	var st solverState
	if gmax <= cfg.Lambda*(1+1e-12) {
		// b = 0 satisfies the KKT conditions: it is the solution.
		for j := 0; j < 2*d; j++ {
			x[j] = 0
		}
		st.converged = true
	} else {
		var err error
		if st, err = minimize(ctx, p, x, tol, maxIter); err != nil {
			return nil, err
		}
	}
	coef := make([]float64, d)
	maxAbs := 0.0
	for j := range coef {
		coef[j] = x[j] * x[d+j]
		maxAbs = math.Max(maxAbs, math.Abs(coef[j]))
	}
	thr := cfg.Threshold
	if thr == 0 {
		thr = math.Sqrt(tol) * math.Max(1, maxAbs)
	}
	nz := 0
	for j, c := range coef {
		if math.Abs(c) < thr || c == 0 {
			coef[j] = 0 // also turns −0 into 0
		} else {
			nz++
		}
	}
	b0 := 0.0
	if cfg.Intercept {
		b0 = x[2*d]
	}
	return &Result{
		Coef:       coef,
		Intercept:  b0,
		NonZero:    nz,
		Objective:  Objective(X, n, d, y, coef, b0, fam, cfg.Lambda),
		Iterations: st.iters,
		Converged:  st.converged,
	}, nil
}
