package featsel

import (
	"context"
	"math"
	"math/rand"
	"sort"
)

// fit is one solution of the penalised problem at one λ: the features in
// the model (indices into the full matrix) and the parameters of the net
// over those features.
type fit struct {
	lambda float64
	feats  []int
	x      []float64
	hidden int
	c      int
	// score ranks the features: |s_j| for spred, |b_j| for L1 logistic;
	// norm is ‖s_j·W1_j‖ (spred) or |b_j|.
	score, norm []float64
	iters       int
}

// Working-set constants.
const (
	fitTol    = 1e-12 // relative objective change that ends a penalised fit
	refitTol  = 1e-10 // and a refit, whose exact optimum matters less
	maxOuter  = 30    // working-set rounds per fit
	kktSlack  = 1e-3  // a feature enters when its gradient norm exceeds λ(1+kktSlack)
	enterMin  = 10    // features added per round: at least this many,
	startSize = 1e-2  // initial |s_j| and ‖W1_j‖ of an entering feature
)

// problem is one training set: the standardised n×d matrix, the labels
// and the number of classes.
type problem struct {
	X *Matrix
	y []int
	c int
}

// tail returns the parameters after the first layer of a net with a
// features: b1, W2, b2.
func tail(x []float64, a, h1 int, gate bool) []float64 {
	off := a * h1
	if gate {
		off += a
	}
	return x[off:]
}

// initTail returns b1 (and W2, b2 for the MLP) for a net without features:
// the linear head gets the log class frequencies, the exact intercept-only
// fit; the MLP gets b1 = 0.1 (every unit active), output rows drawn
// uniformly on the unit sphere with rng, and b2 such that the output is
// the class frequencies.
func initTail(p problem, hidden int, rng *rand.Rand) []float64 {
	c := p.c
	logf := make([]float64, c)
	for _, y := range p.y {
		logf[y]++
	}
	for m := range logf {
		logf[m] = math.Log(logf[m] / float64(len(p.y)))
		if math.IsInf(logf[m], -1) {
			logf[m] = -30
		}
	}
	if hidden == 0 {
		return logf
	}
	t := make([]float64, hidden+hidden*c+c)
	b1, W2, b2 := t[:hidden], t[hidden:hidden+hidden*c], t[hidden+hidden*c:]
	for k := range b1 {
		b1[k] = 0.1
	}
	for k := range W2 {
		W2[k] = rng.NormFloat64()
	}
	for k := 0; k < hidden; k++ { // unit rows, as the net uses them
		row := W2[k*c : (k+1)*c]
		nrm := math.Sqrt(dot(row, row))
		for m := range row {
			row[m] /= nrm
		}
	}
	for m := range b2 {
		b2[m] = logf[m]
		for k := 0; k < hidden; k++ {
			b2[m] -= 0.1 * W2[k*c+m]
		}
	}
	return t
}

// spredFit solves the gated problem at λ with a working set: fit the net
// on the features in the set, drop those whose effective row falls below
// the threshold, compute the gradient norm of every feature outside, add
// the largest violators of ‖g_j‖ ≤ λ (not those thresholded out earlier
// in this fit), and repeat until none is left. For
// the linear head the problem is convex and the working set changes only
// the cost, not the answer. warm, if not nil, is a solution at another λ
// to start from (its features are the first working set).
func spredFit(ctx context.Context, p problem, cfg Config, lam float64, warm *fit) (*fit, error) {
	hidden := cfg.hidden()
	h1 := p.c
	if hidden > 0 {
		h1 = hidden
	}
	var feats []int
	var x []float64
	if warm != nil && len(warm.feats) > 0 {
		feats = append(feats, warm.feats...)
		x = append(x, warm.x...)
	} else {
		x = initTail(p, hidden, rand.New(rand.NewSource(cfg.Seed)))
	}
	d := p.X.Cols
	gn := make([]float64, d)
	inSet := make([]bool, d)
	// In the MLP a feature thresholded out does not enter again in this
	// fit: the non-convex fit could cycle. (The convex linear head lets it
	// back: an early round can drop a feature the solution needs.)
	dropped := make([]bool, d)
	iters := 0
	thr := cfg.threshold()
	for round := 0; ; round++ {
		z := p.X.columns(feats)
		nt := newNet(z, p.y, p.c, hidden, true, lam)
		if len(feats) > 0 {
			it, err := minimize(ctx, nt, x, cfg.maxIter(), fitTol)
			if err != nil {
				return nil, err
			}
			iters += it
		}
		// Threshold: drop rows below thr × the largest.
		a := len(feats)
		norms := rowNorms(x, a, h1)
		maxN := 0.0
		for _, v := range norms {
			maxN = math.Max(maxN, v)
		}
		var keep []int
		for k := 0; k < a; k++ {
			if norms[k] >= thr*maxN && norms[k] > 0 {
				keep = append(keep, k)
			}
		}
		if len(keep) < a {
			kept := make([]bool, a)
			for _, k := range keep {
				kept[k] = true
			}
			for k, j := range feats {
				if !kept[k] && hidden > 0 {
					dropped[j] = true
				}
			}
			feats, x = restrict(feats, x, keep, h1)
			z = p.X.columns(feats)
			nt = newNet(z, p.y, p.c, hidden, true, lam)
		}
		nt.eval(x, nil) // delta at the current point
		if round == maxOuter {
			break
		}
		// KKT check over all features.
		G := nt.groupGradients(p.X)
		for j := range gn {
			var s float64
			for _, v := range G[j*h1 : (j+1)*h1] {
				s += v * v
			}
			gn[j] = math.Sqrt(s)
		}
		for j := range inSet {
			inSet[j] = false
		}
		for _, j := range feats {
			inSet[j] = true
		}
		var viol []int
		for j, g := range gn {
			if !inSet[j] && !dropped[j] && g > lam*(1+kktSlack) {
				viol = append(viol, j)
			}
		}
		if len(viol) == 0 {
			break
		}
		sort.SliceStable(viol, func(a, b int) bool { return gn[viol[a]] > gn[viol[b]] })
		add := max(enterMin, len(feats))
		if len(viol) > add {
			viol = viol[:add]
		}
		feats, x = enter(feats, x, viol, G, gn, h1)
	}
	f := &fit{lambda: lam, feats: feats, x: x, hidden: hidden, c: p.c, iters: iters}
	a := len(feats)
	f.norm = rowNorms(x, a, h1)
	f.score = make([]float64, a)
	for k := range f.score {
		f.score[k] = math.Abs(x[k])
	}
	return f, nil
}

// rowNorms returns ‖s_k·W1_k‖ for the a features of a gated parameter vector.
func rowNorms(x []float64, a, h1 int) []float64 {
	out := make([]float64, a)
	W1 := x[a : a+a*h1]
	for k := range out {
		var s float64
		for _, w := range W1[k*h1 : (k+1)*h1] {
			s += w * w
		}
		out[k] = math.Abs(x[k]) * math.Sqrt(s)
	}
	return out
}

// restrict keeps the features at positions keep of a gated parameter vector.
func restrict(feats []int, x []float64, keep []int, h1 int) ([]int, []float64) {
	a := len(feats)
	nf := make([]int, 0, len(keep))
	nx := make([]float64, 0, len(x)-(a-len(keep))*(1+h1))
	for _, k := range keep {
		nf = append(nf, feats[k])
		nx = append(nx, x[k])
	}
	for _, k := range keep {
		nx = append(nx, x[a+k*h1:a+(k+1)*h1]...)
	}
	nx = append(nx, tail(x, a, h1, true)...)
	return nf, nx
}

// enter adds the features add to a gated parameter vector, each at
// s_j = startSize and W1_j = −startSize·g_j/‖g_j‖, a small step into the
// descent direction out of the saddle at 0.
func enter(feats []int, x []float64, add []int, G, gn []float64, h1 int) ([]int, []float64) {
	a := len(feats)
	b := a + len(add)
	nf := append(append(make([]int, 0, b), feats...), add...)
	nx := make([]float64, 0, len(x)+len(add)*(1+h1))
	nx = append(nx, x[:a]...)
	for range add {
		nx = append(nx, startSize)
	}
	nx = append(nx, x[a:a+a*h1]...)
	for _, j := range add {
		for k := 0; k < h1; k++ {
			nx = append(nx, -startSize*G[j*h1+k]/gn[j])
		}
	}
	nx = append(nx, tail(x, a, h1, true)...)
	return nf, nx
}
