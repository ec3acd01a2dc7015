package compress

import (
	"math"

	"github.com/spred-go/spred/models"
)

// A convolution read only by a batch norm computes the same training-mode
// output whatever the scale of each of its filters: the batch norm divides
// it out. The penalty λ‖w‖₁ then mostly shrinks such filters as a whole,
// which costs the loss nothing, and every factor of ten they shrink
// multiplies the filters' effective learning rate by a hundred (resnet-8
// at 10×: the stage-3 filters ended at a fifth of their norm, and the
// evaluation-mode accuracy fell while the training accuracy held).
// Config.HoldNorms rescales each such filter back to the norm it started
// with after every step, so that the penalty can only change how a filter's
// weight is spread over its entries: it makes filters sparse, not small.

// normHold is the filters whose norms a pass holds and those norms.
type normHold struct {
	names []string    // prunable weights, in factor order
	rows  []int       // entries per filter of each
	norms [][]float64 // ‖u⊙v‖ of every filter when the pass began
}

// ScaleFree returns the prunable weights of m whose filters a batch norm
// alone reads (a Conv2d whose only reader is a BatchNorm2d), in spec
// order: the weights Config.HoldNorms holds.
func ScaleFree(m *models.Model) ([]string, error) {
	nodes, err := m.Spec.Nodes()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range nodes {
		if n.Layer.Kind != models.Conv2d || len(n.Consumers) != 1 || nodes[n.Consumers[0]].Layer.Kind != models.BatchNorm2d {
			continue
		}
		name := models.ParamName(n.Layer.Name, models.RoleWeight)
		if p := m.Params.Get(name); p != nil && p.Prunable {
			names = append(names, name)
		}
	}
	return names, nil
}

// newNormHold records the filter norms of the scale-free weights of m in
// f; nil when m has none.
func newNormHold(m *models.Model, f *Factors) (*normHold, error) {
	names, err := ScaleFree(m)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	h := &normHold{}
	for _, name := range names {
		p := f.pairs[name]
		if p == nil {
			continue
		}
		rows := p.U.Shape().TotalSize() / p.U.Shape()[0]
		var norms []float64
		switch u := p.U.Data().(type) {
		case []float32:
			norms = filterNorms(u, p.V.Data().([]float32), rows)
		case []float64:
			norms = filterNorms(u, p.V.Data().([]float64), rows)
		}
		h.names, h.rows, h.norms = append(h.names, name), append(h.rows, rows), append(h.norms, norms)
	}
	return h, nil
}

// filterNorms is ‖u⊙v‖ of every filter of rows entries.
func filterNorms[T float32 | float64](u, v []T, rows int) []float64 {
	out := make([]float64, len(u)/rows)
	for r := range out {
		out[r] = math.Sqrt(sumSquares(u[r*rows:(r+1)*rows], v[r*rows:(r+1)*rows]))
	}
	return out
}

// sumSquares is Σ (u_i·v_i)², summed in float64.
func sumSquares[T float32 | float64](u, v []T) float64 {
	var s float64
	for i := range u {
		w := float64(u[i]) * float64(v[i])
		s += w * w
	}
	return s
}

// apply rescales u and v of every held filter by the same factor, so that
// ‖u⊙v‖ is back at its starting norm. A filter that is all zeros, or
// started so, is left alone; the optimizer's velocity is not rescaled
// (after one step the factor is within a fraction of a per cent of 1).
func (h *normHold) apply(f *Factors) {
	if h == nil {
		return
	}
	for k, name := range h.names {
		p := f.pairs[name]
		switch u := p.U.Data().(type) {
		case []float32:
			holdNorms(u, p.V.Data().([]float32), h.rows[k], h.norms[k])
		case []float64:
			holdNorms(u, p.V.Data().([]float64), h.rows[k], h.norms[k])
		}
	}
}

func holdNorms[T float32 | float64](u, v []T, rows int, norms []float64) {
	for r, want := range norms {
		fu, fv := u[r*rows:(r+1)*rows], v[r*rows:(r+1)*rows]
		s := sumSquares(fu, fv)
		if s == 0 || want == 0 {
			continue
		}
		c := T(math.Sqrt(want / math.Sqrt(s)))
		for i := range fu {
			fu[i] *= c
			fv[i] *= c
		}
	}
}
