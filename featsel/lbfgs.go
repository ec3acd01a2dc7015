package featsel

import (
	"context"
	"math"

	"github.com/pkg/errors"
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
	S := make([][]float64, 0, lbfgsMemory)
	Y := make([][]float64, 0, lbfgsMemory)
	rho := make([]float64, 0, lbfgsMemory)
	alpha := make([]float64, lbfgsMemory)
	stall := 0
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return it - 1, errors.Wrap(err, "featsel")
		}
		if maxAbs(g) < 1e-9 {
			return it - 1, nil
		}
		// Two-loop recursion: dir = −H·g.
		copy(dir, g)
		k := len(S)
		for i := k - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dot(S[i], dir)
			axpy(-alpha[i], Y[i], dir)
		}
		gamma := 1.0
		if k > 0 {
			gamma = 1 / (rho[k-1] * dot(Y[k-1], Y[k-1]))
		} else if gi := maxAbs(g); gi > 1 {
			gamma = 1 / gi // a first step of length at most 1 per entry
		}
		for i := range dir {
			dir[i] *= gamma
		}
		for i := 0; i < k; i++ {
			beta := rho[i] * dot(Y[i], dir)
			axpy(alpha[i]-beta, S[i], dir)
		}
		for i := range dir {
			dir[i] = -dir[i]
		}
		dg := dot(dir, g)
		if !(dg < 0) {
			S, Y, rho = S[:0], Y[:0], rho[:0]
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
			if len(S) > 0 {
				S, Y, rho = S[:0], Y[:0], rho[:0]
				continue
			}
			return it, nil // no decrease left in float64
		}
		var s, yv []float64
		if len(S) == lbfgsMemory {
			s, yv = S[0], Y[0]
			copy(S, S[1:])
			copy(Y, Y[1:])
			copy(rho, rho[1:])
			S, Y, rho = S[:lbfgsMemory-1], Y[:lbfgsMemory-1], rho[:lbfgsMemory-1]
		} else {
			s, yv = make([]float64, m), make([]float64, m)
		}
		for i := range s {
			s[i] = xNew[i] - x[i]
			yv[i] = gNew[i] - g[i]
		}
		if sy := dot(s, yv); sy > 1e-16*math.Sqrt(dot(s, s)*dot(yv, yv)) {
			S = append(S, s)
			Y = append(Y, yv)
			rho = append(rho, 1/sy)
		}
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

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

func maxAbs(a []float64) float64 {
	m := 0.0
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
