package compress

import (
	"math"
	"math/rand"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// ErrNoPrunable is returned when a model has no prunable weight.
var ErrNoPrunable = errors.New("model has no prunable weights")

// Factors holds the pair (u, v) of every prunable weight of a model, outside
// any graph. It is a graph.WeightSource: asked for weight w, it registers u
// and v as decayed learnables and returns the node u⊙v.
type Factors struct {
	pairs map[string]*Pair
	order []string
	// tauScale multiplies τ per weight (ScaleThresholds); nil is 1
	// everywhere.
	tauScale map[string]float64
}

// ScaleThresholds makes Threshold and Stats compare |u⊙v| of the weight
// named name with τ·scale[name] instead of τ (1 for a name scale lacks, so
// nil restores one τ for all): with a λ per layer, passing its multipliers
// (Config.LayerThreshold) cuts a weight penalised less at a lower τ. A
// multiplier of 0 means that weight is never thresholded. A target's final
// τ is then met up to the rounding of τ·scale[name] in the factors' dtype
// (an entry at the boundary may fall either way).
func (f *Factors) ScaleThresholds(scale map[string]float64) {
	f.tauScale = nil
	if len(scale) > 0 {
		f.tauScale = make(map[string]float64, len(scale))
		for name, s := range scale {
			f.tauScale[name] = s
		}
	}
}

// tauOf is the threshold of the weight named name at the common τ tau.
func (f *Factors) tauOf(name string, tau float64) float64 {
	if s, ok := f.tauScale[name]; ok {
		return tau * s
	}
	return tau
}

// Pair is the factorisation w = U⊙V of one prunable weight.
type Pair struct {
	Name string        // the weight's parameter name
	U, V *tensor.Dense // same shape and dtype as the weight
}

// Split factorises every prunable weight of m into balanced factors
// u = sign(w)·√|w|, v = √|w|, so the network computes the same function.
func Split(m *models.Model) (*Factors, error) {
	return newFactors(m, func(_ string, w []float64, u, v []float64) { balanced(w, u, v) })
}

// balanced writes the balanced split u = sign(w)·√|w|, v = √|w| of w.
func balanced(w, u, v []float64) {
	for i, x := range w {
		r := math.Sqrt(math.Abs(x))
		u[i], v[i] = math.Copysign(r, x), r
		if x == 0 {
			u[i] = 0
		}
	}
}

// RandomFactors draws u and v independently from rng for training from
// scratch: every entry is N(0, s²) with s = (2/fan_in)^¼, so that u⊙v has the
// He-normal variance 2/fan_in.
func RandomFactors(m *models.Model, rng *rand.Rand) (*Factors, error) {
	infos, err := m.Spec.Params()
	if err != nil {
		return nil, err
	}
	fanin := map[string]int{}
	for _, pi := range infos {
		fanin[pi.Name] = pi.Fanin
	}
	return newFactors(m, func(name string, _ []float64, u, v []float64) {
		s := math.Pow(2/float64(fanin[name]), 0.25)
		for i := range u {
			u[i] = rng.NormFloat64() * s
		}
		for i := range v {
			v[i] = rng.NormFloat64() * s
		}
	})
}

func newFactors(m *models.Model, fill func(name string, w, u, v []float64)) (*Factors, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	f := &Factors{pairs: map[string]*Pair{}}
	for _, p := range m.Params.Prunable() {
		w := p.Float64s()
		u, v := make([]float64, len(w)), make([]float64, len(w))
		fill(p.Name, w, u, v)
		pu := models.NewParam(p.Name+".u", false, p.Value.Dtype(), p.Shape())
		pv := models.NewParam(p.Name+".v", false, p.Value.Dtype(), p.Shape())
		if err := pu.SetFloat64s(u); err != nil {
			return nil, err
		}
		if err := pv.SetFloat64s(v); err != nil {
			return nil, err
		}
		f.pairs[p.Name] = &Pair{Name: p.Name, U: pu.Value, V: pv.Value}
		f.order = append(f.order, p.Name)
	}
	if len(f.order) == 0 {
		return nil, errors.Wrapf(ErrNoPrunable, "model %q", m.Spec.Name)
	}
	return f, nil
}

// Pairs returns the factor pairs in parameter order.
func (f *Factors) Pairs() []*Pair {
	out := make([]*Pair, len(f.order))
	for i, n := range f.order {
		out[i] = f.pairs[n]
	}
	return out
}

// Weight implements graph.WeightSource: u⊙v, with u and v registered as
// decayed learnables named "<weight>.u" and "<weight>.v".
func (f *Factors) Weight(b *graph.Builder, p *models.Param) (*gorgonia.Node, error) {
	pair, ok := f.pairs[p.Name]
	if !ok {
		return nil, errors.Errorf("no factors for weight %q", p.Name)
	}
	u, err := b.Learnable(p.Name+".u", pair.U, true)
	if err != nil {
		return nil, err
	}
	v, err := b.Learnable(p.Name+".v", pair.V, true)
	if err != nil {
		return nil, err
	}
	return b.Product(u, v)
}
