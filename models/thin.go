package models

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// ThinReport says what Thin removed: one entry per dense or conv2d layer, in
// order, and the forward multiply-adds per example before and after.
type ThinReport struct {
	Layers      []ThinLayer `json:"layers"`
	FLOPsBefore int64       `json:"flops_before"`
	FLOPsAfter  int64       `json:"flops_after"`
}

// ThinLayer is one dense or conv2d layer before and after thinning. Units
// are output neurons (dense) or filters (conv2d); inputs are input features
// (dense, so a dense layer after a Flatten counts every position of every
// channel) or input channels (conv2d).
type ThinLayer struct {
	Name         string `json:"name"`
	UnitsBefore  int    `json:"units_before"`
	UnitsAfter   int    `json:"units_after"`
	InputsBefore int    `json:"inputs_before"`
	InputsAfter  int    `json:"inputs_after"`
}

// FLOPs returns the multiply-adds of one forward pass for one example, as
// each layer kind counts them (KindInfo.MACs): in·out per dense layer and
// filters·(channels/groups)·kernel²·outH·outW per conv2d layer. Biases,
// normalisation, activations, pooling and dropout are not counted.
func FLOPs(s Spec) (int64, error) {
	nodes, err := s.Nodes()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, nd := range nodes {
		if k := Kind(nd.Layer.Kind); k.MACs != nil {
			n += k.MACs(nd.Layer, nd.InShapes, nd.Out)
		}
	}
	return n, nil
}

// thinLayer is one dense or conv2d layer being thinned, its values in
// float64. A dense weight is [in, units], a conv weight [units, in, k, k].
type thinLayer struct {
	idx     int // index in Spec.Layers
	l       Layer
	in      int // input features (dense) or channels (conv2d)
	units   int
	w, b    []float64
	alive   []bool // output units kept
	inAlive []bool // inputs kept (features or channels)
	group   int    // inputs of the next layer per unit of this one (positions per channel after a Flatten)
	between []Layer
}

func (t *thinLayer) k2() int { return t.l.Kernel * t.l.Kernel }

// weight returns the weight from input i to unit j.
func (t *thinLayer) weight(i, j int) []float64 {
	if t.l.Kind == Dense {
		return t.w[i*t.units+j : i*t.units+j+1]
	}
	k2 := t.k2()
	off := (j*t.in + i) * k2
	return t.w[off : off+k2]
}

// Thinnable reports whether Thin can thin models of spec s: every valid
// spec can be (see Thin), so the error is the spec's.
func Thinnable(s Spec) error {
	if ChainThinnable(s) == nil {
		return nil
	}
	_, err := CoupledChannels(s)
	return err
}

// ChainThinnable reports whether Thin thins models of spec s unit by unit,
// folding the constant outputs of dead units into the next layer's biases:
// sequential networks of dense, conv2d (without groups, with biases),
// max-pooling, ReLU, flatten and dropout layers. Thin thins the others by
// channel spaces (see CoupledChannels).
func ChainThinnable(s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !s.IsChain() {
		return errors.Wrap(ErrSpec, "thin: not a sequential network (it has layers that read other layers than the one before)")
	}
	for _, l := range s.Layers {
		if l.GroupsOrDefault() > 1 || l.NoBias || l.Kind == BatchNorm2d || l.Kind == AvgPool2d || l.Kind == GlobalAvgPool2d {
			return errors.Wrapf(ErrSpec, "thin: layer %q (%s) is not thinned unit by unit", l.Name, l.Kind)
		}
	}
	return nil
}

// Thin removes dead units and returns a smaller dense model computing the same function.
//
// A unit (an output neuron of a dense layer, a filter of a conv2d layer) is
// removed when all its incoming weights are zero: it then outputs a
// constant, which is carried through the activation, pooling and flatten
// layers that follow and folded into the biases of the next dense or conv2d
// layer. A unit is also removed when no surviving unit of the next layer
// reads it (all its outgoing weights are zero). Removing a unit removes the
// matching inputs of the next layer (for a conv2d layer feeding a dense one
// through Flatten, every position of the filter's channel). Both rules are
// applied until nothing changes. The model's input and the last layer's
// outputs (the class scores) are never removed. A unit whose constant
// cannot be folded exactly (it feeds a zero-padded conv2d layer, or a
// padded max-pooling sees a negative constant) is kept. A layer left without
// units keeps one unit that outputs zero. m is not modified; the result has
// m's dtype and provenance.
//
// That is for the specs ChainThinnable accepts. The others (residual
// networks, batch norm, layers without bias, average pooling, grouped
// convolutions) are thinned by channel spaces (CoupledChannels): channel c
// of a space that is not fixed is removed from every layer of the space
// (the filters or units of its producers, the entries of its batch norms)
// and from the inputs of every reader when each reader sees only zeros on
// it or none of the reader's kept units reads it. A channel is zero where
// a producer's bias and weights from the kept inputs are zero for it, after
// a batch norm whose shift is zero and whose scale is zero (or whose input
// is zero and mean zero), and after add, ReLU, pooling, flatten and
// dropout of zeros. Constants are not folded there: a dead filter with a
// bias, or a batch-norm channel that outputs its shift, is kept. Both
// rules are applied until nothing changes; a space left without channels
// keeps one, set to zero.
func Thin(m *Model) (*Model, *ThinReport, error) {
	if m == nil || m.Params == nil {
		return nil, nil, errors.New("thin: no model")
	}
	if err := m.Check(); err != nil {
		return nil, nil, errors.Wrap(err, "thin")
	}
	var dt tensor.Dtype
	for i, p := range m.Params.All() {
		d := p.Value.Dtype()
		if d != tensor.Float32 && d != tensor.Float64 {
			return nil, nil, errors.Errorf("thin: parameter %q has dtype %v (want float32 or float64)", p.Name, d)
		}
		if i == 0 {
			dt = d
		}
	}
	if err := Thinnable(m.Spec); err != nil {
		return nil, nil, err
	}
	if ChainThinnable(m.Spec) != nil {
		return thinSpaces(m, dt)
	}
	shapes, err := m.Spec.Shapes()
	if err != nil {
		return nil, nil, err
	}
	ls, err := thinLayers(m, shapes)
	if err != nil {
		return nil, nil, err
	}
	for changed := true; changed; {
		changed = false
		for a := 0; a+1 < len(ls); a++ {
			for j := 0; j < ls[a].units; j++ {
				if ls[a].alive[j] && removeUnit(ls[a], ls[a+1], j) {
					changed = true
				}
			}
		}
	}
	for a := 0; a+1 < len(ls); a++ {
		keepZeroUnit(ls[a], ls[a+1])
	}

	spec := m.Spec.clone()
	ps := &Params{}
	rep := &ThinReport{}
	for _, t := range ls {
		units := count(t.alive)
		ins := count(t.inAlive)
		if t.l.Kind == Dense {
			spec.Layers[t.idx].Units = units
		} else {
			spec.Layers[t.idx].Filters = units
		}
		var wShape []int
		var w []float64
		if t.l.Kind == Dense {
			wShape = []int{ins, units}
			for i := 0; i < t.in; i++ {
				if !t.inAlive[i] {
					continue
				}
				for j := 0; j < t.units; j++ {
					if t.alive[j] {
						w = append(w, t.weight(i, j)[0])
					}
				}
			}
		} else {
			wShape = []int{units, ins, t.l.Kernel, t.l.Kernel}
			for j := 0; j < t.units; j++ {
				if !t.alive[j] {
					continue
				}
				for i := 0; i < t.in; i++ {
					if t.inAlive[i] {
						w = append(w, t.weight(i, j)...)
					}
				}
			}
		}
		var b []float64
		for j := 0; j < t.units; j++ {
			if t.alive[j] {
				b = append(b, t.b[j])
			}
		}
		wp := NewParam(WeightName(t.l.Name), true, dt, wShape)
		bp := NewParam(BiasName(t.l.Name), false, dt, []int{units})
		if err := wp.SetFloat64s(w); err != nil {
			return nil, nil, errors.Wrap(err, "thin")
		}
		if err := bp.SetFloat64s(b); err != nil {
			return nil, nil, errors.Wrap(err, "thin")
		}
		if err := ps.Add(wp); err != nil {
			return nil, nil, err
		}
		if err := ps.Add(bp); err != nil {
			return nil, nil, err
		}
		rep.Layers = append(rep.Layers, ThinLayer{Name: t.l.Name, UnitsBefore: t.units, UnitsAfter: units, InputsBefore: t.in, InputsAfter: ins})
	}
	out := &Model{Spec: spec, Params: ps, Meta: cloneProvenance(m.Meta)}
	if err := out.Check(); err != nil {
		return nil, nil, errors.Wrap(err, "thin: the thinned model is inconsistent")
	}
	if rep.FLOPsBefore, err = FLOPs(m.Spec); err != nil {
		return nil, nil, err
	}
	if rep.FLOPsAfter, err = FLOPs(spec); err != nil {
		return nil, nil, err
	}
	return out, rep, nil
}

// thinLayers collects the dense and conv2d layers of m with their values and
// the layers between each and the next.
func thinLayers(m *Model, shapes [][]int) ([]*thinLayer, error) {
	var ls []*thinLayer
	in := m.Spec.Input
	for i, l := range m.Spec.Layers {
		switch l.Kind {
		case Dense, Conv2d:
			t := &thinLayer{idx: i, l: l, in: in[0], w: m.Params.Get(WeightName(l.Name)).Float64s(), b: m.Params.Get(BiasName(l.Name)).Float64s()}
			if l.Kind == Dense {
				t.units = l.Units
			} else {
				t.units = l.Filters
			}
			t.alive = trues(t.units)
			t.inAlive = trues(t.in)
			ls = append(ls, t)
		default:
			if len(ls) > 0 {
				last := ls[len(ls)-1]
				last.between = append(last.between, l)
			}
		}
		in = shapes[i]
	}
	if len(ls) == 0 {
		return nil, errors.Wrap(ErrSpec, "thin: no dense or conv2d layer")
	}
	for a := 0; a+1 < len(ls); a++ {
		t, next := ls[a], ls[a+1]
		if next.in%t.units != 0 || (next.l.Kind == Conv2d && next.in != t.units) {
			return nil, errors.Wrapf(ErrSpec, "thin: layer %q has %d units but layer %q reads %d inputs", t.l.Name, t.units, next.l.Name, next.in)
		}
		t.group = next.in / t.units
	}
	return ls, nil
}

// removeUnit removes unit j of t if it is dead or unread, folding a dead
// unit's constant output into next's biases, and reports whether it did.
func removeUnit(t, next *thinLayer, j int) bool {
	if !unread(t, next, j) {
		if !deadIn(t, j) {
			return false
		}
		c, ok := constantOut(t, next, j)
		if !ok {
			return false
		}
		if c != 0 {
			for k := 0; k < next.units; k++ {
				s := 0.0
				for r := j * t.group; r < (j+1)*t.group; r++ {
					for _, v := range next.weight(r, k) {
						s += v
					}
				}
				next.b[k] += c * s
			}
		}
	}
	t.alive[j] = false
	for r := j * t.group; r < (j+1)*t.group; r++ {
		next.inAlive[r] = false
	}
	return true
}

// deadIn reports whether every kept incoming weight of unit j is zero.
func deadIn(t *thinLayer, j int) bool {
	for i := 0; i < t.in; i++ {
		if !t.inAlive[i] {
			continue
		}
		for _, v := range t.weight(i, j) {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// unread reports whether no kept unit of next reads unit j of t.
func unread(t, next *thinLayer, j int) bool {
	for k := 0; k < next.units; k++ {
		if !next.alive[k] {
			continue
		}
		for r := j * t.group; r < (j+1)*t.group; r++ {
			for _, v := range next.weight(r, k) {
				if v != 0 {
					return false
				}
			}
		}
	}
	return true
}

// constantOut is the value a dead unit j of t (output b_j everywhere)
// presents to next, and whether folding it into next's biases is exact.
func constantOut(t, next *thinLayer, j int) (float64, bool) {
	c := t.b[j]
	for _, l := range t.between {
		switch l.Kind {
		case ReLU:
			if c < 0 {
				c = 0
			}
		case LeakyReLU:
			if c < 0 {
				c *= l.AlphaOrDefault()
			}
		case ReLU6:
			c = min(max(c, 0), 6)
		case Clip:
			lo, hi := l.ClipBounds()
			c = min(max(c, lo), hi)
		case Sigmoid:
			c = 1 / (1 + math.Exp(-c))
		case Tanh:
			c = math.Tanh(c)
		case MaxPool2d:
			if l.Padded() && c < 0 {
				return 0, false
			}
		case Dropout, Flatten:
		default:
			return 0, false
		}
	}
	if next.l.Kind == Conv2d && next.l.Padded() && c != 0 {
		return 0, false
	}
	return c, true
}

// keepZeroUnit keeps one unit of t when all were removed: its weights, bias
// and outgoing weights are set to zero, so it outputs zero and adds nothing.
func keepZeroUnit(t, next *thinLayer) {
	if count(t.alive) > 0 {
		return
	}
	t.alive[0] = true
	for i := 0; i < t.in; i++ {
		w := t.weight(i, 0)
		for k := range w {
			w[k] = 0
		}
	}
	t.b[0] = 0
	for r := 0; r < t.group; r++ {
		next.inAlive[r] = true
		for k := 0; k < next.units; k++ {
			w := next.weight(r, k)
			for i := range w {
				w[i] = 0
			}
		}
	}
}

func trues(n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = true
	}
	return s
}

func count(s []bool) int {
	n := 0
	for _, v := range s {
		if v {
			n++
		}
	}
	return n
}

func cloneProvenance(p Provenance) Provenance {
	c := p
	if p.Accuracy != nil {
		a := *p.Accuracy
		c.Accuracy = &a
	}
	if p.Loss != nil {
		l := *p.Loss
		c.Loss = &l
	}
	if p.Extra != nil {
		c.Extra = make(map[string]string, len(p.Extra))
		for k, v := range p.Extra {
			c.Extra[k] = v
		}
	}
	return c
}
