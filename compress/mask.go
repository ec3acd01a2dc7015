package compress

import (
	"github.com/spred-go/spred/models"
)

// Mask records which prunable weights are exactly zero, so that fine-tuning
// can hold them there.
type Mask struct {
	zeros map[string][]int // parameter name → indices of its zero entries
}

// MaskOf records the zero entries of m's prunable weights.
func MaskOf(m *models.Model) *Mask {
	mk := &Mask{zeros: map[string][]int{}}
	for _, p := range m.Params.Prunable() {
		var idx []int
		for i, x := range p.Float64s() {
			if x == 0 {
				idx = append(idx, i)
			}
		}
		mk.zeros[p.Name] = idx
	}
	return mk
}

// Apply sets the masked entries of m's prunable weights back to zero.
func (mk *Mask) Apply(m *models.Model) {
	for name, idx := range mk.zeros {
		p := m.Params.Get(name)
		if p == nil {
			continue
		}
		switch d := p.Value.Data().(type) {
		case []float32:
			for _, i := range idx {
				d[i] = 0
			}
		case []float64:
			for _, i := range idx {
				d[i] = 0
			}
		}
	}
}
