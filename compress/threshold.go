package compress

import (
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// Momentum is the per-entry state an optimizer keeps for its learnables,
// by name: the velocity of SGD with momentum. *train.SGD implements it.
type Momentum interface {
	// ZeroVelocity sets the velocity of the listed entries of the named
	// learnable to zero (a learnable without velocity is left alone).
	ZeroVelocity(name string, idx []int)
}

// Threshold sets both factors to exactly zero wherever |u⊙v| < tau (times
// the weight's multiplier of ScaleThresholds, if any) and
// returns how many entries it zeroed that were not zero already. The
// velocity opt keeps for u and v (the learnables "<weight>.u" and
// "<weight>.v") is zeroed at every entry set to zero, so that a dead
// weight stays dead: at u = v = 0 both gradients vanish, and only a
// leftover velocity could move it. opt may be nil for SGD without
// momentum; in a training loop of one's own, pass its optimizer.
func (f *Factors) Threshold(tau float64, opt Momentum) int {
	n := 0
	var idx []int
	for _, p := range f.Pairs() {
		var z int
		t := f.tauOf(p.Name, tau)
		switch u := p.U.Data().(type) {
		case []float32:
			z, idx = threshold(u, p.V.Data().([]float32), float32(t), idx[:0])
		case []float64:
			z, idx = threshold(u, p.V.Data().([]float64), t, idx[:0])
		}
		n += z
		if opt != nil && len(idx) > 0 {
			opt.ZeroVelocity(p.Name+".u", idx)
			opt.ZeroVelocity(p.Name+".v", idx)
		}
	}
	return n
}

// threshold zeroes the small products of u and v and returns how many were
// not zero already, and idx with the indices of every entry it zeroed
// appended.
func threshold[T float32 | float64](u, v []T, tau T, idx []int) (int, []int) {
	n := 0
	for i := range u {
		w := u[i] * v[i]
		if w < tau && -w < tau {
			if w != 0 {
				n++
			}
			u[i], v[i] = 0, 0
			idx = append(idx, i)
		}
	}
	return n, idx
}

// Collapse writes u⊙v into the prunable weights of m, which must be the
// model the factors were made from (same names, shapes and dtype).
func (f *Factors) Collapse(m *models.Model) error {
	for _, p := range f.Pairs() {
		w := m.Params.Get(p.Name)
		if w == nil {
			return errors.Errorf("collapse: model has no weight %q", p.Name)
		}
		if !w.Value.Shape().Eq(p.U.Shape()) || w.Value.Dtype() != p.U.Dtype() {
			return errors.Errorf("collapse: weight %q is %v %v, factors are %v %v", p.Name, w.Value.Dtype(), w.Value.Shape(), p.U.Dtype(), p.U.Shape())
		}
		switch u := p.U.Data().(type) {
		case []float32:
			hadamard(w.Value.Data().([]float32), u, p.V.Data().([]float32))
		case []float64:
			hadamard(w.Value.Data().([]float64), u, p.V.Data().([]float64))
		}
	}
	return nil
}

func hadamard[T float32 | float64](w, u, v []T) {
	for i := range w {
		w[i] = u[i] * v[i]
	}
}

// FactorStats describe the factors at one moment.
type FactorStats struct {
	Weights   int     // prunable weights
	Small     int     // weights with |u⊙v| < τ (zero after thresholding)
	Imbalance float64 // mean |u² − v²| over all weights: 0 at balance
}

// Sparsity is the fraction of weights below the threshold.
func (s FactorStats) Sparsity() float64 {
	if s.Weights == 0 {
		return 0
	}
	return float64(s.Small) / float64(s.Weights)
}

// Stats measures the factors against threshold tau (times each weight's
// multiplier of ScaleThresholds).
func (f *Factors) Stats(tau float64) FactorStats {
	var st FactorStats
	var imb float64
	for _, p := range f.Pairs() {
		u, v := models.Float64s(p.U.Data()), models.Float64s(p.V.Data())
		t := f.tauOf(p.Name, tau)
		for i := range u {
			w := u[i] * v[i]
			if math.Abs(w) < t {
				st.Small++
			}
			imb += math.Abs(u[i]*u[i] - v[i]*v[i])
		}
		st.Weights += len(u)
	}
	if st.Weights > 0 {
		st.Imbalance = imb / float64(st.Weights)
	}
	return st
}
