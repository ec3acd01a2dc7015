package models

import (
	"math"
	"math/rand"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Provenance records where a model came from. It is stored in the model
// file's metadata.
type Provenance struct {
	Tool     string            `json:"tool,omitempty"`     // tool name and version that wrote the file
	Seed     int64             `json:"seed"`               // seed of the run that produced the values
	Data     string            `json:"data,omitempty"`     // data set the model was trained on
	Accuracy *float64          `json:"accuracy,omitempty"` // test accuracy in [0, 1], if measured
	Loss     *float64          `json:"loss,omitempty"`     // test loss, if measured
	Extra    map[string]string `json:"extra,omitempty"`    // anything else (command, λ, ...)
}

// Validate checks the measured values: an accuracy is a fraction in
// [0, 1] (a percentage such as 50 is refused, where it would print as
// 5000%), a loss is finite and not negative.
func (p Provenance) Validate() error {
	if a := p.Accuracy; a != nil && !(*a >= 0 && *a <= 1) {
		return errors.Errorf("accuracy %v is not a fraction in [0, 1] (a percentage?)", *a)
	}
	if l := p.Loss; l != nil && (!(*l >= 0) || math.IsInf(*l, 0)) {
		return errors.Errorf("loss %v is not a finite number ≥ 0", *l)
	}
	return nil
}

// Model is an architecture and its parameters.
type Model struct {
	Spec   Spec
	Params *Params
	Meta   Provenance
}

// ErrParams is returned (wrapped) when parameters disagree with the spec.
var ErrParams = errors.New("parameters do not match the spec")

// Check verifies that the spec is valid and that Params holds exactly the
// parameters it needs, with the right shapes and prunable marks.
func (m *Model) Check() error {
	infos, err := m.Spec.Params()
	if err != nil {
		return err
	}
	if got, want := len(m.Params.All()), len(infos); got != want {
		return errors.Wrapf(ErrParams, "%d parameters for a spec that needs %d", got, want)
	}
	for _, pi := range infos {
		p := m.Params.Get(pi.Name)
		if p == nil {
			return errors.Wrapf(ErrParams, "parameter %q is missing", pi.Name)
		}
		if !sameShape(p.Shape(), pi.Shape) {
			return errors.Wrapf(ErrParams, "parameter %q has shape %v, the spec needs %v", pi.Name, p.Shape(), pi.Shape)
		}
		if p.Prunable != pi.Prunable {
			return errors.Wrapf(ErrParams, "parameter %q prunable=%v, the spec says %v", pi.Name, p.Prunable, pi.Prunable)
		}
	}
	return nil
}

// Buffers returns m's buffers, the parameters its spec marks as such (the
// batch-norm running statistics), in spec order; none for a model without
// batch norm.
func (m *Model) Buffers() ([]*Param, error) {
	infos, err := m.Spec.Params()
	if err != nil {
		return nil, err
	}
	var bufs []*Param
	for _, pi := range infos {
		if !pi.Buffer {
			continue
		}
		p := m.Params.Get(pi.Name)
		if p == nil {
			return nil, errors.Errorf("buffer %q is missing", pi.Name)
		}
		bufs = append(bufs, p)
	}
	return bufs, nil
}

// New makes a model with freshly initialised parameters of dtype dt, drawn
// from rng: weights from He (Kaiming) normal N(0, 2/fan_in), biases zero,
// batch-norm scales and running variances one, shifts and means zero.
func New(spec Spec, dt tensor.Dtype, rng *rand.Rand) (*Model, error) {
	infos, err := spec.Params()
	if err != nil {
		return nil, err
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("unsupported dtype %v (want float32 or float64)", dt)
	}
	ps := &Params{}
	for _, pi := range infos {
		p := NewParam(pi.Name, pi.Prunable, dt, pi.Shape)
		vals := make([]float64, p.Len())
		switch pi.Role {
		case RoleWeight:
			std := math.Sqrt(2 / float64(pi.Fanin))
			for i := range vals {
				vals[i] = rng.NormFloat64() * std
			}
		case RoleScale, RoleVar:
			for i := range vals {
				vals[i] = 1
			}
		}
		if err := p.SetFloat64s(vals); err != nil {
			return nil, err
		}
		if err := ps.Add(p); err != nil {
			return nil, err
		}
	}
	return &Model{Spec: spec, Params: ps}, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
