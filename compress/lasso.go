package compress

import (
	"context"
	"math"

	"github.com/pkg/errors"
)

// Family names the data loss of a penalised linear model fitted by Lasso.
type Family string

// The loss families Lasso supports.
const (
	// FamilyGaussian is least squares: L(b, b0) = 1/(2n)·‖y − Xb − b0‖².
	FamilyGaussian Family = "gaussian"
	// FamilyBinomial is logistic regression with labels in {0, 1}:
	// L(b, b0) = −1/n·Σᵢ (yᵢηᵢ − log(1 + exp(ηᵢ))) with η = Xb + b0.
	FamilyBinomial Family = "binomial"
)

// Defaults used by Lasso for the zero values of LassoConfig's fields.
const (
	// DefaultLassoTol is the convergence tolerance on the relative change
	// of the spred objective used when LassoConfig.Tol is 0. It is below
	// float64 precision on purpose: Lasso computes objective changes from
	// the changes of the parameters, accurate far below the rounding error
	// of the objective itself, and on ill-conditioned problems a relative
	// change of 1e-15 still leaves coefficient errors of order 1e-8.
	DefaultLassoTol = 1e-20
	// DefaultLassoMaxIter is the iteration limit used when
	// LassoConfig.MaxIter is 0.
	DefaultLassoMaxIter = 100000
)

// lassoStallIters is the number of consecutive iterations whose relative
// objective change must stay below Tol before Lasso stops.
const lassoStallIters = 10

// lassoEps is float64's machine epsilon.
const lassoEps = 0x1p-52

// LassoConfig configures Lasso.
type LassoConfig struct {
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
	// means DefaultLassoTol (1e-20). It must be below 1: a relative change
	// of 1 or more is met by almost any step, so that the solver would stop
	// at once and report convergence.
	Tol float64
	// MaxIter caps the number of solver iterations; 0 means
	// DefaultLassoMaxIter. Hitting it returns a result with Converged false.
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

// LassoResult is a fitted L1-penalised linear model.
type LassoResult struct {
	// Coef holds the d coefficients b = u⊙v after thresholding.
	Coef []float64 `json:"coef"`
	// Intercept is b0 (0 without LassoConfig.Intercept).
	Intercept float64 `json:"intercept"`
	// NonZero counts the non-zero entries of Coef.
	NonZero int `json:"nonzero"`
	// Objective is the L1 objective L(b, b0) + λ‖b‖₁ at the returned
	// (thresholded) coefficients, as LassoObjective computes it.
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
func (c LassoConfig) Validate() error {
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

// validateLassoData checks the shapes and values of a problem.
func validateLassoData(X []float64, n, d int, y []float64, fam Family) error {
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

// LassoObjective returns L(b, b0) + λ‖b‖₁ for the family fam ("" means
// gaussian) on the n×d row-major X and y (see FamilyGaussian and
// FamilyBinomial for L). It does not validate its inputs: lengths must
// match (len(X) = n·d, len(y) = n, len(b) = d), and it returns NaN for an
// unknown family.
func LassoObjective(X []float64, n, d int, y []float64, b []float64, b0 float64, fam Family, lambda float64) float64 {
	fam = fam.orDefault()
	if fam != FamilyGaussian && fam != FamilyBinomial {
		return math.NaN()
	}
	var loss float64
	for i := 0; i < n; i++ {
		row := X[i*d : (i+1)*d]
		eta := b0
		for j, x := range row {
			eta += x * b[j]
		}
		loss += lassoPointLoss(fam, eta, y[i])
	}
	loss /= float64(n)
	var l1 float64
	for _, v := range b {
		l1 += math.Abs(v)
	}
	return loss + lambda*l1
}

// lassoPointLoss is one sample's loss (before the 1/n).
func lassoPointLoss(fam Family, eta, y float64) float64 {
	if fam == FamilyBinomial {
		return lassoLog1pExp(eta) - y*eta
	}
	r := eta - y
	return 0.5 * r * r
}

// lassoLog1pExp is log(1 + exp(x)) without overflow or loss of precision.
func lassoLog1pExp(x float64) float64 {
	switch {
	case x > 35:
		return x + math.Exp(-x)
	case x > -37:
		return math.Log1p(math.Exp(x))
	default:
		return math.Exp(x)
	}
}

// lassoSigmoid is 1/(1 + exp(−x)) without overflow.
func lassoSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Lasso fits the L1-penalised linear model
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
// LassoConfig.Tol for 10 consecutive iterations, or when the line search can
// no longer decrease F in float64 arithmetic (both count as converged), or
// after MaxIter iterations (Converged false), or with ctx's error when ctx is
// done. Then coefficients with |u⊙v| below the threshold (see
// LassoConfig.Threshold) become exactly 0 and b = u⊙v is returned.
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
func Lasso(ctx context.Context, X []float64, n, d int, y []float64, cfg LassoConfig) (*LassoResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fam := cfg.Family.orDefault()
	if err := validateLassoData(X, n, d, y, fam); err != nil {
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
		tol = DefaultLassoTol
	}
	maxIter := cfg.MaxIter
	if maxIter == 0 {
		maxIter = DefaultLassoMaxIter
	}
	p := newLassoProblem(X, n, d, y, fam, cfg.Lambda, cfg.Intercept)
	x, gmax := p.start()
	var st lassoLBFGSState
	if gmax <= cfg.Lambda*(1+1e-12) {
		// b = 0 satisfies the KKT conditions: it is the solution.
		for j := 0; j < 2*d; j++ {
			x[j] = 0
		}
		st.converged = true
	} else {
		var err error
		if st, err = lassoLBFGS(ctx, p, x, tol, maxIter); err != nil {
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
	return &LassoResult{
		Coef:       coef,
		Intercept:  b0,
		NonZero:    nz,
		Objective:  LassoObjective(X, n, d, y, coef, b0, fam, cfg.Lambda),
		Iterations: st.iters,
		Converged:  st.converged,
	}, nil
}

// lassoProblem is the spred objective F(u, v, b0) of one problem. Its
// parameter vector holds u (d values), then v (d values), then b0 if
// intercept.
type lassoProblem struct {
	X         []float64
	n, d      int
	y         []float64
	fam       Family
	lambda    float64
	intercept bool

	eta, r, g []float64 // linear predictor, dL/dη and ∇L(b) at the point last evaluated
	eta0      []float64 // linear predictor at the base point of evalStep
	w, dw     []float64 // scratch: u⊙v and its change
	hdiag     []float64 // diagonal of ∇²L(b), its largest entry, and ∂²L/∂b0²
	hmax, h0  float64
	hdone     bool // hdiag is set (gaussian: it does not depend on b)
	// pre holds the preconditioner: for each j the symmetric 2×2 block
	// (pre[3j], pre[3j+1]; pre[3j+1], pre[3j+2]) acting on (u_j, v_j), then
	// the factor for b0.
	pre []float64
}

func newLassoProblem(X []float64, n, d int, y []float64, fam Family, lambda float64, intercept bool) *lassoProblem {
	p := &lassoProblem{X: X, n: n, d: d, y: y, fam: fam, lambda: lambda, intercept: intercept}
	p.eta = make([]float64, n)
	p.r = make([]float64, n)
	p.g = make([]float64, d)
	p.eta0 = make([]float64, n)
	p.w = make([]float64, d)
	p.dw = make([]float64, d)
	p.hdiag = make([]float64, d)
	p.pre = make([]float64, 3*d+1)
	return p
}

func (p *lassoProblem) dim() int {
	if p.intercept {
		return 2*p.d + 1
	}
	return 2 * p.d
}

// start returns the deterministic starting point (u = c, v = 0, b0 the
// intercept-only fit) and ‖∇_b L(0, b0)‖∞ there.
func (p *lassoProblem) start() (x []float64, gmax float64) {
	n, d := p.n, p.d
	x = make([]float64, p.dim())
	b0 := 0.0
	if p.intercept {
		var m float64
		for _, v := range p.y {
			m += v
		}
		m /= float64(n)
		if p.fam == FamilyBinomial {
			b0 = math.Log(m / (1 - m)) // 0 < m < 1: checked by Lasso
		} else {
			b0 = m
		}
		x[2*d] = b0
	}
	for i := range p.eta {
		p.eta[i] = b0
	}
	p.residual()
	// c² is the largest one-feature coefficient |X_jᵀr| / ‖X_j‖².
	scale := 0.0
	for j := 0; j < d; j++ {
		var xr, xx float64
		for i := 0; i < n; i++ {
			xij := p.X[i*d+j]
			xr += xij * p.r[i]
			xx += xij * xij
		}
		gmax = math.Max(gmax, math.Abs(xr)) // p.r has the 1/n
		if xx > 0 {
			scale = math.Max(scale, math.Abs(xr)/xx*float64(n))
		}
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1
	}
	c := math.Sqrt(scale)
	for j := 0; j < d; j++ {
		x[j] = c
	}
	return x, gmax
}

// residual sets p.r = dL/dη (with the 1/n) from p.eta and returns L.
func (p *lassoProblem) residual() float64 {
	var loss float64
	inv := 1 / float64(p.n)
	if p.fam == FamilyBinomial {
		for i, e := range p.eta {
			loss += lassoLog1pExp(e) - p.y[i]*e
			p.r[i] = (lassoSigmoid(e) - p.y[i]) * inv
		}
	} else {
		for i, e := range p.eta {
			res := e - p.y[i]
			loss += 0.5 * res * res
			p.r[i] = res * inv
		}
	}
	return loss * inv
}

// eval returns F(x), writes ∇F(x) into grad and makes x the base point
// of evalStep.
func (p *lassoProblem) eval(x, grad []float64) float64 {
	n, d := p.n, p.d
	u, v := x[:d], x[d:2*d]
	for j := range p.w {
		p.w[j] = u[j] * v[j]
	}
	b0 := 0.0
	if p.intercept {
		b0 = x[2*d]
	}
	for i := 0; i < n; i++ {
		row := p.X[i*d : (i+1)*d]
		s := b0
		for j, xij := range row {
			s += xij * p.w[j]
		}
		p.eta[i] = s
	}
	copy(p.eta0, p.eta)
	loss := p.residual()
	return loss + 0.5*p.lambda*p.gradient(x, grad)
}

// evalStep returns F(xNew) and F(xNew) − F(x), and writes ∇F(xNew) into
// grad; x must be the base point (see eval and accept). The difference is
// computed from the changes of u, v, b0 and η, so it stays accurate when it
// is far below the rounding error of F itself: this is what lets the line
// search and the stopping rule work below a relative change of 1e-16.
func (p *lassoProblem) evalStep(x, xNew, grad []float64) (f, df float64) {
	n, d := p.n, p.d
	u, v := x[:d], x[d:2*d]
	un, vn := xNew[:d], xNew[d:2*d]
	var dpen float64
	for j := 0; j < d; j++ {
		du, dv := un[j]-u[j], vn[j]-v[j]
		p.w[j] = un[j] * vn[j]
		p.dw[j] = du*v[j] + u[j]*dv + du*dv
		dpen += du*(2*u[j]+du) + dv*(2*v[j]+dv)
	}
	b0, db0 := 0.0, 0.0
	if p.intercept {
		b0, db0 = xNew[2*d], xNew[2*d]-x[2*d]
	}
	var dloss float64
	for i := 0; i < n; i++ {
		row := p.X[i*d : (i+1)*d]
		s, ds := b0, db0
		for j, xij := range row {
			s += xij * p.w[j]
			ds += xij * p.dw[j]
		}
		p.eta[i] = s
		dloss += p.pointDelta(p.eta0[i], ds, p.y[i])
	}
	loss := p.residual()
	lam := p.lambda
	return loss + 0.5*lam*p.gradient(xNew, grad), dloss/float64(n) + 0.5*lam*dpen
}

// accept makes the point last passed to evalStep the base point.
func (p *lassoProblem) accept() { copy(p.eta0, p.eta) }

// pointDelta is one sample's loss at η0 + dη minus that at η0.
func (p *lassoProblem) pointDelta(eta0, deta, y float64) float64 {
	if p.fam == FamilyBinomial {
		if math.Abs(deta) < 1 {
			// log(1+e^(η0+δ)) − log(1+e^η0) = log1p(σ(η0)·expm1(δ))
			return math.Log1p(lassoSigmoid(eta0)*math.Expm1(deta)) - y*deta
		}
		return lassoLog1pExp(eta0+deta) - lassoLog1pExp(eta0) - y*deta
	}
	return deta * (eta0 - y + 0.5*deta)
}

// gradient writes ∇F at x into grad from p.r (dL/dη at x), sets p.g =
// ∇L(u⊙v), and returns ‖u‖² + ‖v‖².
func (p *lassoProblem) gradient(x, grad []float64) float64 {
	n, d := p.n, p.d
	u, v := x[:d], x[d:2*d]
	for j := range p.g {
		p.g[j] = 0
	}
	for i := 0; i < n; i++ {
		ri := p.r[i]
		if ri == 0 {
			continue
		}
		row := p.X[i*d : (i+1)*d]
		for j, xij := range row {
			p.g[j] += xij * ri
		}
	}
	lam := p.lambda
	var pen float64
	gu, gv := grad[:d], grad[d:2*d]
	for j := 0; j < d; j++ {
		pen += u[j]*u[j] + v[j]*v[j]
		gu[j] = v[j]*p.g[j] + lam*u[j]
		gv[j] = u[j]*p.g[j] + lam*v[j]
	}
	if p.intercept {
		var s float64
		for _, ri := range p.r {
			s += ri
		}
		grad[2*d] = s
	}
	return pen
}

// precondition sets p.pre from the point x, which must be the point eval
// saw last (p.g and p.eta are used): for each j the inverse of the Hessian
// block ∂²F/∂(u_j, v_j)² = [v²h+λ, g+uvh; g+uvh, u²h+λ] (h = ∂²L/∂b_j²,
// g = ∂L/∂b_j) with its eigenvalues replaced by their absolute values and
// kept above a floor, and 1/(∂²L/∂b0²) for b0. At a solution the block's
// eigenvalues are 2|b_j|h and 2λ for a non-zero b_j and λ ± |g| for a zero
// one: without this scaling the curvature of F along b_j shrinks with |b_j|.
func (p *lassoProblem) precondition(x []float64) {
	n, d := p.n, p.d
	u, v := x[:d], x[d:2*d]
	lam := p.lambda
	if p.fam == FamilyBinomial || !p.hdone {
		// ∇²L = XᵀDX/n with D = 1 (gaussian, computed once) or σ(η)(1 − σ(η)).
		for j := range p.hdiag {
			p.hdiag[j] = 0
		}
		var h0 float64
		for i := 0; i < n; i++ {
			di := 1.0
			if p.fam == FamilyBinomial {
				s := lassoSigmoid(p.eta[i])
				di = s * (1 - s)
			}
			h0 += di
			row := p.X[i*d : (i+1)*d]
			for j, xij := range row {
				p.hdiag[j] += di * xij * xij
			}
		}
		inv := 1 / float64(n)
		p.h0 = h0 * inv
		p.hmax = 0
		for j := range p.hdiag {
			p.hdiag[j] *= inv
			p.hmax = math.Max(p.hmax, p.hdiag[j])
		}
		p.hdone = true
	}
	hmax, h0 := p.hmax, p.h0
	floor := math.Max(lam, 1e-12*(hmax+lam))
	if !(floor > 0) {
		floor = 1
	}
	for j := 0; j < d; j++ {
		h := p.hdiag[j]
		a := v[j]*v[j]*h + lam
		b := u[j]*u[j]*h + lam
		c := p.g[j] + u[j]*v[j]*h
		m := 0.5 * (a + b)
		r := math.Hypot(0.5*(a-b), c)
		e1 := math.Max(math.Abs(m+r), floor)
		e2 := math.Max(math.Abs(m-r), floor)
		// (c1, s1): unit eigenvector of the eigenvalue m+r.
		c1, s1 := 1.0, 0.0
		if r > 0 {
			if a >= b {
				c1, s1 = m+r-b, c
			} else {
				c1, s1 = c, m+r-a
			}
			nn := math.Hypot(c1, s1)
			c1, s1 = c1/nn, s1/nn
		}
		p.pre[3*j] = c1*c1/e1 + s1*s1/e2
		p.pre[3*j+1] = c1*s1/e1 - s1*c1/e2
		p.pre[3*j+2] = s1*s1/e1 + c1*c1/e2
	}
	if h0 > 0 {
		p.pre[3*d] = 1 / h0
	} else {
		p.pre[3*d] = 1
	}
}

// applyPre multiplies z by the preconditioner in place.
func (p *lassoProblem) applyPre(z []float64) {
	d := p.d
	for j := 0; j < d; j++ {
		zu, zv := z[j], z[d+j]
		z[j] = p.pre[3*j]*zu + p.pre[3*j+1]*zv
		z[d+j] = p.pre[3*j+1]*zu + p.pre[3*j+2]*zv
	}
	if p.intercept {
		z[2*d] *= p.pre[3*d]
	}
}

// lassoLBFGSState reports how lassoLBFGS ended.
type lassoLBFGSState struct {
	iters     int
	converged bool
}

// lassoMemory is the number of correction pairs L-BFGS keeps.
const lassoMemory = 20

// lassoLBFGS minimises p.eval from x (updated in place) with preconditioned
// L-BFGS and a Wolfe line search; see Lasso for the stopping rule.
func lassoLBFGS(ctx context.Context, p *lassoProblem, x []float64, tol float64, maxIter int) (lassoLBFGSState, error) {
	m := len(x)
	g := make([]float64, m)
	f := p.eval(x, g)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return lassoLBFGSState{}, errors.New("lasso: the objective is not finite at the start (data too large?)")
	}
	// Changes are relative to |F|, but not to less than sqrt(ε)·|F| at the
	// start: a minimum of 0 (an exact fit at λ = 0) stops too.
	fFloor := math.Max(math.Sqrt(lassoEps)*math.Abs(f), math.SmallestNonzeroFloat64)
	dir := make([]float64, m)
	xNew := make([]float64, m)
	gNew := make([]float64, m)
	tmp := make([]float64, m)
	S := make([][]float64, 0, lassoMemory)
	Y := make([][]float64, 0, lassoMemory)
	rho := make([]float64, 0, lassoMemory)
	alpha := make([]float64, lassoMemory)

	stall := 0
	retried := false
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return lassoLBFGSState{iters: it - 1}, errors.Wrap(err, "lasso")
		}
		p.precondition(x)
		// Two-loop recursion: dir = −H∇F with H₀ = γ·pre.
		copy(dir, g)
		k := len(S)
		for i := k - 1; i >= 0; i-- {
			alpha[i] = rho[i] * lassoDot(S[i], dir)
			lassoAxpy(-alpha[i], Y[i], dir)
		}
		gamma := 1.0
		if k > 0 {
			copy(tmp, Y[k-1])
			p.applyPre(tmp)
			if yHy := lassoDot(Y[k-1], tmp); yHy > 0 {
				gamma = 1 / (rho[k-1] * yHy)
			}
		}
		p.applyPre(dir)
		for i := range dir {
			dir[i] *= gamma
		}
		for i := 0; i < k; i++ {
			beta := rho[i] * lassoDot(Y[i], dir)
			lassoAxpy(alpha[i]-beta, S[i], dir)
		}
		for i := range dir {
			dir[i] = -dir[i]
		}
		dg := lassoDot(dir, g)
		if !(dg < 0) {
			// Not a descent direction (rounding): drop the memory and
			// take the preconditioned gradient step.
			S, Y, rho = S[:0], Y[:0], rho[:0]
			copy(dir, g)
			p.applyPre(dir)
			for i := range dir {
				dir[i] = -dir[i]
			}
			dg = lassoDot(dir, g)
			if !(dg < 0) {
				return lassoLBFGSState{iters: it - 1, converged: true}, nil // ∇F = 0
			}
		}
		fNew, df, ok := lassoWolfe(p, x, dir, dg, xNew, gNew)
		if !ok {
			// No decrease in float64: retry once without the memory,
			// else F cannot be decreased further.
			if len(S) > 0 && !retried {
				retried = true
				S, Y, rho = S[:0], Y[:0], rho[:0]
				f = p.eval(x, g) // restores p.g, p.eta for precondition
				continue
			}
			return lassoLBFGSState{iters: it, converged: true}, nil
		}
		retried = false
		p.accept()
		// New correction pair, reusing the oldest one's storage.
		var s, yv []float64
		if len(S) == lassoMemory {
			s, yv = S[0], Y[0]
			copy(S, S[1:])
			copy(Y, Y[1:])
			copy(rho, rho[1:])
			S, Y, rho = S[:lassoMemory-1], Y[:lassoMemory-1], rho[:lassoMemory-1]
		} else {
			s, yv = make([]float64, m), make([]float64, m)
		}
		for i := range s {
			s[i] = xNew[i] - x[i]
			yv[i] = gNew[i] - g[i]
		}
		if sy := lassoDot(s, yv); sy > 1e-16*lassoNorm2(s)*lassoNorm2(yv) {
			S = append(S, s)
			Y = append(Y, yv)
			rho = append(rho, 1/sy)
		}
		rel := math.Abs(df) / math.Max(math.Abs(fNew), fFloor)
		copy(x, xNew)
		copy(g, gNew)
		f = fNew
		if rel <= tol {
			stall++
			if stall >= lassoStallIters {
				return lassoLBFGSState{iters: it, converged: true}, nil
			}
		} else {
			stall = 0
		}
	}
	return lassoLBFGSState{iters: maxIter}, nil
}

// lassoWolfe looks for a step t along dir from x (the base point of p,
// where the directional derivative of F is dg0 < 0) that satisfies the
// strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6), writes
// x + t·dir into xNew and ∇F there into gNew, and returns F(xNew) and
// F(xNew) − F(x); p's last evaluated point is xNew. Failing that it takes
// the best decrease seen; ok is false when there was none.
func lassoWolfe(p *lassoProblem, x, dir []float64, dg0 float64, xNew, gNew []float64) (fNew, dfNew float64, ok bool) {
	const (
		c1      = 1e-4
		c2      = 0.9
		maxEval = 40
	)
	var fLast float64
	// phi returns F(x + t·dir) − F(x) and the directional derivative.
	phi := func(t float64) (float64, float64) {
		for i := range x {
			xNew[i] = x[i] + t*dir[i]
		}
		var df float64
		fLast, df = p.evalStep(x, xNew, gNew)
		if math.IsNaN(fLast) || math.IsInf(fLast, 0) {
			df = math.Inf(1)
		}
		return df, lassoDot(gNew, dir)
	}
	tPrev, fPrev, dPrev := 0.0, 0.0, dg0
	t := 1.0
	bestT, bestF := 0.0, 0.0
	lastT := math.NaN()
	var lo, hi, flo, dlo, fhi, dhi float64
	zoom := false
	evals := 0
	// Bracketing: grow t until the interval holds a Wolfe point.
	for ; evals < maxEval; evals++ {
		ft, dt := phi(t)
		lastT = t
		if math.IsNaN(ft) || math.IsInf(ft, 0) || math.IsNaN(dt) {
			lo, flo, dlo = tPrev, fPrev, dPrev
			hi, fhi, dhi = t, math.Inf(1), math.NaN()
			zoom = true
			evals++
			break
		}
		if ft < bestF {
			bestT, bestF = t, ft
		}
		if ft > c1*t*dg0 || (evals > 0 && ft >= fPrev) {
			lo, flo, dlo = tPrev, fPrev, dPrev
			hi, fhi, dhi = t, ft, dt
			zoom = true
			evals++
			break
		}
		if math.Abs(dt) <= -c2*dg0 {
			return fLast, ft, true
		}
		if dt >= 0 {
			lo, flo, dlo = t, ft, dt
			hi, fhi, dhi = tPrev, fPrev, dPrev
			zoom = true
			evals++
			break
		}
		tPrev, fPrev, dPrev = t, ft, dt
		t *= 4
	}
	// Zoom: shrink [lo, hi] keeping a sufficient decrease at lo.
	for zoom && evals < maxEval {
		evals++
		if !(math.Abs(hi-lo) > 1e-16*math.Max(math.Abs(lo), math.Abs(hi))) {
			break
		}
		tj := lassoInterpolate(lo, flo, dlo, hi, fhi, dhi)
		ft, dt := phi(tj)
		lastT = tj
		if math.IsNaN(ft) || math.IsInf(ft, 0) || math.IsNaN(dt) {
			hi, fhi, dhi = tj, math.Inf(1), math.NaN()
			continue
		}
		if ft < bestF {
			bestT, bestF = tj, ft
		}
		if ft > c1*tj*dg0 || ft >= flo {
			hi, fhi, dhi = tj, ft, dt
			continue
		}
		if math.Abs(dt) <= -c2*dg0 {
			return fLast, ft, true
		}
		if dt*(hi-lo) >= 0 {
			hi, fhi, dhi = lo, flo, dlo
		}
		lo, flo, dlo = tj, ft, dt
	}
	if bestT > 0 && bestF < 0 {
		if lastT == bestT {
			return fLast, bestF, true
		}
		df, _ := phi(bestT)
		return fLast, df, true
	}
	return 0, 0, false
}

// lassoInterpolate picks a trial step between lo and hi: the minimiser of
// the cubic (or else quadratic) interpolant, kept at least 10% of the
// interval away from its ends, or else the midpoint.
func lassoInterpolate(lo, flo, dlo, hi, fhi, dhi float64) float64 {
	a, b := math.Min(lo, hi), math.Max(lo, hi)
	width := b - a
	t := math.NaN()
	if !math.IsInf(fhi, 0) && !math.IsNaN(dhi) {
		// Cubic (Nocedal & Wright, eq. 3.59).
		d1 := dlo + dhi - 3*(flo-fhi)/(lo-hi)
		if disc := d1*d1 - dlo*dhi; disc >= 0 {
			d2 := math.Copysign(math.Sqrt(disc), hi-lo)
			t = hi - (hi-lo)*(dhi+d2-d1)/(dhi-dlo+2*d2)
		}
	}
	if math.IsNaN(t) && !math.IsInf(fhi, 0) {
		// Quadratic through flo, dlo and fhi.
		h := hi - lo
		if den := 2 * (fhi - flo - dlo*h); den > 0 {
			t = lo - dlo*h*h/den
		}
	}
	if math.IsNaN(t) || t < a+0.1*width || t > b-0.1*width {
		t = lo + 0.5*(hi-lo)
	}
	return t
}

func lassoDot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func lassoAxpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

func lassoNorm2(a []float64) float64 { return math.Sqrt(lassoDot(a, a)) }
