// Package sensitivity measures how much each prunable layer of a trained
// model can be cut on its own: the test accuracy against the fraction of
// the layer's weights set to zero by magnitude, and against the fraction of
// its units (output neurons or filters) removed, smallest weight norm first.
//
// Removing a unit removes everything it computes: its incoming weights, its
// bias, and the inputs of the next dense or conv2d layer that read it — for
// a conv2d layer feeding a dense layer through Flatten, every position of
// the filter's channel. The output layer's units are the class scores and
// have no units curve, and neither have the layers of networks that are not
// sequential chains (models.ChainThinnable: residual networks, batch norm),
// whose channels are coupled across layers. Every other layer
// is left as it was, so each curve shows one layer alone.
package sensitivity

import (
	"context"
	"math"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// The curves of a layer.
const (
	Sparsity = "sparsity" // magnitude pruning of the layer's weights
	Units    = "units"    // removal of the layer's units, smallest ‖w_unit‖₂ first
)

// DefaultFractions are the fractions pruned or removed when Config leaves
// them out: 0 to 90% in steps of 10%, then 95% and 99%.
var DefaultFractions = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99}

// Config configures Run; the zero value means the defaults.
type Config struct {
	// Fractions in [0, 1) of weights pruned or units removed; nil means
	// DefaultFractions. A fraction f removes ⌊f·n⌋ of n.
	Fractions []float64
	// EvalBatch is the evaluation batch size; 0 means 1000.
	EvalBatch int
}

// Point is one measurement: layer Layer with Removed of its Of weights
// (Sparsity) or units (Units) removed.
type Point struct {
	Layer    string  `json:"layer"`
	Curve    string  `json:"curve"`
	Fraction float64 `json:"fraction"` // the fraction asked for
	Removed  int     `json:"removed"`
	Of       int     `json:"of"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
	// FLOPs is the multiply-adds per example of the model once the units
	// left without weights are thinned away (models.Thin).
	FLOPs int64 `json:"flops"`
}

// ErrConfig is returned (wrapped) for fractions out of range.
var ErrConfig = errors.New("invalid sensitivity config")

// layer is one dense or conv2d layer and how the next one reads its units.
type layer struct {
	name       string
	units      int
	group      int    // inputs of the next layer per unit
	next       string // the next dense or conv2d layer, "" for the last
	nextConv   bool
	nextUnits  int
	nextInputs int
}

// layersOf lists the prunable layers of spec; with units, each with the next
// prunable layer that reads its units (a chain), else with none.
func layersOf(spec models.Spec, units bool) ([]layer, error) {
	infos, err := spec.Params()
	if err != nil {
		return nil, err
	}
	var ls []layer
	for _, pi := range infos {
		if pi.Role != "W" {
			continue
		}
		l := layer{name: spec.Layers[pi.Layer].Name}
		conv := len(pi.Shape) == 4
		in := pi.Shape[0]
		if conv {
			l.units, in = pi.Shape[0], pi.Shape[1]
		} else {
			l.units = pi.Shape[1]
		}
		if n := len(ls); n > 0 && units {
			prev := &ls[n-1]
			prev.next, prev.nextConv, prev.nextUnits, prev.nextInputs = l.name, conv, l.units, in
			if in%prev.units != 0 {
				return nil, errors.Wrapf(models.ErrSpec, "layer %q has %d units but layer %q reads %d inputs", prev.name, prev.units, l.name, in)
			}
			prev.group = in / prev.units
		}
		ls = append(ls, l)
	}
	if len(ls) == 0 {
		return nil, errors.Wrapf(models.ErrSpec, "model %q has no dense or conv2d layer", spec.Name)
	}
	return ls, nil
}

// Run measures the curves of every prunable layer of m on test. m is not
// modified. progress, if not nil, sees every point as it is measured.
func Run(ctx context.Context, m *models.Model, test *dataset.Dataset, cfg Config, progress func(Point)) ([]Point, error) {
	fr := cfg.Fractions
	if fr == nil {
		fr = DefaultFractions
	}
	for _, f := range fr {
		if !(f >= 0 && f < 1) {
			return nil, errors.Wrapf(ErrConfig, "fraction %v outside [0, 1)", f)
		}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	// Units are removed one layer at a time only in sequential networks
	// (models.ChainThinnable): residual networks get the sparsity curves
	// alone.
	ls, err := layersOf(m.Spec, models.ChainThinnable(m.Spec) == nil)
	if err != nil {
		return nil, err
	}
	orig := map[string][]float64{}
	for _, p := range m.Params.All() {
		orig[p.Name] = p.Float64s()
	}
	work := &models.Model{Spec: m.Spec, Params: m.Params.Clone(), Meta: m.Meta}
	ev := train.NewEvaluator(work, nil, cfg.EvalBatch)
	defer ev.Close()
	reset := func() error {
		for _, p := range work.Params.All() {
			if err := p.SetFloat64s(orig[p.Name]); err != nil {
				return err
			}
		}
		return nil
	}
	measure := func(pt Point) (Point, error) {
		if err := ctx.Err(); err != nil {
			return pt, err
		}
		mt, err := ev.Evaluate(test)
		if err != nil {
			return pt, err
		}
		pt.Accuracy, pt.Loss = mt.Accuracy, mt.Loss
		_, rep, err := models.Thin(work)
		if err != nil {
			return pt, err
		}
		pt.FLOPs = rep.FLOPsAfter
		if progress != nil {
			progress(pt)
		}
		return pt, nil
	}
	base, err := measure(Point{Layer: "", Curve: ""})
	if err != nil {
		return nil, err
	}
	var out []Point
	for _, l := range ls {
		w := work.Params.Get(models.WeightName(l.name))
		for _, curve := range []string{Sparsity, Units} {
			if curve == Units && l.next == "" {
				continue // the class scores
			}
			of := w.Len()
			if curve == Units {
				of = l.units
			}
			for _, f := range fr {
				k := int(math.Floor(f*float64(of) + 1e-9))
				pt := Point{Layer: l.name, Curve: curve, Fraction: f, Removed: k, Of: of}
				if k == 0 {
					pt.Accuracy, pt.Loss, pt.FLOPs = base.Accuracy, base.Loss, base.FLOPs
					out = append(out, pt)
					if progress != nil {
						progress(pt)
					}
					continue
				}
				if err := reset(); err != nil {
					return nil, err
				}
				if curve == Sparsity {
					err = pruneSmallest(w, k)
				} else {
					err = removeUnits(work, l, k)
				}
				if err != nil {
					return nil, err
				}
				if pt, err = measure(pt); err != nil {
					return nil, errors.Wrapf(err, "layer %s, %s %v", l.name, curve, f)
				}
				out = append(out, pt)
			}
		}
	}
	return out, nil
}

// pruneSmallest zeroes the k weights of p with the smallest magnitude (ties:
// the lower index first).
func pruneSmallest(p *models.Param, k int) error {
	w := p.Float64s()
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(w[idx[a]]) < math.Abs(w[idx[b]]) })
	for _, i := range idx[:k] {
		w[i] = 0
	}
	return p.SetFloat64s(w)
}

// removeUnits removes the k units of l with the smallest incoming weight
// norm (ties: the lower index first): their weights and biases and the
// inputs of the next layer that read them are set to zero.
func removeUnits(m *models.Model, l layer, k int) error {
	wp, bp := m.Params.Get(models.WeightName(l.name)), m.Params.Get(models.BiasName(l.name))
	np := m.Params.Get(models.WeightName(l.next))
	w, b, nw := wp.Float64s(), bp.Float64s(), np.Float64s()
	conv := len(wp.Shape()) == 4
	unit := func(j int, f func(i int)) { // the weights of unit j in w
		if conv {
			per := len(w) / l.units
			for i := j * per; i < (j+1)*per; i++ {
				f(i)
			}
			return
		}
		for i := j; i < len(w); i += l.units {
			f(i)
		}
	}
	norms := make([]float64, l.units)
	for j := range norms {
		unit(j, func(i int) { norms[j] += w[i] * w[i] })
	}
	order := make([]int, l.units)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, c int) bool { return norms[order[a]] < norms[order[c]] })
	for _, j := range order[:k] {
		unit(j, func(i int) { w[i] = 0 })
		b[j] = 0
		for r := j * l.group; r < (j+1)*l.group; r++ {
			if l.nextConv { // [units, inputs, k, k]
				per := len(nw) / (l.nextUnits * l.nextInputs)
				for u := 0; u < l.nextUnits; u++ {
					off := (u*l.nextInputs + r) * per
					for i := off; i < off+per; i++ {
						nw[i] = 0
					}
				}
			} else { // [inputs, units]
				for u := 0; u < l.nextUnits; u++ {
					nw[r*l.nextUnits+u] = 0
				}
			}
		}
	}
	if err := wp.SetFloat64s(w); err != nil {
		return err
	}
	if err := bp.SetFloat64s(b); err != nil {
		return err
	}
	return np.SetFloat64s(nw)
}
