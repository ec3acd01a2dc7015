package compress

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Groups is the factorisation of a structured pass. The weight of every
// grouped layer is rewritten per unit (an output neuron of a dense layer,
// whose weights are a column of W [in, out]; a filter of a conv2d layer,
// W[f] of W [filters, channels, k, k]) as
//
//	w_unit = g_unit · V_unit
//
// with one scalar g per unit and V of the weight's shape; the other prunable
// weights keep the element-wise factors u⊙v. Groups is a graph.WeightSource:
// it registers g and V (or u and v) as learnables decayed by the same λ.
//
// # The group-lasso factor
//
// Decaying g and every entry of V by the same λ is exactly the group lasso
// λ Σ_units ‖w_unit‖₂ on the mean loss, with factor 1 and no √(group size):
// for a fixed w_unit = g·V,
//
//	(λ/2)(g² + ‖V‖²) ≥ λ |g|·‖V‖ = λ ‖w_unit‖₂,
//
// with equality exactly at balance, g² = ‖V‖². Any w_unit can be split in
// balance with g = √‖w_unit‖₂, V = w_unit/√‖w_unit‖₂ (SplitGroups does), so
// the minimum over (g, V) of L(g·V) + (λ/2)(Σg² + ‖V‖²) equals the minimum
// over w of L(w) + λ Σ‖w_unit‖₂. More generally, decays a on g and b on V
// give √(ab)·‖w_unit‖₂; a group lasso weighted by √p_unit (p_unit weights in
// the unit) would need the decay λ·p_unit on g. Penalty computes the
// left-hand side, so tests can check the identity.
type Groups struct {
	elem  *Factors
	pairs map[string]*GroupPair
	order []string // every prunable weight, in parameter order
}

// GroupPair is the factorisation w_unit = G[unit]·V_unit of one weight.
type GroupPair struct {
	Name  string        // the weight's parameter name
	Conv  bool          // a conv2d weight [filters, channels, k, k]; otherwise dense [in, out]
	Units int           // output neurons or filters
	G     *tensor.Dense // [Units], the weight's dtype
	V     *tensor.Dense // the weight's shape and dtype
}

// SplitGroups factorises the prunable weights of m for structure: grouped
// layers into balanced (g, V), the others into balanced (u, v) as Split
// does. The network computes the same function. It fails when structure
// groups no layer of m.
func SplitGroups(m *models.Model, structure string) (*Groups, error) {
	if !(structure == StructureNeuron || structure == StructureFilter || structure == StructureMixed) {
		return nil, errors.Wrapf(ErrConfig, "structure %q is not a grouped one (want neuron, filter or mixed)", structure)
	}
	if err := models.Thinnable(m.Spec); err != nil {
		return nil, errors.Wrapf(ErrConfig, "structured spred: %v", err)
	}
	if models.ChainThinnable(m.Spec) != nil {
		return nil, errors.Wrapf(ErrConfig, "model %q is thinned by channel spaces: use SplitCoupled", m.Spec.Name)
	}
	elem, err := Split(m)
	if err != nil {
		return nil, err
	}
	gs := &Groups{elem: elem, pairs: map[string]*GroupPair{}, order: elem.order}
	kinds := map[string]string{}
	for _, l := range m.Spec.Layers {
		if l.Kind == models.Dense || l.Kind == models.Conv2d {
			kinds[models.WeightName(l.Name)] = l.Kind
		}
	}
	var keep []string
	for _, name := range elem.order {
		kind := kinds[name]
		if !grouped(structure, kind) {
			keep = append(keep, name)
			continue
		}
		p := m.Params.Get(name)
		gp := &GroupPair{Name: name, Conv: kind == models.Conv2d}
		sh := p.Shape()
		if gp.Conv {
			gp.Units = sh[0]
		} else {
			gp.Units = sh[1]
		}
		w := p.Float64s()
		g := make([]float64, gp.Units)
		v := make([]float64, len(w))
		for j := range g {
			norm := 0.0
			gp.each(len(w), j, func(i int) { norm += w[i] * w[i] })
			norm = math.Sqrt(norm)
			if norm == 0 {
				continue
			}
			g[j] = math.Sqrt(norm)
			gp.each(len(w), j, func(i int) { v[i] = w[i] / g[j] })
		}
		pg := models.NewParam(name+".g", false, p.Value.Dtype(), []int{gp.Units})
		pv := models.NewParam(name+".V", false, p.Value.Dtype(), sh)
		if err := pg.SetFloat64s(g); err != nil {
			return nil, err
		}
		if err := pv.SetFloat64s(v); err != nil {
			return nil, err
		}
		gp.G, gp.V = pg.Value, pv.Value
		gs.pairs[name] = gp
		delete(elem.pairs, name)
	}
	elem.order = keep
	if len(gs.pairs) == 0 {
		return nil, errors.Wrapf(ErrConfig, "structure %s groups no layer of model %q (neuron needs a dense layer, filter a conv2d layer)", structure, m.Spec.Name)
	}
	return gs, nil
}

// each calls f with the index of every weight of unit j in a weight of n
// values.
func (gp *GroupPair) each(n, j int, f func(i int)) {
	if gp.Conv {
		per := n / gp.Units
		for i := j * per; i < (j+1)*per; i++ {
			f(i)
		}
		return
	}
	for i := j; i < n; i += gp.Units {
		f(i)
	}
}

// Grouped returns the grouped pairs in parameter order.
func (gs *Groups) Grouped() []*GroupPair {
	var out []*GroupPair
	for _, n := range gs.order {
		if gp, ok := gs.pairs[n]; ok {
			out = append(out, gp)
		}
	}
	return out
}

// Elementwise returns the element-wise factors of the weights not grouped.
func (gs *Groups) Elementwise() *Factors { return gs.elem }

// Weight implements graph.WeightSource: g·V broadcast over each unit, with g
// and V registered as decayed learnables "<weight>.g" and "<weight>.V"; an
// element-wise weight is u⊙v as for Factors.
func (gs *Groups) Weight(b *graph.Builder, p *models.Param) (*gorgonia.Node, error) {
	gp, ok := gs.pairs[p.Name]
	if !ok {
		return gs.elem.Weight(b, p)
	}
	g, err := b.Learnable(p.Name+".g", gp.G, true)
	if err != nil {
		return nil, err
	}
	v, err := b.Learnable(p.Name+".V", gp.V, true)
	if err != nil {
		return nil, err
	}
	if gp.Conv {
		return gorgonia.BroadcastHadamardProd(v, g, nil, []byte{1, 2, 3})
	}
	return gorgonia.BroadcastHadamardProd(v, g, nil, []byte{0})
}

// norms returns ‖w_unit‖₂ = |g|·‖V_unit‖ of every unit.
func (gp *GroupPair) norms() []float64 {
	g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
	out := make([]float64, gp.Units)
	for j := range out {
		s := 0.0
		gp.each(len(v), j, func(i int) { s += v[i] * v[i] })
		out[j] = math.Abs(g[j]) * math.Sqrt(s)
	}
	return out
}

// GroupNorms returns ‖w_unit‖₂ of every unit of every grouped weight.
func (gs *Groups) GroupNorms() map[string][]float64 {
	out := map[string][]float64{}
	for _, gp := range gs.Grouped() {
		out[gp.Name] = gp.norms()
	}
	return out
}

// Penalty is the decay term (λ/2)(Σg² + ‖V‖² + ‖u‖² + ‖v‖²) over all
// factors: at balance, λ(Σ_units ‖w_unit‖₂ + ‖w_elementwise‖₁).
func (gs *Groups) Penalty(lambda float64) float64 {
	s := 0.0
	sq := func(t *tensor.Dense) {
		for _, x := range models.Float64s(t.Data()) {
			s += x * x
		}
	}
	for _, gp := range gs.Grouped() {
		sq(gp.G)
		sq(gp.V)
	}
	for _, p := range gs.elem.Pairs() {
		sq(p.U)
		sq(p.V)
	}
	return lambda / 2 * s
}

// Threshold zeroes every unit whose weight norm ‖w_unit‖₂ is below tau (g
// and V_unit both set to 0) and every element-wise weight with |u⊙v| < tau,
// and zeroes opt's velocity of every entry it sets to zero (opt may be nil;
// see Factors.Threshold). It returns the units and elements it zeroed that
// were not zero already.
func (gs *Groups) Threshold(tau float64, opt Momentum) (units, elements int) {
	for _, gp := range gs.Grouped() {
		norms := gp.norms()
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		changed := false
		var gIdx, vIdx []int
		for j, n := range norms {
			if n >= tau {
				continue
			}
			if n != 0 {
				units++
			}
			if g[j] != 0 {
				changed = true
			}
			g[j] = 0
			gIdx = append(gIdx, j)
			gp.each(len(v), j, func(i int) {
				if v[i] != 0 {
					changed = true
				}
				v[i] = 0
				vIdx = append(vIdx, i)
			})
		}
		if changed {
			setData(gp.G, g)
			setData(gp.V, v)
		}
		if opt != nil && len(gIdx) > 0 {
			opt.ZeroVelocity(gp.Name+".g", gIdx)
			opt.ZeroVelocity(gp.Name+".V", vIdx)
		}
	}
	return units, gs.elem.Threshold(tau, opt)
}

func setData(t *tensor.Dense, vals []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i, x := range vals {
			d[i] = float32(x)
		}
	case []float64:
		copy(d, vals)
	}
}

// Collapse writes g·V and u⊙v into the prunable weights of m, the model
// the factors were made from.
func (gs *Groups) Collapse(m *models.Model) error {
	for _, gp := range gs.Grouped() {
		w := m.Params.Get(gp.Name)
		if w == nil {
			return errors.Errorf("collapse: model has no weight %q", gp.Name)
		}
		if !w.Value.Shape().Eq(gp.V.Shape()) || w.Value.Dtype() != gp.V.Dtype() {
			return errors.Errorf("collapse: weight %q is %v %v, factors are %v %v", gp.Name, w.Value.Dtype(), w.Value.Shape(), gp.V.Dtype(), gp.V.Shape())
		}
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		out := make([]float64, len(v))
		for j := range g {
			gp.each(len(v), j, func(i int) { out[i] = g[j] * v[i] })
		}
		// In float32 the product is rounded once, as Gorgonia's is.
		if err := w.SetFloat64s(out); err != nil {
			return err
		}
	}
	return gs.elem.Collapse(m)
}

// Stats measures the factors against tau: Small counts the weights of units
// with ‖w_unit‖₂ < tau and the element-wise weights with |u⊙v| < tau;
// Imbalance is the mean of |g² − ‖V_unit‖²| over units and |u² − v²| over
// element-wise weights.
func (gs *Groups) Stats(tau float64) FactorStats {
	st := gs.elem.Stats(tau)
	imb := st.Imbalance * float64(st.Weights)
	terms := st.Weights
	for _, gp := range gs.Grouped() {
		g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
		per := len(v) / gp.Units
		for j, n := range gp.norms() {
			s := 0.0
			gp.each(len(v), j, func(i int) { s += v[i] * v[i] })
			imb += math.Abs(g[j]*g[j] - s)
			if n < tau {
				st.Small += per
			}
		}
		st.Weights += len(v)
		terms += gp.Units
	}
	if terms > 0 {
		st.Imbalance = imb / float64(terms)
	}
	return st
}
