package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
)

// maxShapeInts bounds the integer tensors shape arithmetic may build.
const maxShapeInts = 1024

// shape evaluates Shape of an activation (batch first) or of a constant.
func (r *reader) shape(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, r.since(15, "start", "end")...)
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if len(n.GetInput()) != 1 || n.GetInput()[0] == "" {
		return errors.Wrapf(ErrFormat, "%s needs 1 input, got %q", where, n.GetInput())
	}
	var full []dim
	if v, ok := r.consts[n.GetInput()[0]]; ok {
		for _, d := range v.dims {
			full = append(full, dim{n: int64(d)})
		}
	} else {
		full = []dim{{batch: true}}
		for _, d := range r.acts[n.GetInput()[0]] {
			full = append(full, dim{n: int64(d)})
		}
	}
	rank := int64(len(full))
	start, err := a.int("start", 0)
	if err != nil {
		return err
	}
	end, err := a.int("end", rank)
	if err != nil {
		return err
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += rank
		}
		return min(max(i, 0), rank)
	}
	start, end = clamp(start), clamp(end)
	if end < start {
		end = start
	}
	part := append([]dim{}, full[start:end]...)
	r.consts[out] = &value{dims: []int{len(part)}, ints: part}
	return nil
}

// shapeOp evaluates Gather, Unsqueeze, Squeeze, Concat and Cast on
// constants.
func (r *reader) shapeOp(where string, n *onnx.NodeProto) error {
	op := n.GetOpType()
	if !r.allConst(n) {
		return errors.Wrapf(ErrUnsupported, "%s: %s of an activation is not supported (only of shape constants)", where, op)
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) == 0 || ins[0] == "" {
		return errors.Wrapf(ErrFormat, "%s has no input", where)
	}
	x := r.consts[ins[0]]
	var v *value
	switch op {
	case "Gather":
		v, err = r.gather(where, n, x)
	case "Unsqueeze", "Squeeze":
		v, err = r.squeeze(where, n, x)
	case "Concat":
		v, err = r.concat(where, n)
	case "Cast":
		v, err = r.cast(where, n, x)
	}
	if err != nil {
		return err
	}
	r.consts[out] = v
	return nil
}

func (r *reader) gather(where string, n *onnx.NodeProto, x *value) (*value, error) {
	a, err := r.nodeAttrs(where, n, "axis")
	if err != nil {
		return nil, err
	}
	if axis, err := a.int("axis", 0); err != nil || (axis != 0 && axis != -1) {
		if err != nil {
			return nil, err
		}
		return nil, a.unsupported("axis", axis, "only gathering from a 1-D shape")
	}
	if len(n.GetInput()) != 2 || n.GetInput()[1] == "" {
		return nil, errors.Wrapf(ErrFormat, "%s needs 2 inputs (data and indices), got %q", where, n.GetInput())
	}
	idx := r.consts[n.GetInput()[1]]
	if x.ints == nil || len(x.dims) != 1 || idx.ints == nil || len(idx.dims) > 1 {
		return nil, errors.Wrapf(ErrUnsupported, "%s: only gathering integers from a 1-D shape is supported", where)
	}
	v := &value{dims: append([]int{}, idx.dims...)}
	for _, i := range idx.ints {
		k := i.n
		if k < 0 {
			k += int64(len(x.ints))
		}
		if i.batch || k < 0 || k >= int64(len(x.ints)) {
			return nil, errors.Wrapf(ErrFormat, "%s: index %v out of range for %d values", where, i, len(x.ints))
		}
		v.ints = append(v.ints, x.ints[k])
	}
	return v, nil
}

// squeeze evaluates Unsqueeze and Squeeze (axes from the second input
// from opset 13, from an attribute before), which change the dimensions
// only.
func (r *reader) squeeze(where string, n *onnx.NodeProto, x *value) (*value, error) {
	var known []string
	if r.opset < 13 {
		known = []string{"axes"}
	}
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return nil, err
	}
	ins := n.GetInput()
	axes, _, err := a.ints("axes")
	if err != nil {
		return nil, err
	}
	if len(axes) > 64 {
		return nil, errors.Wrapf(ErrFormat, "%s: axes must be a short integer list", where)
	}
	if len(ins) > 2 || (r.opset < 13 && len(ins) > 1) {
		return nil, errors.Wrapf(ErrFormat, "%s has %d inputs; want 1 or 2", where, len(ins))
	}
	if len(ins) == 2 && ins[1] != "" {
		av := r.consts[ins[1]]
		if av.ints == nil || len(av.ints) > 64 {
			return nil, errors.Wrapf(ErrFormat, "%s: axes must be a short integer list", where)
		}
		for _, d := range av.ints {
			if d.batch {
				return nil, errors.Wrapf(ErrShape, "%s: axes depend on the batch size", where)
			}
			axes = append(axes, d.n)
		}
	}
	unsq := n.GetOpType() == "Unsqueeze"
	rank := len(x.dims)
	if unsq {
		rank += len(axes)
		if len(axes) == 0 {
			return nil, errors.Wrapf(ErrFormat, "%s: Unsqueeze needs axes", where)
		}
	}
	mark := make([]bool, rank)
	for _, ax := range axes {
		if ax < 0 {
			ax += int64(rank)
		}
		if ax < 0 || ax >= int64(rank) || mark[ax] {
			return nil, errors.Wrapf(ErrFormat, "%s: axes %v out of range or repeated for rank %d", where, axes, rank)
		}
		mark[ax] = true
	}
	v := &value{floats: x.floats, ints: x.ints}
	if unsq {
		j := 0
		for i := 0; i < rank; i++ {
			if mark[i] {
				v.dims = append(v.dims, 1)
			} else {
				v.dims = append(v.dims, x.dims[j])
				j++
			}
		}
		return v, nil
	}
	for i, d := range x.dims {
		drop := (len(axes) == 0 && d == 1) || mark[i]
		if mark[i] && d != 1 {
			return nil, errors.Wrapf(ErrFormat, "%s: cannot squeeze axis %d of size %d", where, i, d)
		}
		if !drop {
			v.dims = append(v.dims, d)
		}
	}
	return v, nil
}

func (r *reader) concat(where string, n *onnx.NodeProto) (*value, error) {
	a, err := r.nodeAttrs(where, n, "axis")
	if err != nil {
		return nil, err
	}
	def := int64(0) // axis is required from opset 4
	if r.opset < 4 {
		def = 1
	}
	if axis, err := a.int("axis", def); err != nil || (axis != 0 && axis != -1) {
		if err != nil {
			return nil, err
		}
		return nil, a.unsupported("axis", axis, "only joining 1-D shapes")
	}
	v := &value{}
	for _, in := range n.GetInput() {
		x := r.consts[in]
		if x == nil || x.ints == nil || len(x.dims) != 1 {
			return nil, errors.Wrapf(ErrUnsupported, "%s: only joining 1-D integer shapes is supported", where)
		}
		if len(v.ints)+len(x.ints) > maxShapeInts {
			return nil, errors.Wrapf(ErrUnsupported, "%s: more than %d shape values", where, maxShapeInts)
		}
		v.ints = append(v.ints, x.ints...)
	}
	v.dims = []int{len(v.ints)}
	return v, nil
}

func (r *reader) cast(where string, n *onnx.NodeProto, x *value) (*value, error) {
	a, err := r.nodeAttrs(where, n, "to")
	if err != nil {
		return nil, err
	}
	var to int64
	if r.opset < 6 {
		// Before opset 6, to is the name of the type ("INT64").
		s, err := a.str("to", "")
		if err != nil {
			return nil, err
		}
		t, ok := onnx.TensorProto_DataType_value[s]
		if !ok {
			return nil, a.unsupportedAt("to", s, "the name of a TensorProto data type")
		}
		to = int64(t)
	} else if to, err = a.int("to", 0); err != nil {
		return nil, err
	}
	switch onnx.TensorProto_DataType(to) {
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32:
		if x.ints != nil {
			return x, nil
		}
	case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE:
		if x.floats != nil {
			return x, nil
		}
	}
	return nil, a.unsupported("to", onnx.TensorProto_DataType(to), "only casts that keep integers integer and floats float")
}

// arith evaluates Add, Sub, Mul and Div of integer shape constants (a
// scalar broadcasts); the batch size is known only through Mul by 1.
func (r *reader) arith(where string, n *onnx.NodeProto) error {
	bc, _, err := r.broadcast(where, n)
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) != 2 || ins[0] == "" || ins[1] == "" {
		return errors.Wrapf(ErrFormat, "%s needs 2 inputs, got %q", where, ins)
	}
	x, y := r.consts[ins[0]], r.consts[ins[1]]
	if x.ints == nil || y.ints == nil {
		return errors.Wrapf(ErrUnsupported, "%s: arithmetic on float constants is not supported", where)
	}
	if len(x.ints) != len(y.ints) && len(x.ints) != 1 && len(y.ints) != 1 {
		return errors.Wrapf(ErrFormat, "%s: operands of %d and %d values", where, len(x.ints), len(y.ints))
	}
	if r.opset < 7 && len(x.ints) != len(y.ints) && (bc.on == 0 || len(y.ints) != 1) {
		return errors.Wrapf(ErrUnsupported, "%s: operands of %d and %d values with broadcast=%d at opset %d (only a scalar B broadcasts, with broadcast=1)", where, len(x.ints), len(y.ints), bc.on, r.opset)
	}
	res := &value{dims: x.dims}
	if len(y.ints) > len(x.ints) {
		res.dims = y.dims
	}
	for i := 0; i < max(len(x.ints), len(y.ints)); i++ {
		p, q := x.ints[min(i, len(x.ints)-1)], y.ints[min(i, len(y.ints)-1)]
		var d dim
		switch {
		case !p.batch && !q.batch:
			switch n.GetOpType() {
			case "Add":
				d.n = p.n + q.n
			case "Sub":
				d.n = p.n - q.n
			case "Mul":
				d.n = p.n * q.n
			case "Div":
				if q.n == 0 {
					return errors.Wrapf(ErrFormat, "%s: division by zero", where)
				}
				d.n = p.n / q.n
			}
		case n.GetOpType() == "Mul" && (p.n == 1 && !p.batch || q.n == 1 && !q.batch):
			d.batch = true
		case n.GetOpType() == "Div" && p.batch && !q.batch && q.n == 1:
			d.batch = true
		default:
			return errors.Wrapf(ErrShape, "%s: %s of %v and %v depends on the batch size", where, n.GetOpType(), p, q)
		}
		res.ints = append(res.ints, d)
	}
	r.consts[out] = res
	return nil
}
