package models

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// spaceThin thins a model by channel spaces (see CoupledChannels): the
// values of its dense, conv2d and batchnorm2d layers in float64, and the
// channels of every space still kept.
type spaceThin struct {
	m     *Model
	nodes []Node
	cs    *ChannelSpaces
	alive [][]bool // per space
	rd    map[int]ChannelReader
	w, b  map[int][]float64
	bn    map[int][4][]float64 // scale, shift, mean, var of a batchnorm2d layer
}

// thinSpaces removes the dead channels of every space of m (see Thin).
func thinSpaces(m *Model, dt tensor.Dtype) (*Model, *ThinReport, error) {
	nodes, err := m.Spec.Nodes()
	if err != nil {
		return nil, nil, err
	}
	cs, err := CoupledChannels(m.Spec)
	if err != nil {
		return nil, nil, err
	}
	t := &spaceThin{m: m, nodes: nodes, cs: cs, rd: map[int]ChannelReader{}, w: map[int][]float64{}, b: map[int][]float64{}, bn: map[int][4][]float64{}}
	for _, s := range cs.Spaces {
		t.alive = append(t.alive, trues(s.Channels))
		for _, r := range s.Readers {
			t.rd[r.Layer] = r
		}
	}
	for i, n := range nodes {
		l := n.Layer
		switch l.Kind {
		case Dense, Conv2d:
			t.w[i] = m.Params.Get(WeightName(l.Name)).Float64s()
			if !l.NoBias {
				t.b[i] = m.Params.Get(BiasName(l.Name)).Float64s()
			}
		case BatchNorm2d:
			var v [4][]float64
			for k, role := range []string{RoleScale, RoleShift, RoleMean, RoleVar} {
				v[k] = m.Params.Get(ParamName(l.Name, role)).Float64s()
			}
			t.bn[i] = v
		}
	}
	for changed := true; changed; {
		changed = false
		zero := t.zeros()
		for k, s := range cs.Spaces {
			if s.Fixed != "" {
				continue
			}
			for c, ok := range t.alive[k] {
				if ok && t.removable(s, c, zero) {
					t.alive[k][c] = false
					changed = true
				}
			}
		}
	}
	for k := range cs.Spaces {
		if count(t.alive[k]) == 0 {
			t.keepZeroChannel(k)
		}
	}
	return t.result(dt)
}

// dims returns the number of inputs of dense or conv2d layer i (features,
// or channels per group), its output units and the values of one weight
// from an input to a unit.
func (t *spaceThin) dims(i int) (in, units, k2 int) {
	n := t.nodes[i]
	if n.Layer.Kind == Dense {
		return n.InShapes[0][0], n.Layer.Units, 1
	}
	return n.InShapes[0][0] / n.Layer.GroupsOrDefault(), n.Layer.Filters, n.Layer.Kernel * n.Layer.Kernel
}

// weight returns the weights of layer i (groups 1) from input r to unit j.
func (t *spaceThin) weight(i, r, j int) []float64 {
	in, units, k2 := t.dims(i)
	if t.nodes[i].Layer.Kind == Dense {
		return t.w[i][r*units+j : r*units+j+1]
	}
	off := (j*in + r) * k2
	return t.w[i][off : off+k2]
}

// zeros says, for every layer's output and channel, whether the channel
// is zero for every input: a unit whose bias and weights from the kept
// inputs are zero, a batch norm whose shift is zero and whose scale is
// zero or whose input is zero and mean zero, an add of two zeros, and the
// channel-wise layers of a zero.
func (t *spaceThin) zeros() [][]bool {
	zero := make([][]bool, len(t.nodes))
	at := func(j int) []bool {
		if j == InputIndex {
			return make([]bool, t.cs.Spaces[t.cs.Input].Channels)
		}
		return zero[j]
	}
	for i, n := range t.nodes {
		l := n.Layer
		in := at(n.Inputs[0])
		switch l.Kind {
		case Dense, Conv2d:
			_, units, _ := t.dims(i)
			z := make([]bool, units)
			zero[i] = z
			if l.GroupsOrDefault() > 1 {
				continue
			}
			rd := t.reader(i)
			inAlive := t.alive[t.spaceOf(rd.From)]
			for j := range z {
				z[j] = t.b[i] == nil || t.b[i][j] == 0
				for c := 0; z[j] && c < len(inAlive); c++ {
					if inAlive[c] && !zeroWeights(t, i, c*rd.Per, (c+1)*rd.Per, j) {
						z[j] = false
					}
				}
			}
		case BatchNorm2d:
			v := t.bn[i]
			z := make([]bool, len(in))
			for c := range z {
				z[c] = v[1][c] == 0 && (v[0][c] == 0 || (in[c] && v[2][c] == 0))
			}
			zero[i] = z
		case Add:
			b := at(n.Inputs[1])
			z := make([]bool, len(in))
			for c := range z {
				// Inputs of other layouts (fixed spaces) are never zero.
				z[c] = len(b) == len(in) && in[c] && b[c]
			}
			zero[i] = z
		case Sigmoid, Softmax:
			zero[i] = make([]bool, len(in)) // f(0) ≠ 0
		default:
			zero[i] = in
		}
	}
	return zero
}

func zeroWeights(t *spaceThin, i, from, to, j int) bool {
	for r := from; r < to; r++ {
		for _, v := range t.weight(i, r, j) {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

func (t *spaceThin) spaceOf(j int) int {
	if j == InputIndex {
		return t.cs.Input
	}
	return t.cs.Of[j]
}

// reader is how dense or conv2d layer i reads its input.
func (t *spaceThin) reader(i int) ChannelReader { return t.rd[i] }

// removable reports whether channel c of space s reaches no reader: every
// reader sees a zero there, or none of its kept units reads it.
func (t *spaceThin) removable(s ChannelSpace, c int, zero [][]bool) bool {
	for _, r := range s.Readers {
		if zero[r.From][c] {
			continue
		}
		out := t.alive[t.cs.Of[r.Layer]]
		for j, ok := range out {
			if ok && !zeroWeights(t, r.Layer, c*r.Per, (c+1)*r.Per, j) {
				return false
			}
		}
	}
	return true
}

// keepZeroChannel keeps channel 0 of space k, all of whose channels were
// removed, and makes it zero and unread: a valid spec needs a channel, and
// the space contributes nothing to the output.
func (t *spaceThin) keepZeroChannel(k int) {
	t.alive[k][0] = true
	s := t.cs.Spaces[k]
	for _, i := range s.Producers {
		if b := t.b[i]; b != nil {
			b[0] = 0
		}
		in, _, _ := t.dims(i)
		for r := 0; r < in; r++ {
			w := t.weight(i, r, 0)
			for e := range w {
				w[e] = 0
			}
		}
	}
	for _, i := range s.Norms {
		t.bn[i][0][0], t.bn[i][1][0] = 0, 0
	}
	for _, r := range s.Readers {
		_, units, _ := t.dims(r.Layer)
		for j := 0; j < units; j++ {
			for q := 0; q < r.Per; q++ {
				w := t.weight(r.Layer, q, j)
				for e := range w {
					w[e] = 0
				}
			}
		}
	}
}

// result builds the thinned model and its report.
func (t *spaceThin) result(dt tensor.Dtype) (*Model, *ThinReport, error) {
	spec := t.m.Spec.clone()
	rep := &ThinReport{}
	for i, n := range t.nodes {
		l := n.Layer
		if l.Kind != Dense && l.Kind != Conv2d {
			continue
		}
		out := t.alive[t.cs.Of[i]]
		rd := t.reader(i)
		inAlive := t.alive[t.spaceOf(rd.From)]
		if l.Kind == Dense {
			spec.Layers[i].Units = count(out)
		} else {
			spec.Layers[i].Filters = count(out)
		}
		rep.Layers = append(rep.Layers, ThinLayer{Name: l.Name, UnitsBefore: len(out), UnitsAfter: count(out),
			InputsBefore: len(inAlive) * rd.Per, InputsAfter: count(inAlive) * rd.Per})
	}
	infos, err := spec.Params()
	if err != nil {
		return nil, nil, errors.Wrap(err, "thin: the thinned spec")
	}
	ps := &Params{}
	for _, pi := range infos {
		i := pi.Layer
		l := t.nodes[i].Layer
		var v []float64
		switch pi.Role {
		case RoleWeight:
			v = t.keptWeight(i)
		case RoleBias:
			v = keep(t.b[i], t.alive[t.cs.Of[i]])
		default:
			k := map[string]int{RoleScale: 0, RoleShift: 1, RoleMean: 2, RoleVar: 3}[pi.Role]
			v = keep(t.bn[i][k], t.alive[t.cs.Of[i]])
		}
		p := NewParam(pi.Name, pi.Prunable, dt, pi.Shape)
		if err := p.SetFloat64s(v); err != nil {
			return nil, nil, errors.Wrapf(err, "thin: layer %q", l.Name)
		}
		if err := ps.Add(p); err != nil {
			return nil, nil, err
		}
	}
	out := &Model{Spec: spec, Params: ps, Meta: cloneProvenance(t.m.Meta)}
	if err := out.Check(); err != nil {
		return nil, nil, errors.Wrap(err, "thin: the thinned model is inconsistent")
	}
	if rep.FLOPsBefore, err = FLOPs(t.m.Spec); err != nil {
		return nil, nil, err
	}
	if rep.FLOPsAfter, err = FLOPs(spec); err != nil {
		return nil, nil, err
	}
	return out, rep, nil
}

// keptWeight is the weight of layer i restricted to its kept units and
// inputs (a grouped convolution's spaces are fixed: all of it).
func (t *spaceThin) keptWeight(i int) []float64 {
	l := t.nodes[i].Layer
	if l.GroupsOrDefault() > 1 {
		return append([]float64(nil), t.w[i]...)
	}
	out := t.alive[t.cs.Of[i]]
	rd := t.reader(i)
	inAlive := t.alive[t.spaceOf(rd.From)]
	in, units, _ := t.dims(i)
	var w []float64
	if l.Kind == Dense {
		for r := 0; r < in; r++ {
			if !inAlive[r/rd.Per] {
				continue
			}
			for j := 0; j < units; j++ {
				if out[j] {
					w = append(w, t.weight(i, r, j)[0])
				}
			}
		}
		return w
	}
	for j := 0; j < units; j++ {
		if !out[j] {
			continue
		}
		for r := 0; r < in; r++ {
			if inAlive[r] {
				w = append(w, t.weight(i, r, j)...)
			}
		}
	}
	return w
}

func keep(v []float64, alive []bool) []float64 {
	var out []float64
	for c, ok := range alive {
		if ok {
			out = append(out, v[c])
		}
	}
	return out
}
