package compress

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Coupled is the structured pass on networks that models.Thin thins by
// channel spaces (residual networks, batch norm; see models.CoupledChannels).
// Channel c of a space is one group: filter (or neuron) c of every layer
// whose output lands in the space, with its bias, and the scale and shift c
// of every batch norm of the space. The penalty is the group lasso
//
//	λ Σ_groups ‖[filters; biases; scales; shifts]‖₂
//
// on the mean loss, the one Groups puts on a unit, over the concatenation:
// a group at zero is a channel that is zero everywhere it is read, which
// Thin removes from every layer at once. The batch-norm part matters most:
// a filter followed by a batch norm can shrink at no cost to the loss, so
// the norm of a group is held up by its batch norms' scales and shifts.
//
// # The spred form
//
// Every space has one learnable scale vector g of its channels
// ("space<k>.g", [channels]), and every tensor w of its groups — the weight
// of each producer, its bias, the scale and shift of each batch norm — a
// factor V of w's shape ("<w>.V"); the graph computes w = g_c·V on the
// entries of channel c (g broadcast along the filter axis of a conv2d
// weight [filters, channels/groups, k, k], along the units of a dense
// weight [in, units], entry by entry for a bias, scale or shift). Coupled
// is a graph.WeightSource for the weights and a graph.ParamSource for the
// biases, scales and shifts. Decaying g and every V by the same λ gives,
// per group,
//
//	(λ/2)(g_c² + ‖V_group‖²) ≥ λ |g_c|·‖V_group‖ = λ ‖w_group‖₂,
//
// with equality at balance g_c² = ‖V_group‖², exactly as for Groups: the
// minimum over (g, V) is the group lasso. The other prunable weights keep
// the element-wise factors u⊙v, decayed by λ.
type Coupled struct {
	elem    *Factors
	spaces  []*CoupledSpace
	groups  []*ChannelGroup
	factors map[string]*coupledFactor // by parameter name
	order   []string                  // every factorised parameter, in parameter order
}

// CoupledSpace is the scale vector of one channel space.
type CoupledSpace struct {
	Name   string        // the learnable's name, "space<k>.g"
	Space  int           // the index in models.CoupledChannels
	G      *tensor.Dense // [channels], the model's dtype
	Params []string      // the parameters factorised by G, in parameter order
}

// coupledFactor is w = g_c·V of one parameter.
type coupledFactor struct {
	space    *CoupledSpace
	name     string
	prunable bool
	V        *tensor.Dense
	// pattern is the axes g is broadcast along (nil: g and V have the
	// same shape).
	pattern []byte
	// channel gives the channel of every entry of V.
	channel []int
}

// ChannelGroup is channel Channel of one channel space: the entries Index
// of each parameter Params (parallel slices), and of its factor V.
type ChannelGroup struct {
	Space, Channel int
	Params         []string
	Index          [][]int
}

// SplitCoupled groups the channels of m for structure (filter: spaces of
// conv2d layers; neuron: of dense layers; mixed: both) into balanced
// factors g_c = √‖w_group‖₂, V = w/g_c (a zero group gives g_c = 0 and V
// = 0), and factorises the other prunable weights into balanced u⊙v as
// Split does. The network computes the same function. It fails for chains
// (use SplitGroups) and when structure groups no channel of m.
func SplitCoupled(m *models.Model, structure string) (*Coupled, error) {
	if !(structure == StructureNeuron || structure == StructureFilter || structure == StructureMixed) {
		return nil, errors.Wrapf(ErrConfig, "structure %q is not a grouped one (want neuron, filter or mixed)", structure)
	}
	if models.ChainThinnable(m.Spec) == nil {
		return nil, errors.Wrapf(ErrConfig, "model %q is thinned unit by unit: use SplitGroups", m.Spec.Name)
	}
	nodes, err := m.Spec.Nodes()
	if err != nil {
		return nil, err
	}
	cs, err := models.CoupledChannels(m.Spec)
	if err != nil {
		return nil, errors.Wrapf(ErrConfig, "structured spred: %v", err)
	}
	elem, err := Split(m)
	if err != nil {
		return nil, err
	}
	c := &Coupled{elem: elem, factors: map[string]*coupledFactor{}}
	for k, s := range cs.Spaces {
		if s.Fixed != "" || !grouped(structure, nodes[s.Producers[0]].Layer.Kind) {
			continue
		}
		sp := &CoupledSpace{Name: fmt.Sprintf("space%d.g", k), Space: k}
		var fs []*coupledFactor
		add := func(p *models.Param, pattern []byte, channel func(i int) int) {
			f := &coupledFactor{space: sp, name: p.Name, prunable: p.Prunable, pattern: pattern, channel: make([]int, p.Len())}
			for i := range f.channel {
				f.channel[i] = channel(i)
			}
			fs = append(fs, f)
			sp.Params = append(sp.Params, p.Name)
		}
		self := func(i int) int { return i }
		for _, i := range s.Producers {
			l := nodes[i].Layer
			w := m.Params.Get(models.WeightName(l.Name))
			sh := w.Shape()
			if l.Kind == models.Conv2d {
				per := sh[1] * sh[2] * sh[3]
				add(w, []byte{1, 2, 3}, func(i int) int { return i / per })
			} else {
				units := sh[1]
				add(w, []byte{0}, func(i int) int { return i % units })
			}
			if !l.NoBias {
				add(m.Params.Get(models.BiasName(l.Name)), nil, self)
			}
		}
		for _, i := range s.Norms {
			l := nodes[i].Layer
			add(m.Params.Get(models.ParamName(l.Name, models.RoleScale)), nil, self)
			add(m.Params.Get(models.ParamName(l.Name, models.RoleShift)), nil, self)
		}
		first := len(c.groups)
		for ch := 0; ch < s.Channels; ch++ {
			c.groups = append(c.groups, &ChannelGroup{Space: k, Channel: ch, Params: sp.Params, Index: make([][]int, len(fs))})
		}
		for a, f := range fs {
			for i, ch := range f.channel {
				g := c.groups[first+ch]
				g.Index[a] = append(g.Index[a], i)
			}
		}
		// The balanced split, group by group.
		vals := make([][]float64, len(fs))
		for a, f := range fs {
			vals[a] = m.Params.Get(f.name).Float64s()
		}
		gv := make([]float64, s.Channels)
		for ch := range gv {
			norm := 0.0
			for a := range fs {
				for _, i := range c.groups[first+ch].Index[a] {
					norm += vals[a][i] * vals[a][i]
				}
			}
			gv[ch] = math.Sqrt(math.Sqrt(norm))
		}
		dt := m.Params.Get(fs[0].name).Value.Dtype()
		pg := models.NewParam(sp.Name, false, dt, []int{s.Channels})
		if err := pg.SetFloat64s(gv); err != nil {
			return nil, err
		}
		sp.G = pg.Value
		for a, f := range fs {
			v := make([]float64, len(vals[a]))
			for i, x := range vals[a] {
				if g := gv[f.channel[i]]; g != 0 {
					v[i] = x / g
				}
			}
			p := m.Params.Get(f.name)
			pv := models.NewParam(f.name+".V", false, p.Value.Dtype(), p.Shape())
			if err := pv.SetFloat64s(v); err != nil {
				return nil, err
			}
			f.V = pv.Value
			c.factors[f.name] = f
		}
		c.spaces = append(c.spaces, sp)
	}
	if len(c.groups) == 0 {
		return nil, errors.Wrapf(ErrConfig, "structure %s groups no layer of model %q (neuron needs a dense layer, filter a conv2d layer, whose channels are not fixed)", structure, m.Spec.Name)
	}
	for _, p := range m.Params.All() {
		if c.factors[p.Name] != nil {
			c.order = append(c.order, p.Name)
		}
	}
	var keep []string
	for _, name := range elem.order {
		if c.factors[name] != nil {
			delete(elem.pairs, name)
			continue
		}
		keep = append(keep, name)
	}
	elem.order = keep
	return c, nil
}

// Groups returns the channel groups, space by space.
func (c *Coupled) Groups() []*ChannelGroup { return c.groups }

// Spaces returns the scale vectors of the grouped spaces.
func (c *Coupled) Spaces() []*CoupledSpace { return c.spaces }

// Factor returns the factor V of a grouped parameter, or nil.
func (c *Coupled) Factor(name string) *tensor.Dense {
	if f := c.factors[name]; f != nil {
		return f.V
	}
	return nil
}

// Elementwise returns the element-wise factors of the weights not grouped.
func (c *Coupled) Elementwise() *Factors { return c.elem }

// Weight implements graph.WeightSource: a grouped weight is g·V, broadcast
// along the filter (conv2d) or unit (dense) axis; the others are u⊙v as for
// Factors.
func (c *Coupled) Weight(b *graph.Builder, p *models.Param) (*gorgonia.Node, error) {
	if f := c.factors[p.Name]; f != nil {
		return c.node(b, f)
	}
	return c.elem.Weight(b, p)
}

// Param implements graph.ParamSource: a grouped bias, batch-norm scale or
// shift is g⊙V; the others are left to the graph.
func (c *Coupled) Param(b *graph.Builder, p *models.Param) (*gorgonia.Node, bool, error) {
	f := c.factors[p.Name]
	if f == nil {
		return nil, false, nil
	}
	n, err := c.node(b, f)
	return n, err == nil, err
}

// node registers g (once per graph) and V, both decayed, and returns g·V.
func (c *Coupled) node(b *graph.Builder, f *coupledFactor) (*gorgonia.Node, error) {
	g := b.Learned(f.space.Name)
	if g == nil {
		var err error
		if g, err = b.Learnable(f.space.Name, f.space.G, true); err != nil {
			return nil, err
		}
	}
	v, err := b.Learnable(f.name+".V", f.V, true)
	if err != nil {
		return nil, err
	}
	if f.pattern == nil {
		return b.Product(g, v)
	}
	return gorgonia.BroadcastHadamardProd(v, g, nil, f.pattern)
}

// values returns g of every space and V of every factor as float64.
func (c *Coupled) values() (g map[string][]float64, v map[string][]float64) {
	g, v = map[string][]float64{}, map[string][]float64{}
	for _, sp := range c.spaces {
		g[sp.Name] = models.Float64s(sp.G.Data())
	}
	for n, f := range c.factors {
		v[n] = models.Float64s(f.V.Data())
	}
	return g, v
}

// sqV returns ‖V_group‖² of every group.
func (c *Coupled) sqV(v map[string][]float64) []float64 {
	out := make([]float64, len(c.groups))
	for k, grp := range c.groups {
		s := 0.0
		for a, n := range grp.Params {
			x := v[n]
			for _, i := range grp.Index[a] {
				s += x[i] * x[i]
			}
		}
		out[k] = s
	}
	return out
}

// gOf returns g_c of every group.
func (c *Coupled) gOf(g map[string][]float64) []float64 {
	names := map[int]string{}
	for _, sp := range c.spaces {
		names[sp.Space] = sp.Name
	}
	out := make([]float64, len(c.groups))
	for k, grp := range c.groups {
		out[k] = g[names[grp.Space]][grp.Channel]
	}
	return out
}

// norms returns ‖w_group‖₂ = |g_c|·‖V_group‖ of every group.
func (c *Coupled) norms() []float64 {
	g, v := c.values()
	gs, sq := c.gOf(g), c.sqV(v)
	out := make([]float64, len(c.groups))
	for k := range out {
		out[k] = math.Abs(gs[k]) * math.Sqrt(sq[k])
	}
	return out
}

// GroupNorms returns ‖w_group‖₂ of every group, in the order of Groups.
func (c *Coupled) GroupNorms() []float64 { return c.norms() }

// Penalty is the decay term (λ/2)(Σ‖g‖² + ‖V‖² + ‖u‖² + ‖v‖²) over all
// factors: at balance, λ(Σ_groups ‖w_group‖₂ + ‖w_elementwise‖₁).
func (c *Coupled) Penalty(lambda float64) float64 {
	s := 0.0
	sq := func(t *tensor.Dense) {
		for _, x := range models.Float64s(t.Data()) {
			s += x * x
		}
	}
	for _, sp := range c.spaces {
		sq(sp.G)
	}
	for _, n := range c.order {
		sq(c.factors[n].V)
	}
	for _, p := range c.elem.Pairs() {
		sq(p.U)
		sq(p.V)
	}
	return lambda / 2 * s
}

// Threshold zeroes every group whose norm ‖w_group‖₂ is below tau (g_c and
// the group's entries of every V) and every element-wise weight with |u⊙v|
// < tau, and zeroes opt's velocity of every entry it sets to zero (opt may
// be nil). It returns the groups and elements it zeroed that were not zero
// already.
func (c *Coupled) Threshold(tau float64, opt Momentum) (units, elements int) {
	norms := c.norms()
	g, v := c.values()
	gIdx, vIdx := map[string][]int{}, map[string][]int{}
	names := map[int]string{}
	for _, sp := range c.spaces {
		names[sp.Space] = sp.Name
	}
	for k, grp := range c.groups {
		if norms[k] >= tau {
			continue
		}
		if norms[k] != 0 {
			units++
		}
		gn := names[grp.Space]
		g[gn][grp.Channel] = 0
		gIdx[gn] = append(gIdx[gn], grp.Channel)
		for a, n := range grp.Params {
			for _, i := range grp.Index[a] {
				v[n][i] = 0
			}
			vIdx[n] = append(vIdx[n], grp.Index[a]...)
		}
	}
	for _, sp := range c.spaces {
		if idx := gIdx[sp.Name]; len(idx) > 0 {
			setData(sp.G, g[sp.Name])
			if opt != nil {
				opt.ZeroVelocity(sp.Name, idx)
			}
		}
	}
	for _, n := range c.order {
		if idx := vIdx[n]; len(idx) > 0 {
			setData(c.factors[n].V, v[n])
			if opt != nil {
				opt.ZeroVelocity(n+".V", idx)
			}
		}
	}
	return units, c.elem.Threshold(tau, opt)
}

// Collapse writes g·V into the grouped parameters of m (weights, biases,
// batch-norm scales and shifts) and u⊙v into its element-wise weights; m
// is the model the factors were made from.
func (c *Coupled) Collapse(m *models.Model) error {
	g, v := c.values()
	for _, n := range c.order {
		f := c.factors[n]
		w := m.Params.Get(n)
		if w == nil {
			return errors.Errorf("collapse: model has no parameter %q", n)
		}
		if !w.Value.Shape().Eq(f.V.Shape()) || w.Value.Dtype() != f.V.Dtype() {
			return errors.Errorf("collapse: parameter %q is %v %v, its factor %v %v", n, w.Value.Dtype(), w.Value.Shape(), f.V.Dtype(), f.V.Shape())
		}
		gs, vs := g[f.space.Name], v[n]
		out := make([]float64, len(vs))
		for i, x := range vs {
			out[i] = gs[f.channel[i]] * x
		}
		// In float32 the product is rounded once, as the graph's is.
		if err := w.SetFloat64s(out); err != nil {
			return errors.Wrapf(err, "collapse: %s", n)
		}
	}
	return c.elem.Collapse(m)
}

// Stats measures the factors against tau: Small counts the prunable weights
// of groups with norm below tau and the element-wise weights with |u⊙v| <
// tau; Imbalance is the mean of |g_c² − ‖V_group‖²| over groups and |u² −
// v²| over element-wise weights.
func (c *Coupled) Stats(tau float64) FactorStats {
	st := c.elem.Stats(tau)
	imb := st.Imbalance * float64(st.Weights)
	terms := st.Weights
	prunable := map[string]bool{}
	for _, n := range c.order {
		if p := c.factors[n]; p.prunable {
			prunable[n] = true
			st.Weights += p.V.Shape().TotalSize()
		}
	}
	g, v := c.values()
	gs, sq := c.gOf(g), c.sqV(v)
	for k, grp := range c.groups {
		imb += math.Abs(gs[k]*gs[k] - sq[k])
		terms++
		if math.Abs(gs[k])*math.Sqrt(sq[k]) >= tau {
			continue
		}
		for a, name := range grp.Params {
			if prunable[name] {
				st.Small += len(grp.Index[a])
			}
		}
	}
	if terms > 0 {
		st.Imbalance = imb / float64(terms)
	}
	return st
}

// String describes the groups in a few words ("3 spaces, 96 channel
// groups").
func (c *Coupled) String() string {
	spaces := map[int]bool{}
	for _, g := range c.groups {
		spaces[g.Space] = true
	}
	return fmt.Sprintf("%d spaces, %d channel groups", len(spaces), len(c.groups))
}
