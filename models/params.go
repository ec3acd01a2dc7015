package models

import (
	"bytes"
	"encoding/json"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Param is one named parameter tensor. Value holds float32 or float64 data
// in row-major order; graphs bind to it directly, so training updates it in
// place.
type Param struct {
	Name     string
	Prunable bool
	Value    *tensor.Dense
}

// Shape returns the parameter's shape.
func (p *Param) Shape() []int { return []int(p.Value.Shape().Clone()) }

// Len returns the number of values.
func (p *Param) Len() int { return p.Value.Shape().TotalSize() }

// Float64s returns a copy of the values as float64.
func (p *Param) Float64s() []float64 { return Float64s(p.Value.Data()) }

// Float64s copies float32 or float64 data (a slice or a scalar, as
// tensor.Dense.Data returns it) into a new []float64; other types give nil.
func Float64s(data interface{}) []float64 {
	switch d := data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	return nil
}

// SetFloat64s overwrites the values (converted to the parameter's dtype).
func (p *Param) SetFloat64s(src []float64) error {
	if len(src) != p.Len() {
		return errors.Errorf("param %q: %d values for %d slots", p.Name, len(src), p.Len())
	}
	switch d := p.Value.Data().(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	default:
		return errors.Errorf("param %q: unsupported storage %T", p.Name, d)
	}
	return nil
}

// NonZero counts the values that are not exactly zero.
func (p *Param) NonZero() int {
	n := 0
	switch d := p.Value.Data().(type) {
	case []float32:
		for _, v := range d {
			if v != 0 {
				n++
			}
		}
	case []float64:
		for _, v := range d {
			if v != 0 {
				n++
			}
		}
	}
	return n
}

// Finite reports whether every value is finite.
func (p *Param) Finite() bool {
	for _, v := range p.Float64s() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// NewParam makes a zero-filled parameter of the given dtype and shape.
func NewParam(name string, prunable bool, dt tensor.Dtype, shape []int) *Param {
	return &Param{Name: name, Prunable: prunable, Value: tensor.New(tensor.Of(dt), tensor.WithShape(shape...))}
}

// Params is an ordered set of named parameters.
type Params struct {
	list  []*Param
	index map[string]int
}

// Add appends p; names must be unique.
func (ps *Params) Add(p *Param) error {
	if ps.index == nil {
		ps.index = map[string]int{}
	}
	if _, dup := ps.index[p.Name]; dup {
		return errors.Errorf("parameter %q added twice", p.Name)
	}
	ps.index[p.Name] = len(ps.list)
	ps.list = append(ps.list, p)
	return nil
}

// Get returns the parameter called name, or nil.
func (ps *Params) Get(name string) *Param {
	if ps == nil {
		return nil
	}
	i, ok := ps.index[name]
	if !ok {
		return nil
	}
	return ps.list[i]
}

// All returns the parameters in order. The slice must not be modified.
func (ps *Params) All() []*Param {
	if ps == nil {
		return nil
	}
	return ps.list
}

// Prunable returns the prunable parameters in order.
func (ps *Params) Prunable() []*Param {
	var out []*Param
	for _, p := range ps.All() {
		if p.Prunable {
			out = append(out, p)
		}
	}
	return out
}

// Count returns the number of values over all parameters.
func (ps *Params) Count() int {
	n := 0
	for _, p := range ps.All() {
		n += p.Len()
	}
	return n
}

// Clone returns a deep copy.
func (ps *Params) Clone() *Params {
	out := &Params{}
	for _, p := range ps.All() {
		_ = out.Add(&Param{Name: p.Name, Prunable: p.Prunable, Value: p.Value.Clone().(*tensor.Dense)})
	}
	return out
}

// AsType returns a deep copy whose values are converted to dt (Float32 or
// Float64).
func (ps *Params) AsType(dt tensor.Dtype) (*Params, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errors.Errorf("unsupported dtype %v (want float32 or float64)", dt)
	}
	out := &Params{}
	for _, p := range ps.All() {
		q := NewParam(p.Name, p.Prunable, dt, p.Shape())
		if err := q.SetFloat64s(p.Float64s()); err != nil {
			return nil, err
		}
		_ = out.Add(q)
	}
	return out, nil
}

func strictUnmarshal(b []byte, v interface{}) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}
