package featsel

import (
	"context"
	"math"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/lasso"
)

// l1Fit solves L1-penalised logistic regression (two classes, an
// unpenalised intercept) at λ with lasso.Solve, the spred solver of
// `spred lasso`, on a working set of columns: solve on the set, check the
// optimality condition |X_jᵀ(σ(η) − y)|/n ≤ λ for every column outside,
// add the largest violators and repeat. The problem is convex, so the
// answer is the full problem's; only the cost changes.
func l1Fit(ctx context.Context, p problem, lam float64, warm *fit) (*fit, error) {
	if p.c != 2 {
		return nil, errors.Errorf("featsel: l1-logistic needs exactly 2 classes, got %d (filter the labels to two classes)", p.c)
	}
	n, d := p.X.Rows, p.X.Cols
	y := make([]float64, n)
	for i, v := range p.y {
		y[i] = float64(v)
	}
	var feats []int
	if warm != nil {
		feats = append(feats, warm.feats...)
	}
	eta := make([]float64, n)
	r := make([]float64, n)
	gn := make([]float64, d)
	inSet := make([]bool, d)
	var coef []float64
	var b0 float64
	iters := 0
	for round := 0; ; round++ {
		coef, b0 = nil, 0
		if len(feats) > 0 {
			z := p.X.columns(feats)
			res, err := lasso.Solve(ctx, z.Data, n, len(feats), y, lasso.Config{
				Family: lasso.FamilyBinomial, Lambda: lam, Intercept: true,
			})
			if err != nil {
				return nil, errors.Wrap(err, "featsel: l1-logistic")
			}
			iters += res.Iterations
			coef, b0 = res.Coef, res.Intercept
			// Keep the non-zero coefficients only.
			var nf []int
			var nc []float64
			for k, c := range coef {
				if c != 0 {
					nf = append(nf, feats[k])
					nc = append(nc, c)
				}
			}
			feats, coef = nf, nc
		}
		if len(feats) == 0 {
			m := 0.0
			for _, v := range y {
				m += v
			}
			m /= float64(n)
			b0 = math.Log(m / (1 - m))
		}
		for i := 0; i < n; i++ {
			row := p.X.Row(i)
			e := b0
			for k, j := range feats {
				e += row[j] * coef[k]
			}
			eta[i] = e
			r[i] = (sigmoid(e) - y[i]) / float64(n)
		}
		if round == maxOuter {
			break
		}
		for j := range gn {
			gn[j] = 0
		}
		for i := 0; i < n; i++ {
			ri := r[i]
			for j, x := range p.X.Row(i) {
				gn[j] += x * ri
			}
		}
		for j := range inSet {
			inSet[j] = false
		}
		for _, j := range feats {
			inSet[j] = true
		}
		var viol []int
		for j, g := range gn {
			gn[j] = math.Abs(g)
			if !inSet[j] && gn[j] > lam*(1+kktSlack) {
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
		feats = append(feats, viol...)
	}
	// As a two-class linear softmax head: logits (−η/2, η/2), so that the
	// refit starts from the L1 solution.
	a := len(feats)
	x := make([]float64, a+2*a+2)
	score := make([]float64, a)
	for k, c := range coef {
		x[k] = 1
		x[a+2*k] = -c / 2
		x[a+2*k+1] = c / 2
		score[k] = math.Abs(c)
	}
	x[3*a] = -b0 / 2
	x[3*a+1] = b0 / 2
	return &fit{lambda: lam, feats: feats, x: x, c: 2, score: score, norm: append([]float64(nil), score...), iters: iters}, nil
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
