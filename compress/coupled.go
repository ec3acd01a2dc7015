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
// The graph trains batch-norm scales and shifts and biases as plain
// learnables; they do not pass through a graph.WeightSource, so the
// factorisation w = g·V cannot reach them. Coupled therefore applies the
// penalty by its proximal step after every SGD step (Prox: group soft
// thresholding by lr·λ), which has the same minimisers and gives exact
// zeros; the grouped weights are plain learnables without decay. The other
// prunable weights keep the element-wise factors u⊙v, decayed by λ.
type Coupled struct {
	elem   *Factors
	groups []*ChannelGroup
	params map[string]*models.Param // every grouped parameter, by name
	order  []string                 // grouped weights, in parameter order
}

// ChannelGroup is channel Channel of one channel space: the entries Index
// of each parameter Params (parallel slices).
type ChannelGroup struct {
	Space, Channel int
	Params         []string
	Index          [][]int
}

// SplitCoupled groups the channels of m for structure (filter: spaces of
// conv2d layers; neuron: of dense layers; mixed: both) and factorises the
// other prunable weights into balanced u⊙v as Split does. The parameters
// of the groups are m's own, trained in place. The network computes the
// same function. It fails for chains (use SplitGroups) and when structure
// groups no channel of m.
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
	c := &Coupled{elem: elem, params: map[string]*models.Param{}}
	inGroup := map[string]bool{}
	for k, s := range cs.Spaces {
		if s.Fixed != "" || !grouped(structure, nodes[s.Producers[0]].Layer.Kind) {
			continue
		}
		members := map[string]func(ch int) []int{}
		var names []string
		add := func(name string, idx func(ch int) []int) {
			names = append(names, name)
			members[name] = idx
			c.params[name] = m.Params.Get(name)
		}
		one := func(ch int) []int { return []int{ch} }
		for _, i := range s.Producers {
			l := nodes[i].Layer
			w := m.Params.Get(models.WeightName(l.Name))
			sh := w.Shape()
			if l.Kind == models.Conv2d {
				per := sh[1] * sh[2] * sh[3]
				add(w.Name, func(ch int) []int { return span(ch*per, (ch+1)*per) })
			} else {
				in, units := sh[0], sh[1]
				add(w.Name, func(ch int) []int {
					idx := make([]int, in)
					for r := range idx {
						idx[r] = r*units + ch
					}
					return idx
				})
			}
			inGroup[w.Name] = true
			if !l.NoBias {
				add(models.BiasName(l.Name), one)
			}
		}
		for _, i := range s.Norms {
			l := nodes[i].Layer
			add(models.ParamName(l.Name, models.RoleScale), one)
			add(models.ParamName(l.Name, models.RoleShift), one)
		}
		for ch := 0; ch < s.Channels; ch++ {
			g := &ChannelGroup{Space: k, Channel: ch, Params: names}
			for _, n := range names {
				g.Index = append(g.Index, members[n](ch))
			}
			c.groups = append(c.groups, g)
		}
	}
	if len(c.groups) == 0 {
		return nil, errors.Wrapf(ErrConfig, "structure %s groups no layer of model %q (neuron needs a dense layer, filter a conv2d layer, whose channels are not fixed)", structure, m.Spec.Name)
	}
	var keep []string
	for _, name := range elem.order {
		if inGroup[name] {
			c.order = append(c.order, name)
			delete(elem.pairs, name)
			continue
		}
		keep = append(keep, name)
	}
	elem.order = keep
	return c, nil
}

func span(from, to int) []int {
	out := make([]int, to-from)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// Groups returns the channel groups, space by space.
func (c *Coupled) Groups() []*ChannelGroup { return c.groups }

// Elementwise returns the element-wise factors of the weights not grouped.
func (c *Coupled) Elementwise() *Factors { return c.elem }

// Weight implements graph.WeightSource: a grouped weight is itself a
// learnable without decay (Prox penalises it); the others are u⊙v as for
// Factors.
func (c *Coupled) Weight(b *graph.Builder, p *models.Param) (*gorgonia.Node, error) {
	if _, ok := c.params[p.Name]; ok && p.Prunable {
		return b.Learnable(p.Name, c.params[p.Name].Value, false)
	}
	return c.elem.Weight(b, p)
}

// norms returns ‖group‖₂ of every group.
func (c *Coupled) norms() []float64 {
	vals := map[string][]float64{}
	for n, p := range c.params {
		vals[n] = p.Float64s()
	}
	out := make([]float64, len(c.groups))
	for k, g := range c.groups {
		s := 0.0
		for a, n := range g.Params {
			v := vals[n]
			for _, i := range g.Index[a] {
				s += v[i] * v[i]
			}
		}
		out[k] = math.Sqrt(s)
	}
	return out
}

// GroupNorms returns ‖group‖₂ of every group, in the order of Groups.
func (c *Coupled) GroupNorms() []float64 { return c.norms() }

// Penalty is λ Σ‖group‖₂ plus the decay (λ/2)(‖u‖² + ‖v‖²) of the
// element-wise factors (at balance λ‖w‖₁).
func (c *Coupled) Penalty(lambda float64) float64 {
	s := 0.0
	for _, n := range c.norms() {
		s += lambda * n
	}
	for _, p := range c.elem.Pairs() {
		for _, t := range []*tensor.Dense{p.U, p.V} {
			for _, x := range models.Float64s(t.Data()) {
				s += lambda / 2 * x * x
			}
		}
	}
	return s
}

// scale multiplies the entries of the groups listed by f[k] (0 sets them
// to zero) and zeroes opt's velocity of the groups set to zero (opt may be
// nil). It returns the groups it set to zero that were not zero already.
func (c *Coupled) scale(f []float64, norms []float64, opt Momentum) int {
	zeroed := 0
	vel := map[string][]int{}
	for k, g := range c.groups {
		if f[k] == 1 {
			continue
		}
		if f[k] == 0 {
			if norms[k] != 0 {
				zeroed++
			}
			for a, n := range g.Params {
				vel[n] = append(vel[n], g.Index[a]...)
			}
		}
		for a, n := range g.Params {
			scaleEntries(c.params[n].Value, g.Index[a], f[k])
		}
	}
	if opt != nil {
		for _, n := range c.names() {
			if idx := vel[n]; len(idx) > 0 {
				opt.ZeroVelocity(n, idx)
			}
		}
	}
	return zeroed
}

// names lists the grouped parameters in a fixed order.
func (c *Coupled) names() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range c.groups {
		for _, n := range g.Params {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

func scaleEntries(t *tensor.Dense, idx []int, f float64) {
	switch d := t.Data().(type) {
	case []float32:
		for _, i := range idx {
			d[i] = float32(float64(d[i]) * f)
		}
	case []float64:
		for _, i := range idx {
			d[i] *= f
		}
	}
}

// Prox is the proximal step of lr·λ Σ‖group‖₂: every group is scaled by
// max(0, 1 − lr·λ/‖group‖₂). Groups set to zero lose their velocity in
// opt (which may be nil). It returns the groups it set to zero.
func (c *Coupled) Prox(step float64, opt Momentum) int {
	norms := c.norms()
	f := make([]float64, len(norms))
	for k, n := range norms {
		switch {
		case n <= step:
			f[k] = 0
		default:
			f[k] = 1 - step/n
		}
	}
	return c.scale(f, norms, opt)
}

// Threshold zeroes every group whose norm is below tau and every
// element-wise weight with |u⊙v| < tau, and zeroes opt's velocity of what
// it zeroes (opt may be nil). It returns the groups and elements it zeroed
// that were not zero already.
func (c *Coupled) Threshold(tau float64, opt Momentum) (units, elements int) {
	norms := c.norms()
	f := make([]float64, len(norms))
	for k, n := range norms {
		f[k] = 1
		if n < tau {
			f[k] = 0
		}
	}
	return c.scale(f, norms, opt), c.elem.Threshold(tau, opt)
}

// Collapse writes u⊙v into the element-wise weights of m and copies the
// grouped parameters into m when they are not m's own.
func (c *Coupled) Collapse(m *models.Model) error {
	for n, p := range c.params {
		w := m.Params.Get(n)
		if w == nil {
			return errors.Errorf("collapse: model has no parameter %q", n)
		}
		if w.Value == p.Value {
			continue
		}
		if err := w.SetFloat64s(p.Float64s()); err != nil {
			return errors.Wrapf(err, "collapse: %s", n)
		}
	}
	return c.elem.Collapse(m)
}

// Stats measures the parameters against tau: Small counts the weights of
// groups with norm below tau and the element-wise weights with |u⊙v| <
// tau; Imbalance is that of the element-wise factors (the groups have no
// factors).
func (c *Coupled) Stats(tau float64) FactorStats {
	st := c.elem.Stats(tau)
	for _, n := range c.order {
		st.Weights += c.params[n].Len()
	}
	for k, n := range c.norms() {
		if n >= tau {
			continue
		}
		g := c.groups[k]
		for a, name := range g.Params {
			if c.params[name].Prunable {
				st.Small += len(g.Index[a])
			}
		}
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
