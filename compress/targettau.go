package compress

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// capped is the τ of per-epoch thresholding: tau, lowered where it would
// zero more than the target's share of the weights whose magnitudes mags
// returns.
func (t *Target) capped(tau float64, mags func() []float64) float64 {
	if t == nil {
		return tau
	}
	return math.Min(tau, quantileTau(mags(), t.Sparsity))
}

// final is the τ of the final thresholding: tau without a target, else the
// τ that zeroes the target's share of the weights whose magnitudes mags
// returns (recorded in t).
func (t *Target) final(tau float64, mags func() []float64) float64 {
	if t == nil {
		return tau
	}
	t.Threshold = quantileTau(mags(), t.Sparsity)
	return t.Threshold
}

// quantileTau is the τ at which round(sparsity·N) of the N magnitudes are
// below τ (fewer only where magnitudes tie): the smallest magnitude kept.
// It is a value of mags, so that comparing in float32 is exact.
func quantileTau(mags []float64, sparsity float64) float64 {
	if len(mags) == 0 {
		return 0
	}
	s := append([]float64(nil), mags...)
	sort.Float64s(s)
	k := int(math.Round(sparsity * float64(len(s))))
	if k >= len(s) {
		return math.Nextafter(s[len(s)-1], math.Inf(1))
	}
	return s[k]
}

// magnitudes returns |u⊙v| of every factorised weight, the product rounded
// in the factors' dtype as Threshold and Collapse round it, and divided by
// the weight's multiplier of τ where ScaleThresholds gave one (+Inf for a
// multiplier of 0), so that a τ ranks them as Threshold compares them.
func (f *Factors) magnitudes() []float64 {
	var out []float64
	for _, p := range f.Pairs() {
		start := len(out)
		switch u := p.U.Data().(type) {
		case []float32:
			v := p.V.Data().([]float32)
			for i := range u {
				out = append(out, math.Abs(float64(u[i]*v[i])))
			}
		case []float64:
			v := p.V.Data().([]float64)
			for i := range u {
				out = append(out, math.Abs(u[i]*v[i]))
			}
		}
		if s, ok := f.tauScale[p.Name]; ok {
			for i := start; i < len(out); i++ {
				if s == 0 {
					out[i] = math.Inf(1) // never thresholded
				} else {
					out[i] /= s
				}
			}
		}
	}
	return out
}

// denseMagnitudes returns |w| of every prunable weight of m.
func denseMagnitudes(m *models.Model) []float64 {
	var out []float64
	for _, p := range m.Params.Prunable() {
		for _, x := range p.Float64s() {
			out = append(out, math.Abs(x))
		}
	}
	return out
}

// denseSparsity is the fraction of prunable weights of m with |w| < tau.
func denseSparsity(m *models.Model, tau float64) float64 {
	small, all := 0, 0
	for _, p := range m.Params.Prunable() {
		for _, x := range p.Float64s() {
			if math.Abs(x) < tau {
				small++
			}
		}
		all += p.Len()
	}
	if all == 0 {
		return 0
	}
	return float64(small) / float64(all)
}

// structuredCapped is capped for a structured pass: tau, lowered where
// thresholding and thinning would compress beyond the target ratio.
func (t *Target) structuredCapped(tau float64, src structuredSource, work *models.Model) (float64, error) {
	if t == nil {
		return tau, nil
	}
	at, err := structuredTau(src, work, 1/(1-t.Sparsity))
	return math.Min(tau, at), err
}

// structuredFinal is final for a structured pass: the τ at which
// thresholding src and thinning gives the ratio closest to the target.
func (t *Target) structuredFinal(tau float64, src structuredSource, work *models.Model) (float64, error) {
	if t == nil {
		return tau, nil
	}
	at, err := structuredTau(src, work, 1/(1-t.Sparsity))
	t.Threshold = at
	return at, err
}

// structuredTau finds, by bisection in log τ, the threshold at which
// thresholding src, collapsing it into a copy of work and thinning that
// gives the compression ratio (against work's shapes) closest to ratio.
// src is left as it was.
func structuredTau(src structuredSource, work *models.Model, ratio float64) (float64, error) {
	snap := snapshotOf(src)
	ratioAt := func(tau float64) (float64, error) {
		defer snap.restore()
		src.Threshold(tau, nil)
		m := &models.Model{Spec: work.Spec, Params: work.Params.Clone(), Meta: work.Meta}
		if err := src.Collapse(m); err != nil {
			return 0, err
		}
		thin, _, err := models.Thin(m)
		if err != nil {
			return math.Inf(1), nil // nothing left to thin to: beyond any ratio
		}
		var r Report
		if err := r.countThinned(work.Spec, thin); err != nil {
			return 0, err
		}
		if r.Totals.PrunableNonZero == 0 {
			return math.Inf(1), nil
		}
		return float64(r.Totals.PrunableParams) / float64(r.Totals.PrunableNonZero), nil
	}
	// hi: every group and weight below it.
	hi := 1e-3
	for i := 0; src.Stats(hi).Sparsity() < 1; i++ {
		if i == 200 {
			return 0, errors.New("target: the weights are not finite")
		}
		hi *= 2
	}
	lo := hi
	rlo := math.Inf(1)
	for i := 0; rlo >= ratio; i++ {
		if i == 200 {
			return lo, nil // already compressed beyond the ratio with no threshold
		}
		lo /= 4
		var err error
		if rlo, err = ratioAt(lo); err != nil {
			return 0, err
		}
	}
	rhi, err := ratioAt(hi)
	if err != nil {
		return 0, err
	}
	for i := 0; i < 60 && hi/lo > 1+1e-9; i++ {
		mid := math.Sqrt(lo * hi)
		r, err := ratioAt(mid)
		if err != nil {
			return 0, err
		}
		if r >= ratio {
			hi, rhi = mid, r
		} else {
			lo, rlo = mid, r
		}
	}
	if math.Log(ratio/rlo) < math.Log(rhi/ratio) {
		return lo, nil
	}
	return hi, nil
}

// snapshot holds the values of a factorisation's tensors, to try
// thresholds on it and put it back.
type snapshot struct {
	ts    []*tensor.Dense
	saved []interface{}
}

func snapshotOf(src structuredSource) *snapshot {
	var ts []*tensor.Dense
	elem := func(f *Factors) {
		for _, p := range f.Pairs() {
			ts = append(ts, p.U, p.V)
		}
	}
	switch s := src.(type) {
	case *Groups:
		for _, gp := range s.Grouped() {
			ts = append(ts, gp.G, gp.V)
		}
		elem(s.elem)
	case *Coupled:
		for _, sp := range s.spaces {
			ts = append(ts, sp.G)
		}
		for _, name := range s.order {
			if f, ok := s.factors[name]; ok {
				ts = append(ts, f.V)
			}
		}
		elem(s.elem)
	}
	sn := &snapshot{ts: ts}
	for _, t := range ts {
		switch d := t.Data().(type) {
		case []float32:
			sn.saved = append(sn.saved, append([]float32(nil), d...))
		case []float64:
			sn.saved = append(sn.saved, append([]float64(nil), d...))
		}
	}
	return sn
}

func (sn *snapshot) restore() {
	for i, t := range sn.ts {
		switch d := t.Data().(type) {
		case []float32:
			copy(d, sn.saved[i].([]float32))
		case []float64:
			copy(d, sn.saved[i].([]float64))
		}
	}
}

// unitMagnitudes returns what a structured threshold compares with τ: the
// norm of every unit (grouped weights) or channel group (coupled), then
// |u⊙v| of every element-wise weight, with the number of prunable weights
// each holds.
func unitMagnitudes(src structuredSource) ([]float64, []int) {
	var mags []float64
	var weights []int
	var elem *Factors
	switch s := src.(type) {
	case *Groups:
		for _, gp := range s.Grouped() {
			per := gp.V.Shape().TotalSize() / gp.Units
			for _, n := range gp.norms() {
				mags = append(mags, n)
				weights = append(weights, per)
			}
		}
		elem = s.elem
	case *Coupled:
		for k, n := range s.norms() {
			grp, w := s.groups[k], 0
			for a, name := range grp.Params {
				if f := s.factors[name]; f != nil && f.prunable {
					w += len(grp.Index[a])
				}
			}
			mags = append(mags, n)
			weights = append(weights, w)
		}
		elem = s.elem
	}
	if elem != nil {
		for _, m := range elem.magnitudes() {
			mags = append(mags, m)
			weights = append(weights, 1)
		}
	}
	return mags, weights
}
