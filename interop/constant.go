package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
)

func (r *reader) constant(where string, n *onnx.NodeProto) error {
	known := append([]string{"value"}, r.since(11, "sparse_value")...)
	a, err := r.nodeAttrs(where, n, append(known, r.since(12, "value_float", "value_floats", "value_int", "value_ints")...)...)
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if len(n.GetInput()) != 0 || len(a.byKey) != 1 {
		return errors.Wrapf(ErrFormat, "%s must have no inputs and exactly one value attribute", where)
	}
	var v *value
	switch {
	case a.byKey["value"] != nil:
		t, err := a.tensor("value")
		if err != nil {
			return err
		}
		if t == nil {
			return errors.Wrapf(ErrFormat, "%s: attribute value holds no tensor", where)
		}
		if v, err = decodeTensor(t); err != nil {
			return errors.Wrap(err, where)
		}
	case a.byKey["sparse_value"] != nil:
		at, err := a.typed("sparse_value", onnx.AttributeProto_SPARSE_TENSOR)
		if err != nil {
			return err
		}
		if at.GetSparseTensor() == nil {
			return errors.Wrapf(ErrFormat, "%s: attribute sparse_value holds no tensor", where)
		}
		if _, v, err = decodeSparse(at.GetSparseTensor(), r.budget, r.size); err != nil {
			return errors.Wrap(err, where)
		}
		r.budget -= v.size()
	case a.byKey["value_float"] != nil:
		f, err := a.float("value_float", 0)
		if err != nil {
			return err
		}
		v = &value{floats: []float32{f}}
	case a.byKey["value_floats"] != nil:
		at, err := a.typed("value_floats", onnx.AttributeProto_FLOATS)
		if err != nil {
			return err
		}
		v = &value{dims: []int{len(at.GetFloats())}, floats: append([]float32{}, at.GetFloats()...)}
	case a.byKey["value_int"] != nil:
		i, err := a.int("value_int", 0)
		if err != nil {
			return err
		}
		v = &value{ints: []dim{{n: i}}}
	default:
		is, _, err := a.ints("value_ints")
		if err != nil {
			return err
		}
		v = &value{dims: []int{len(is)}}
		for _, i := range is {
			v.ints = append(v.ints, dim{n: i})
		}
	}
	r.consts[out] = v
	return nil
}
