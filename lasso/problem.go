package lasso

import "math"

// problem is the spred objective F(u, v, b0) of one problem. Its
// parameter vector holds u (d values), then v (d values), then b0 if
// intercept.
type problem struct {
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

func newProblem(X []float64, n, d int, y []float64, fam Family, lambda float64, intercept bool) *problem {
	p := &problem{X: X, n: n, d: d, y: y, fam: fam, lambda: lambda, intercept: intercept}
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

func (p *problem) dim() int {
	if p.intercept {
		return 2*p.d + 1
	}
	return 2 * p.d
}

// start returns the deterministic starting point (u = c, v = 0, b0 the
// intercept-only fit) and ‖∇_b L(0, b0)‖∞ there.
func (p *problem) start() (x []float64, gmax float64) {
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
			b0 = math.Log(m / (1 - m)) // 0 < m < 1: checked by Solve
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
func (p *problem) residual() float64 {
	var loss float64
	inv := 1 / float64(p.n)
	if p.fam == FamilyBinomial {
		for i, e := range p.eta {
			loss += log1pExp(e) - p.y[i]*e
			p.r[i] = (sigmoid(e) - p.y[i]) * inv
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
func (p *problem) eval(x, grad []float64) float64 {
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
func (p *problem) evalStep(x, xNew, grad []float64) (f, df float64) {
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
func (p *problem) accept() { copy(p.eta0, p.eta) }

// pointDelta is one sample's loss at η0 + dη minus that at η0.
func (p *problem) pointDelta(eta0, deta, y float64) float64 {
	if p.fam == FamilyBinomial {
		if math.Abs(deta) < 1 {
			// log(1+e^(η0+δ)) − log(1+e^η0) = log1p(σ(η0)·expm1(δ))
			return math.Log1p(sigmoid(eta0)*math.Expm1(deta)) - y*deta
		}
		return log1pExp(eta0+deta) - log1pExp(eta0) - y*deta
	}
	return deta * (eta0 - y + 0.5*deta)
}

// gradient writes ∇F at x into grad from p.r (dL/dη at x), sets p.g =
// ∇L(u⊙v), and returns ‖u‖² + ‖v‖².
func (p *problem) gradient(x, grad []float64) float64 {
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
func (p *problem) precondition(x []float64) {
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
				s := sigmoid(p.eta[i])
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
func (p *problem) applyPre(z []float64) {
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
