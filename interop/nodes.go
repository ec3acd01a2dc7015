package interop

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// maxShapeInts bounds the integer tensors shape arithmetic may build.
const maxShapeInts = 1024

// node maps one node: shape arithmetic on constants is evaluated, a layer
// op extends the chain, and anything else is an error naming the node.
func (r *reader) node(where string, n *onnx.NodeProto) error {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return errors.Wrapf(ErrUnsupported, "%s: op %q of domain %q is not supported", where, n.GetOpType(), d)
	}
	for _, in := range n.GetInput() {
		if in == "" {
			continue
		}
		if _, ok := r.consts[in]; ok {
			continue
		}
		if _, ok := r.acts[in]; !ok {
			return errors.Wrapf(ErrFormat, "%s reads %q, which no initializer or earlier node defines", where, in)
		}
	}
	for _, out := range n.GetOutput() {
		_, c := r.consts[out]
		_, a := r.acts[out]
		if c || a {
			return errors.Wrapf(ErrFormat, "%s writes %q, which is already defined", where, out)
		}
	}
	switch n.GetOpType() {
	case "Constant":
		return r.constant(where, n)
	case "Identity":
		return r.identity(where, n)
	case "Dropout":
		return r.dropout(where, n)
	case "Shape":
		return r.shape(where, n)
	case "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast":
		return r.shapeOp(where, n)
	case "Add":
		if r.allConst(n) {
			return r.arith(where, n)
		}
		return r.bias(where, n)
	case "Mul", "Sub", "Div":
		if r.allConst(n) {
			return r.arith(where, n)
		}
		return errors.Wrapf(ErrUnsupported, "%s: element-wise %s on activations is not supported", where, n.GetOpType())
	case "Gemm":
		return r.gemm(where, n)
	case "MatMul":
		return r.matmul(where, n)
	case "Conv":
		return r.conv(where, n)
	case "MaxPool":
		return r.maxpool(where, n)
	case "Relu":
		if _, err := nodeAttrs(where, n); err != nil {
			return err
		}
		x, err := r.chainInput(where, n, 1, 1)
		if err != nil {
			return err
		}
		return r.addLayer(where, n, models.Layer{Kind: models.ReLU}, x, nil)
	case "Flatten":
		return r.flatten(where, n)
	case "Reshape":
		return r.reshape(where, n)
	}
	return errors.Wrapf(ErrUnsupported, "%s: op %s is not supported (supported: Gemm, MatMul, Add, Conv, Relu, MaxPool, Flatten, Reshape, Identity, Dropout, and Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Mul, Sub, Div on shape constants)", where, n.GetOpType())
}

func (r *reader) allConst(n *onnx.NodeProto) bool {
	for _, in := range n.GetInput() {
		if _, ok := r.consts[in]; in != "" && !ok {
			return false
		}
	}
	return true
}

// outputs checks that n writes want outputs (optional ones may be left
// empty) and returns the first.
func outputs(where string, n *onnx.NodeProto, want int) (string, error) {
	outs := n.GetOutput()
	if len(outs) == 0 || outs[0] == "" {
		return "", errors.Wrapf(ErrFormat, "%s has no output", where)
	}
	for i, o := range outs[1:] {
		if o != "" && i+1 >= want {
			return "", errors.Wrapf(ErrUnsupported, "%s: output %d (%q) is not supported", where, i+1, o)
		}
	}
	return outs[0], nil
}

// chainInput returns the per-sample shape of the node's first input, which
// must be the head of the chain, after checking the number of inputs.
func (r *reader) chainInput(where string, n *onnx.NodeProto, minIn, maxIn int) ([]int, error) {
	ins := n.GetInput()
	if len(ins) < minIn || len(ins) > maxIn {
		return nil, errors.Wrapf(ErrFormat, "%s has %d inputs; want %d to %d", where, len(ins), minIn, maxIn)
	}
	x := ins[0]
	if _, isConst := r.consts[x]; isConst {
		return nil, errors.Wrapf(ErrUnsupported, "%s: input %q is a constant; only layers applied to the graph input are supported", where, x)
	}
	if x != r.head {
		return nil, errors.Wrapf(ErrUnsupported, "%s reads %q, but the chain of layers has moved on to %q: only a single chain is supported (no branches or skip connections)", where, x, r.head)
	}
	return r.acts[x], nil
}

// weightInput returns input i of n, which must be a constant (or nil when
// it is optional and absent).
func (r *reader) weightInput(where string, n *onnx.NodeProto, i int, optional bool) (*value, error) {
	ins := n.GetInput()
	if i >= len(ins) || ins[i] == "" {
		if optional {
			return nil, nil
		}
		return nil, errors.Wrapf(ErrFormat, "%s: input %d is missing", where, i)
	}
	v, ok := r.consts[ins[i]]
	if !ok {
		return nil, errors.Wrapf(ErrUnsupported, "%s: input %q is computed at run time; weights must be initializers or constants", where, ins[i])
	}
	if v.floats == nil {
		return nil, errors.Wrapf(ErrUnsupported, "%s: input %q is an integer tensor; weights must be FLOAT or DOUBLE", where, ins[i])
	}
	return v, nil
}

// addLayer appends a layer read from n (nil weights for layers without
// parameters), working out its output shape from in.
func (r *reader) addLayer(where string, n *onnx.NodeProto, l models.Layer, in []int, w *[2]*value) error {
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	shape, err := l.OutShape(in)
	if err != nil {
		return errors.Wrapf(ErrUnsupported, "%s: %v", where, err)
	}
	r.layers = append(r.layers, l)
	r.sources = append(r.sources, []string{where})
	if w != nil {
		r.weights = append(r.weights, *w)
		r.biasable = len(r.layers) - 1
	} else {
		r.weights = append(r.weights, [2]*value{})
		r.biasable = -1
	}
	r.acts[out] = shape
	r.head = out
	return nil
}

// alias makes the output of n another name of the head (or of a constant).
func (r *reader) alias(where string, n *onnx.NodeProto, want int) error {
	out, err := outputs(where, n, want)
	if err != nil {
		return err
	}
	x := n.GetInput()[0]
	if v, ok := r.consts[x]; ok {
		r.consts[out] = v
		return nil
	}
	if x != r.head {
		return errors.Wrapf(ErrUnsupported, "%s reads %q, but the chain of layers has moved on to %q: only a single chain is supported", where, x, r.head)
	}
	r.acts[out] = r.acts[x]
	r.head = out
	if len(r.sources) > 0 {
		r.sources[len(r.sources)-1] = append(r.sources[len(r.sources)-1], where)
	}
	return nil
}

func (r *reader) identity(where string, n *onnx.NodeProto) error {
	if _, err := nodeAttrs(where, n); err != nil {
		return err
	}
	if len(n.GetInput()) != 1 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 1", where, len(n.GetInput()))
	}
	return r.alias(where, n, 1)
}

// dropout is the identity at inference; a training_mode that is true is
// refused.
func (r *reader) dropout(where string, n *onnx.NodeProto) error {
	if _, err := nodeAttrs(where, n, "seed"); err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) < 1 || len(ins) > 3 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 1 to 3", where, len(ins))
	}
	if len(ins) == 3 && ins[2] != "" {
		v, ok := r.consts[ins[2]]
		if !ok || v.size() != 1 {
			return errors.Wrapf(ErrUnsupported, "%s: training_mode %q must be a constant false", where, ins[2])
		}
		if (v.ints != nil && v.ints[0].n != 0) || (v.floats != nil && v.floats[0] != 0) {
			return errors.Wrapf(ErrUnsupported, "%s: training_mode is true; export the model in eval mode", where)
		}
	}
	return r.alias(where, n, 1)
}

func (r *reader) constant(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "value", "value_float", "value_floats", "value_int", "value_ints")
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

// shape evaluates Shape of an activation (batch first) or of a constant.
func (r *reader) shape(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "start", "end")
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if len(n.GetInput()) != 1 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 1", where, len(n.GetInput()))
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
	a, err := nodeAttrs(where, n, "axis")
	if err != nil {
		return nil, err
	}
	if axis, err := a.int("axis", 0); err != nil || (axis != 0 && axis != -1) {
		if err != nil {
			return nil, err
		}
		return nil, a.unsupported("axis", axis, "only gathering from a 1-D shape")
	}
	if len(n.GetInput()) != 2 {
		return nil, errors.Wrapf(ErrFormat, "%s has %d inputs; want 2", where, len(n.GetInput()))
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

// squeeze evaluates Unsqueeze and Squeeze (axes from the second input, as
// opset 13 has it), which change the dimensions only.
func (r *reader) squeeze(where string, n *onnx.NodeProto, x *value) (*value, error) {
	if _, err := nodeAttrs(where, n); err != nil {
		return nil, err
	}
	ins := n.GetInput()
	var axes []int64
	if len(ins) > 2 {
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
	a, err := nodeAttrs(where, n, "axis")
	if err != nil {
		return nil, err
	}
	if axis, err := a.int("axis", 0); err != nil || (axis != 0 && axis != -1) {
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
	a, err := nodeAttrs(where, n, "to", "saturate")
	if err != nil {
		return nil, err
	}
	to, err := a.int("to", 0)
	if err != nil {
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
	if _, err := nodeAttrs(where, n); err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) != 2 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 2", where, len(ins))
	}
	x, y := r.consts[ins[0]], r.consts[ins[1]]
	if x.ints == nil || y.ints == nil {
		return errors.Wrapf(ErrUnsupported, "%s: arithmetic on float constants is not supported", where)
	}
	if len(x.ints) != len(y.ints) && len(x.ints) != 1 && len(y.ints) != 1 {
		return errors.Wrapf(ErrFormat, "%s: operands of %d and %d values", where, len(x.ints), len(y.ints))
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

// bias folds Add(head, constant) into the bias of the dense or conv layer
// whose output the head is.
func (r *reader) bias(where string, n *onnx.NodeProto) error {
	if _, err := nodeAttrs(where, n); err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) != 2 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 2", where, len(ins))
	}
	xi, ci := 0, 1
	if _, ok := r.consts[ins[0]]; ok {
		xi, ci = 1, 0
	}
	if _, ok := r.consts[ins[ci]]; !ok {
		return errors.Wrapf(ErrUnsupported, "%s adds two activations (%q and %q): skip connections are not supported", where, ins[0], ins[1])
	}
	if ins[xi] != r.head {
		return errors.Wrapf(ErrUnsupported, "%s reads %q, but the chain of layers has moved on to %q: only a single chain is supported", where, ins[xi], r.head)
	}
	c, err := r.weightInput(where, n, ci, false)
	if err != nil {
		return err
	}
	if r.biasable < 0 {
		return errors.Wrapf(ErrUnsupported, "%s: an Add is supported only as the bias right after Gemm, MatMul or Conv", where)
	}
	shape := r.acts[r.head]
	// The constant must broadcast per unit (dense) or per channel (conv):
	// a scalar, or [units] (conv: [channels, 1, 1]) after leading ones.
	ok := c.size() == 1
	if !ok && len(c.dims) <= len(shape)+1 {
		d := c.dims
		for len(d) > 0 && d[0] == 1 {
			d = d[1:]
		}
		ok = len(d) == len(shape) && d[0] == shape[0] && numel(d[1:]) == 1
	}
	if !ok {
		return errors.Wrapf(ErrUnsupported, "%s: constant %q of dimensions %v is not a bias for an output of shape [batch %v]", where, ins[ci], c.dims, shape)
	}
	b := r.weights[r.biasable][1]
	sum := &value{dims: b.dims, floats: make([]float32, len(b.floats))}
	for i := range sum.floats {
		sum.floats[i] = b.floats[i] + c.floats[min(i, c.size()-1)]
	}
	r.weights[r.biasable][1] = sum
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	r.acts[out] = shape
	r.head = out
	r.sources[r.biasable] = append(r.sources[r.biasable], where)
	return nil
}

// gemm maps Gemm(x, B, C) = alpha·x·op(B) + beta·C onto a dense layer.
func (r *reader) gemm(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 2, 3)
	if err != nil {
		return err
	}
	alpha, err := a.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := a.float("beta", 1)
	if err != nil {
		return err
	}
	if ta, err := a.int("transA", 0); err != nil || ta != 0 {
		if err != nil {
			return err
		}
		return a.unsupported("transA", ta, "the input must not be transposed")
	}
	tb, err := a.int("transB", 0)
	if err != nil {
		return err
	}
	if len(in) != 1 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; Gemm needs [batch, features]", where, in)
	}
	bv, err := r.weightInput(where, n, 1, false)
	if err != nil {
		return err
	}
	if len(bv.dims) != 2 {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v; want 2", where, bv.dims)
	}
	rows, cols := bv.dims[0], bv.dims[1]
	units, fanin := cols, rows
	if tb != 0 {
		units, fanin = rows, cols
	}
	if fanin != in[0] {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v (transB=%d) for %d input features", where, bv.dims, tb, in[0])
	}
	w := &value{dims: []int{fanin, units}, floats: make([]float32, fanin*units)}
	for i := 0; i < fanin; i++ {
		for o := 0; o < units; o++ {
			x := bv.floats[i*units+o]
			if tb != 0 {
				x = bv.floats[o*fanin+i]
			}
			w.floats[i*units+o] = alpha * x
		}
	}
	b := &value{dims: []int{units}, floats: make([]float32, units)}
	c, err := r.weightInput(where, n, 2, true)
	if err != nil {
		return err
	}
	if c != nil {
		if c.size() != 1 && c.size() != units || (len(c.dims) > 0 && c.dims[len(c.dims)-1] != c.size()) {
			return errors.Wrapf(ErrShape, "%s: bias of dimensions %v for %d units", where, c.dims, units)
		}
		for o := range b.floats {
			b.floats[o] = beta * c.floats[min(o, c.size()-1)]
		}
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units}, in, &[2]*value{w, b})
}

// matmul maps MatMul(x, W) with a constant [in, out] W onto a dense layer
// with a zero bias (a following Add fills it in).
func (r *reader) matmul(where string, n *onnx.NodeProto) error {
	if _, err := nodeAttrs(where, n); err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 2, 2)
	if err != nil {
		return err
	}
	if len(in) != 1 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; MatMul needs [batch, features]", where, in)
	}
	w, err := r.weightInput(where, n, 1, false)
	if err != nil {
		return err
	}
	if len(w.dims) != 2 || w.dims[0] != in[0] {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v for %d input features; want [%d, units]", where, w.dims, in[0], in[0])
	}
	units := w.dims[1]
	b := &value{dims: []int{units}, floats: make([]float32, units)}
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units}, in, &[2]*value{w, b})
}

// conv maps Conv(x, W, B) onto a conv2d layer.
func (r *reader) conv(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
	if err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 2, 3)
	if err != nil {
		return err
	}
	if len(in) != 3 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; Conv needs [batch, channels, height, width]", where, in)
	}
	w, err := r.weightInput(where, n, 1, false)
	if err != nil {
		return err
	}
	if len(w.dims) != 4 || w.dims[1] != in[0] {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v for %d input channels; want [filters, %d, kernel, kernel]", where, w.dims, in[0], in[0])
	}
	if g, err := a.int("group", 1); err != nil || g != 1 {
		if err != nil {
			return err
		}
		return a.unsupported("group", g, "grouped convolutions")
	}
	k, s, p, err := window(a, w.dims[2:])
	if err != nil {
		return err
	}
	filters := w.dims[0]
	b := &value{dims: []int{filters}, floats: make([]float32, filters)}
	bv, err := r.weightInput(where, n, 2, true)
	if err != nil {
		return err
	}
	if bv != nil {
		if len(bv.dims) != 1 || bv.dims[0] != filters {
			return errors.Wrapf(ErrShape, "%s: bias of dimensions %v for %d filters", where, bv.dims, filters)
		}
		b = bv
	}
	l := models.Layer{Kind: models.Conv2d, Filters: filters, Kernel: k, Padding: p}
	if s != 1 {
		l.Stride = s
	}
	return r.addLayer(where, n, l, in, &[2]*value{w, b})
}

func (r *reader) maxpool(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides")
	if err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	if len(in) != 3 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; MaxPool needs [batch, channels, height, width]", where, in)
	}
	ks, ok, err := a.ints("kernel_shape")
	if err != nil {
		return err
	}
	if !ok || len(ks) != 2 {
		return errors.Wrapf(ErrFormat, "%s: kernel_shape must list 2 sizes", where)
	}
	if ks[0] <= 0 || ks[0] > models.MaxSize || ks[1] <= 0 || ks[1] > models.MaxSize {
		return a.unsupported("kernel_shape", ks, "sizes must be positive")
	}
	k, s, p, err := window(a, []int{int(ks[0]), int(ks[1])})
	if err != nil {
		return err
	}
	if p != 0 {
		return a.unsupported("pads", p, "padded max-pooling")
	}
	if so, err := a.int("storage_order", 0); err != nil || so != 0 {
		if err != nil {
			return err
		}
		return a.unsupported("storage_order", so, "row-major only")
	}
	cm, err := a.int("ceil_mode", 0)
	if err != nil {
		return err
	}
	if cm != 0 && ((in[1]-k)%s != 0 || (in[2]-k)%s != 0) {
		return a.unsupported("ceil_mode", cm, fmt.Sprintf("rounding up changes the output size of a %d×%d input", in[1], in[2]))
	}
	l := models.Layer{Kind: models.MaxPool2d, Kernel: k}
	if s != k {
		l.Stride = s
	}
	return r.addLayer(where, n, l, in, nil)
}

// window reads the kernel_shape, strides, pads, dilations and auto_pad of a
// Conv or MaxPool with kernel size kernel, and returns the square kernel,
// the stride and the padding it maps onto.
func window(a attrs, kernel []int) (k, s, p int, err error) {
	if kernel[0] != kernel[1] {
		return 0, 0, 0, a.unsupported("kernel_shape", kernel, "only square kernels")
	}
	k = kernel[0]
	if ks, ok, err := a.ints("kernel_shape"); err != nil {
		return 0, 0, 0, err
	} else if ok && (len(ks) != 2 || ks[0] != int64(k) || ks[1] != int64(k)) {
		return 0, 0, 0, errors.Wrapf(ErrFormat, "%s: kernel_shape %v disagrees with the weight's %v", a.where, ks, kernel)
	}
	ap, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return 0, 0, 0, err
	}
	if ap != "NOTSET" && ap != "VALID" && ap != "" {
		return 0, 0, 0, a.unsupported("auto_pad", ap, "only explicit pads")
	}
	if d, ok, err := a.ints("dilations"); err != nil {
		return 0, 0, 0, err
	} else if ok && (len(d) != 2 || d[0] != 1 || d[1] != 1) {
		return 0, 0, 0, a.unsupported("dilations", d, "only 1")
	}
	s = 1
	if st, ok, err := a.ints("strides"); err != nil {
		return 0, 0, 0, err
	} else if ok {
		if len(st) != 2 || st[0] != st[1] || st[0] <= 0 || st[0] > models.MaxSize {
			return 0, 0, 0, a.unsupported("strides", st, "only equal positive strides")
		}
		s = int(st[0])
	}
	if pd, ok, err := a.ints("pads"); err != nil {
		return 0, 0, 0, err
	} else if ok {
		if len(pd) != 4 || pd[0] != pd[1] || pd[0] != pd[2] || pd[0] != pd[3] || pd[0] < 0 || pd[0] > models.MaxSize {
			return 0, 0, 0, a.unsupported("pads", pd, "only the same padding on every side")
		}
		if ap == "VALID" && pd[0] != 0 {
			return 0, 0, 0, errors.Wrapf(ErrFormat, "%s: auto_pad VALID with pads %v", a.where, pd)
		}
		p = int(pd[0])
	}
	return k, s, p, nil
}

func (r *reader) flatten(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "axis")
	if err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	if axis < 0 {
		axis += int64(1 + len(in))
	}
	if axis != 1 {
		return a.unsupported("axis", axis, "only flattening everything after the batch dimension")
	}
	if len(in) == 1 {
		return r.alias(where, n, 1)
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Flatten}, in, nil)
}

// reshape maps a Reshape of the head to [batch, features], with the target
// shape a constant or computed from Shape, onto a flatten.
func (r *reader) reshape(where string, n *onnx.NodeProto) error {
	a, err := nodeAttrs(where, n, "allowzero")
	if err != nil {
		return err
	}
	in, err := r.chainInput(where, n, 2, 2)
	if err != nil {
		return err
	}
	t, ok := r.consts[n.GetInput()[1]]
	if !ok {
		return errors.Wrapf(ErrShape, "%s: the target shape %q is computed from values, not shapes", where, n.GetInput()[1])
	}
	if t.ints == nil || len(t.dims) != 1 {
		return errors.Wrapf(ErrFormat, "%s: the target shape must be a 1-D integer tensor", where)
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	size := int64(numel(in))
	if len(t.ints) != 2 {
		return errors.Wrapf(ErrUnsupported, "%s: reshaping [batch %v] to %v; only flattening to [batch, %d] is supported", where, in, t.ints, size)
	}
	b, f := t.ints[0], t.ints[1]
	batchOK := b.batch || (b.n == 0 && allowZero == 0) || (b.n == -1 && !f.batch && f.n == size) || (r.batch > 0 && b.n == r.batch)
	featOK := !f.batch && (f.n == size || (f.n == -1 && !(b.n == -1 && !b.batch)) || (f.n == 0 && allowZero == 0 && len(in) == 1))
	if !batchOK || !featOK {
		return errors.Wrapf(ErrShape, "%s: reshaping [batch %v] to %v; only flattening to [batch, %d] is supported", where, in, t.ints, size)
	}
	if len(in) == 1 {
		return r.alias(where, n, 1)
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Flatten}, in, nil)
}
