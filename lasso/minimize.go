package lasso

import (
	"context"
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/lbfgs"
)

// solverState reports how minimize ended.
type solverState struct {
	iters     int
	converged bool
}

// memory is the number of correction pairs L-BFGS keeps.
const memory = 20

// minimize minimises p.eval from x (updated in place) with preconditioned
// L-BFGS and a Wolfe line search; see Solve for the stopping rule.
func minimize(ctx context.Context, p *problem, x []float64, tol float64, maxIter int) (solverState, error) {
	m := len(x)
	g := make([]float64, m)
	f := p.eval(x, g)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return solverState{}, errors.New("lasso: the objective is not finite at the start (data too large?)")
	}
	// Changes are relative to |F|, but not to less than sqrt(ε)·|F| at the
	// start: a minimum of 0 (an exact fit at λ = 0) stops too.
	fFloor := math.Max(math.Sqrt(eps)*math.Abs(f), math.SmallestNonzeroFloat64)
	dir := make([]float64, m)
	xNew := make([]float64, m)
	gNew := make([]float64, m)
	tmp := make([]float64, m)
	mem := lbfgs.New(memory)
	// H₀ = γ·pre, γ the usual scaling measured in the preconditioner's metric.
	h0 := func(q, y []float64, rho float64) {
		gamma := 1.0
		if y != nil {
			copy(tmp, y)
			p.applyPre(tmp)
			if yHy := dot(y, tmp); yHy > 0 {
				gamma = 1 / (rho * yHy)
			}
		}
		p.applyPre(q)
		for i := range q {
			q[i] *= gamma
		}
	}

	stall := 0
	retried := false
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return solverState{iters: it - 1}, errors.Wrap(err, "lasso")
		}
		p.precondition(x)
		mem.Direction(g, dir, h0)
		dg := dot(dir, g)
		if !(dg < 0) {
			// Not a descent direction (rounding): drop the memory and
			// take the preconditioned gradient step.
			mem.Reset()
			copy(dir, g)
			p.applyPre(dir)
			for i := range dir {
				dir[i] = -dir[i]
			}
			dg = dot(dir, g)
			if !(dg < 0) {
				return solverState{iters: it - 1, converged: true}, nil // ∇F = 0
			}
		}
		fNew, df, ok := wolfe(p, x, dir, dg, xNew, gNew)
		if !ok {
			// No decrease in float64: retry once without the memory,
			// else F cannot be decreased further.
			if mem.Len() > 0 && !retried {
				retried = true
				mem.Reset()
				f = p.eval(x, g) // restores p.g, p.eta for precondition
				continue
			}
			return solverState{iters: it, converged: true}, nil
		}
		retried = false
		p.accept()
		mem.Push(xNew, x, gNew, g)
		rel := math.Abs(df) / math.Max(math.Abs(fNew), fFloor)
		copy(x, xNew)
		copy(g, gNew)
		f = fNew
		if rel <= tol {
			stall++
			if stall >= stallIters {
				return solverState{iters: it, converged: true}, nil
			}
		} else {
			stall = 0
		}
	}
	return solverState{iters: maxIter}, nil
}

// wolfe looks for a step t along dir from x (the base point of p,
// where the directional derivative of F is dg0 < 0) that satisfies the
// strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6), writes
// x + t·dir into xNew and ∇F there into gNew, and returns F(xNew) and
// F(xNew) − F(x); p's last evaluated point is xNew. Failing that it takes
// the best decrease seen; ok is false when there was none.
func wolfe(p *problem, x, dir []float64, dg0 float64, xNew, gNew []float64) (fNew, dfNew float64, ok bool) {
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
		return df, dot(gNew, dir)
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
		tj := interpolate(lo, flo, dlo, hi, fhi, dhi)
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

// interpolate picks a trial step between lo and hi: the minimiser of
// the cubic (or else quadratic) interpolant, kept at least 10% of the
// interval away from its ends, or else the midpoint.
func interpolate(lo, flo, dlo, hi, fhi, dhi float64) float64 {
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

func dot(a, b []float64) float64 { return lbfgs.Dot(a, b) }
