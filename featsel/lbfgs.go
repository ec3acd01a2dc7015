package featsel

import (
	"context"
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/lbfgs"
)

// lbfgsMemory is the number of correction pairs kept.
const lbfgsMemory = 20

// minimize runs L-BFGS with a backtracking (Armijo) line search on nt from
// x (updated in place) and returns the number of iterations. It stops when
// the largest gradient entry is below 1e-9, when the objective has changed
// by less than tol relative for 20 iterations running, when no step
// decreases it any more, or after maxIter iterations. ctx is checked at
// every iteration. A hand-written minimiser rather than gonum/optimize keeps
// the module's dependencies as they are (optimize pulls in x/tools).
func minimize(ctx context.Context, nt *net, x []float64, maxIter int, tol float64) (int, error) {
	m := len(x)
	if m == 0 {
		return 0, nil
	}
	g := make([]float64, m)
	f := nt.eval(x, g)
	if !finite(f) {
		return 0, errors.New("featsel: the objective is not finite at the start")
	}
	dir := make([]float64, m)
	xNew := make([]float64, m)
	gNew := make([]float64, m)
	mem := lbfgs.New(lbfgsMemory)
	// H₀ = γ·I: the usual scaling sᵀy/yᵀy, and before the first pair a
	// first step of length at most 1 per entry.
	h0 := func(q, y []float64, rho float64) {
		gamma := 1.0
		if y != nil {
			gamma = 1 / (rho * dot(y, y))
		} else if gi := maxAbs(g); gi > 1 {
			gamma = 1 / gi
		}
		for i := range q {
			q[i] *= gamma
		}
	}
	stall := 0
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return it - 1, errors.Wrap(err, "featsel")
		}
		if maxAbs(g) < 1e-9 {
			return it - 1, nil
		}
		mem.Direction(g, dir, h0)
		dg := dot(dir, g)
		if !(dg < 0) {
			mem.Reset()
			for i := range dir {
				dir[i] = -g[i]
			}
			dg = dot(dir, g)
		}
		// Backtracking until the Armijo condition holds.
		t := 1.0
		var fNew float64
		ok := false
		for ls := 0; ls < 50; ls++ {
			for i := range x {
				xNew[i] = x[i] + t*dir[i]
			}
			fNew = nt.eval(xNew, gNew)
			if finite(fNew) && fNew <= f+1e-4*t*dg {
				ok = true
				break
			}
			t *= 0.5
		}
		if !ok {
			if mem.Len() > 0 {
				mem.Reset()
				continue
			}
			return it, nil // no decrease left in float64
		}
		mem.Push(xNew, x, gNew, g)
		rel := math.Abs(f-fNew) / math.Max(math.Abs(fNew), 1e-300)
		copy(x, xNew)
		copy(g, gNew)
		f = fNew
		if rel < tol {
			stall++
			if stall >= 20 {
				return it, nil
			}
		} else {
			stall = 0
		}
	}
	return maxIter, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func dot(a, b []float64) float64 { return lbfgs.Dot(a, b) }

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
