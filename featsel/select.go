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
	// Fits counts the penalised fits run (1 for a given λ, more for a
	// search); Iterations adds up their solver iterations.
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
// K features. The selected features are then ranked and the head is
// refitted on them alone (see Config.RefitDecay). The same inputs give the
// same result, bit for bit.
func Select(ctx context.Context, X *Matrix, y []int, classes int, cfg Config) (*Selection, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
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
	if cfg.Features > X.Cols {
		return nil, errors.Errorf("featsel: %d features wanted, the data has only %d", cfg.Features, X.Cols)
	}
	if cfg.method() == MethodL1Logistic && classes != 2 {
		return nil, errors.Errorf("featsel: l1-logistic needs exactly 2 classes, got %d (filter the labels to two classes)", classes)
	}
	p := problem{X: X, y: y, c: classes}
	s := &solver{p: p, cfg: cfg}
	lmax := s.lambdaMax()
	var f *fit
	var err error
	if cfg.Features > 0 {
		f, err = s.search(ctx, lmax, cfg.Features)
	} else {
		f, err = s.solve(ctx, cfg.Lambda, nil)
	}
	if err != nil {
		return nil, err
	}
	sel := rank(f)
	sel.LambdaMax = lmax
	sel.Fits, sel.Iterations = s.fits, s.iters
	if sel.Model, err = refit(ctx, p, cfg, f.hidden, sel.Features); err != nil {
		return nil, err
	}
	return sel, nil
}

// solver runs the fits of one Select and counts them.
type solver struct {
	p     problem
	cfg   Config
	fits  int
	iters int
}

func (s *solver) solve(ctx context.Context, lam float64, warm *fit) (*fit, error) {
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
// features survive, and returns the fit there.
func (s *solver) search(ctx context.Context, lmax float64, k int) (*fit, error) {
	if !(lmax > 0) {
		// No feature has any gradient: nothing can be selected.
		return s.solve(ctx, 1, nil)
	}
	hi := lmax
	fHi, err := s.solve(ctx, hi, nil)
	if err != nil {
		return nil, err
	}
	if len(fHi.feats) > k {
		return nil, errors.Errorf("featsel: %d features survive at λ_max = %g, more than %d", len(fHi.feats), hi, k)
	}
	lo := 0.0
	// Bracket: step down by factors of 4 until more than k survive.
	for step := 0; step < 12; step++ {
		l := hi / 4
		f, err := s.solve(ctx, l, fHi)
		if err != nil {
			return nil, err
		}
		if len(f.feats) > k {
			lo = l
			break
		}
		hi, fHi = l, f
		if len(f.feats) == k {
			return fHi, nil
		}
	}
	if lo == 0 {
		return fHi, nil // at most k survive down to λ_max·4⁻¹²
	}
	for it := 0; it < s.cfg.searchIter() && hi/lo > 1+1e-4; it++ {
		mid := math.Sqrt(lo * hi)
		f, err := s.solve(ctx, mid, fHi)
		if err != nil {
			return nil, err
		}
		if len(f.feats) <= k {
			hi, fHi = mid, f
			if len(f.feats) == k {
				break
			}
		} else {
			lo = mid
		}
	}
	return fHi, nil
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
