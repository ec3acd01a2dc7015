package featsel

import (
	"context"
	"math"
	"math/rand"
	"sort"

	"github.com/pkg/errors"
)

// Selection is the result of Select: the surviving features ranked, and
// the head refitted on them alone.
type Selection struct {
	// Lambda is the penalty the features were selected at (found by the
	// search when Config.Features is set).
	Lambda float64 `json:"lambda"`
	// LambdaMax is the smallest λ at which no feature survives from the
	// start point (exact for the convex methods).
	LambdaMax float64 `json:"lambda_max"`
	// Features holds the selected column indices, ranked by Score, largest
	// first (ties by Norm, then by index).
	Features []int `json:"features"`
	// Score is |s_j| for spred and |b_j| for l1-logistic.
	Score []float64 `json:"score"`
	// Norm is ‖s_j·W1_j‖, the size of the feature's effective row in the
	// first layer (|b_j| for l1-logistic).
	Norm []float64 `json:"norm"`
	// Coef, for a linear model of two classes only, is the coefficient of
	// each feature in the logit of class 1 against class 0: b_j for
	// l1-logistic, V_j2 − V_j1 for spred (an L1-logistic coefficient).
	Coef []float64 `json:"coef,omitempty"`
	// Fits counts the penalised fits run for this selection (1 for a given
	// λ, more for a search; fits an earlier target of SelectTargets ran are
	// not counted again); Iterations adds up their solver iterations.
	Fits       int `json:"fits"`
	Iterations int `json:"iterations"`

	// Model is the head refitted on the selected features.
	Model *Model `json:"-"`
}

// Model is a head (linear or MLP) on a subset of the columns of a
// standardised matrix, without gate.
type Model struct {
	Features []int
	net      *net
	x        []float64
}

// Predict returns the predicted class of every row of X, a standardised
// matrix with the same columns as the one the model was fitted on.
func (m *Model) Predict(X *Matrix) []int {
	return m.net.predict(X.columns(m.Features), m.x)
}

// Select selects features of the standardised n×d matrix X for the labels
// y (in [0, classes)) as cfg says: at cfg.Lambda, or, with cfg.Features =
// K, at the smallest λ of a bisection on the log scale that leaves at most
// K features (when several features enter at once, so that no λ leaves
// exactly K, the K highest-ranked features of the fit just below are
// taken). The selected features are then ranked and the head is
// refitted on them alone (see Config.RefitDecay). The same inputs give the
// same result, bit for bit.
func Select(ctx context.Context, X *Matrix, y []int, classes int, cfg Config) (*Selection, error) {
	sels, err := SelectTargets(ctx, X, y, classes, cfg, []Target{{Lambda: cfg.Lambda, Features: cfg.Features}})
	if err != nil {
		return nil, err
	}
	return sels[0], nil
}

// SelectTargets runs Select for every target (cfg's Lambda and Features
// replaced by the target's) on the same data, sharing the fits: a λ
// solved for one target is not solved again for another, and the
// searches for different counts start from the brackets the earlier ones
// left. The results are those Select gives for each target alone when
// every target is a λ, and may differ only in the path of the search
// otherwise (deterministically).
func SelectTargets(ctx context.Context, X *Matrix, y []int, classes int, cfg Config, targets []Target) ([]*Selection, error) {
	for _, t := range targets {
		c := cfg
		c.Lambda, c.Features = t.Lambda, t.Features
		if err := c.Validate(); err != nil {
			return nil, err
		}
		if t.Features > 0 && X != nil && t.Features > X.Cols {
			return nil, errors.Errorf("featsel: %d features wanted, the data has only %d", t.Features, X.Cols)
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if X == nil || X.Rows == 0 || X.Cols == 0 || len(X.Data) != X.Rows*X.Cols {
		return nil, errors.New("featsel: empty or malformed data matrix")
	}
	if len(y) != X.Rows {
		return nil, errors.Errorf("featsel: %d labels for %d rows", len(y), X.Rows)
	}
	if classes < 2 {
		return nil, errors.Errorf("featsel: need at least 2 classes, got %d", classes)
	}
	seen := make([]bool, classes)
	for i, v := range y {
		if v < 0 || v >= classes {
			return nil, errors.Errorf("featsel: label %d of row %d is not in [0, %d)", v, i, classes)
		}
		seen[v] = true
	}
	for c, s := range seen {
		if !s {
			return nil, errors.Errorf("featsel: class %d has no samples in the training data", c)
		}
	}
	for k, v := range X.Data {
		if !finite(v) {
			return nil, errors.Errorf("featsel: X[%d][%d] = %v is not finite", k/X.Cols, k%X.Cols, v)
		}
	}
	if cfg.method() == MethodL1Logistic && classes != 2 {
		return nil, errors.Errorf("featsel: l1-logistic needs exactly 2 classes, got %d (filter the labels to two classes)", classes)
	}
	p := problem{X: X, y: y, c: classes}
	s := &solver{p: p, cfg: cfg, cache: map[float64]*fit{}}
	lmax := s.lambdaMax()
	var out []*Selection
	for _, t := range targets {
		fits, iters := s.fits, s.iters
		var sel *Selection
		if t.Features > 0 {
			f, trunc, err := s.search(ctx, lmax, t.Features)
			if err != nil {
				return nil, err
			}
			sel = rank(f)
			if trunc {
				sel.truncate(t.Features)
			}
		} else {
			f, err := s.solve(ctx, t.Lambda, s.nearest(t.Lambda))
			if err != nil {
				return nil, err
			}
			sel = rank(f)
		}
		sel.LambdaMax = lmax
		sel.Fits, sel.Iterations = s.fits-fits, s.iters-iters
		var err error
		if sel.Model, err = refit(ctx, p, cfg, cfg.hidden(), sel.Features); err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

// solver runs the fits of one SelectTargets, counts them and keeps them
// by λ.
type solver struct {
	p     problem
	cfg   Config
	fits  int
	iters int
	cache map[float64]*fit
}

// nearest returns the cached fit at the smallest λ above lam (the
// sparser neighbour, a good warm start), or nil.
func (s *solver) nearest(lam float64) *fit {
	var best *fit
	for l, f := range s.cache {
		if l > lam && (best == nil || l < best.lambda) {
			best = f
		}
	}
	return best
}

func (s *solver) solve(ctx context.Context, lam float64, warm *fit) (*fit, error) {
	if f, ok := s.cache[lam]; ok {
		return f, nil
	}
	var f *fit
	var err error
	if s.cfg.method() == MethodL1Logistic {
		f, err = l1Fit(ctx, s.p, lam, warm)
	} else {
		if s.cfg.hidden() > 0 {
			// The MLP is not convex: every λ starts from the same seeded
			// point, so that its answer depends on λ alone, not on the
			// path of the search.
			warm = nil
		}
		f, err = spredFit(ctx, s.p, s.cfg, lam, warm)
	}
	if err != nil {
		return nil, err
	}
	s.fits++
	s.iters += f.iters
	s.cache[lam] = f
	return f, nil
}

// lambdaMax is the largest gradient norm of a feature at the start point
// without features: for λ at or above it no feature enters.
func (s *solver) lambdaMax() float64 {
	p := s.p
	n, d := p.X.Rows, p.X.Cols
	if s.cfg.method() == MethodL1Logistic {
		m := 0.0
		for _, v := range p.y {
			m += float64(v)
		}
		m /= float64(n)
		g := make([]float64, d)
		for i := 0; i < n; i++ {
			r := (m - float64(p.y[i])) / float64(n)
			for j, x := range p.X.Row(i) {
				g[j] += x * r
			}
		}
		return maxAbs(g)
	}
	hidden := s.cfg.hidden()
	x := initTail(p, hidden, rand.New(rand.NewSource(s.cfg.Seed)))
	nt := newNet(p.X.columns(nil), p.y, p.c, hidden, true, 0)
	nt.eval(x, nil)
	G := nt.groupGradients(p.X)
	h1 := nt.h1
	m := 0.0
	for j := 0; j < d; j++ {
		var q float64
		for _, v := range G[j*h1 : (j+1)*h1] {
			q += v * v
		}
		m = math.Max(m, math.Sqrt(q))
	}
	return m
}

// search finds, by bisection on log λ, the smallest λ at which at most k
// features survive, and returns the fit there. It starts from the
// tightest bracket the cached fits give. The number of survivors need not
// fall monotonically with λ (the MLP is not convex, and the L1 path of a
// separable problem stops growing), so the answer is the fit with the most
// survivors, at most k, of all fits tried (ties: the smaller λ). When
// several features enter at once, so that no λ leaves exactly k, it
// returns instead the fit at the lower end of the final bracket, which
// has more than k, with trunc set: its k highest-ranked features are then
// used.
func (s *solver) search(ctx context.Context, lmax float64, k int) (f *fit, trunc bool, err error) {
	if !(lmax > 0) {
		// No feature has any gradient: nothing can be selected.
		f, err := s.solve(ctx, 1, nil)
		return f, false, err
	}
	top, err := s.solve(ctx, lmax, nil)
	if err != nil {
		return nil, false, err
	}
	if len(top.feats) > k {
		return top, true, nil
	}
	better := func(a, b *fit) bool { // a is a better answer than b
		if len(a.feats) != len(b.feats) {
			return len(a.feats) > len(b.feats)
		}
		return a.lambda < b.lambda
	}
	// best: the answer so far; hi: the smallest λ with at most k that
	// has no λ with more than k above it; lo: the largest λ below hi
	// with more than k.
	best, hi := top, top
	var lo *fit
	for _, c := range s.cache {
		if len(c.feats) <= k && better(c, best) {
			best = c
		}
	}
	for _, c := range s.cache {
		if len(c.feats) > k && (lo == nil || c.lambda > lo.lambda) {
			lo = c
		}
	}
	for _, c := range s.cache {
		if len(c.feats) <= k && c.lambda < hi.lambda && (lo == nil || c.lambda > lo.lambda) {
			hi = c
		}
	}
	if len(best.feats) == k {
		return best, false, nil
	}
	// Step down by factors of 4 until more than k survive.
	for step := 0; lo == nil && step < 12 && hi.lambda > lmax*math.Pow(4, -12); step++ {
		f, err := s.solve(ctx, hi.lambda/4, hi)
		if err != nil {
			return nil, false, err
		}
		if len(f.feats) > k {
			lo = f
			break
		}
		hi = f
		if better(f, best) {
			best = f
		}
		if len(f.feats) == k {
			return best, false, nil
		}
	}
	if lo == nil {
		return best, false, nil // at most k survive down to λ_max·4⁻¹²
	}
	for it := 0; it < s.cfg.searchIter() && hi.lambda/lo.lambda > 1+1e-3; it++ {
		f, err := s.solve(ctx, math.Sqrt(lo.lambda*hi.lambda), hi)
		if err != nil {
			return nil, false, err
		}
		if len(f.feats) <= k {
			hi = f
			if better(f, best) {
				best = f
			}
			if len(f.feats) == k {
				return best, false, nil
			}
		} else {
			lo = f
		}
	}
	return lo, true, nil
}

// truncate keeps the k highest-ranked features.
func (sel *Selection) truncate(k int) {
	if len(sel.Features) <= k {
		return
	}
	sel.Features, sel.Score, sel.Norm = sel.Features[:k], sel.Score[:k], sel.Norm[:k]
	if sel.Coef != nil {
		sel.Coef = sel.Coef[:k]
	}
}

// rank orders the features of f by score, then norm, then index.
func rank(f *fit) *Selection {
	a := len(f.feats)
	order := make([]int, a)
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if f.score[a] != f.score[b] {
			return f.score[a] > f.score[b]
		}
		if f.norm[a] != f.norm[b] {
			return f.norm[a] > f.norm[b]
		}
		return f.feats[a] < f.feats[b]
	})
	sel := &Selection{Lambda: f.lambda, Features: make([]int, a), Score: make([]float64, a), Norm: make([]float64, a)}
	linear2 := f.hidden == 0 && f.c == 2
	if linear2 {
		sel.Coef = make([]float64, a)
	}
	for r, k := range order {
		sel.Features[r] = f.feats[k]
		sel.Score[r] = f.score[k]
		sel.Norm[r] = f.norm[k]
		if linear2 {
			sel.Coef[r] = f.x[k] * (f.x[a+2*k+1] - f.x[a+2*k])
		}
	}
	return sel
}

// refit trains the head again on the features feats alone, without the
// gate, with ridge decay cfg.refitDecay() on the weights, from a fresh
// start: the linear head from zero weights and the log class frequencies
// (the problem is convex, the start only changes the cost); the MLP from
// W1 drawn from N(0, 1/len(feats)) with cfg.Seed, b1 = 0.1 and the output
// layer of initTail. (The selection's own weights are no start for the
// MLP: at a large λ its output layer has decayed to nearly 0, a saddle.)
func refit(ctx context.Context, p problem, cfg Config, hidden int, feats []int) (*Model, error) {
	h1 := p.c
	if hidden > 0 {
		h1 = hidden
	}
	rng := rand.New(rand.NewSource(cfg.Seed))
	x := make([]float64, len(feats)*h1)
	if hidden > 0 && len(feats) > 0 {
		sd := 1 / math.Sqrt(float64(len(feats)))
		for k := range x {
			x[k] = sd * rng.NormFloat64()
		}
	}
	x = append(x, initTail(p, hidden, rng)...)
	dec := cfg.refitDecay()
	nt := newNet(p.X.columns(feats), p.y, p.c, hidden, false, dec)
	if _, err := minimize(ctx, nt, x, cfg.maxIter(), refitTol); err != nil {
		return nil, err
	}
	return &Model{Features: append([]int(nil), feats...), net: nt, x: x}, nil
}
