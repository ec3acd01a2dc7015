package interop

import (
	"reflect"

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
	for i, in := range n.GetInput() {
		if in == "" {
			continue
		}
		if _, ok := r.consts[in]; ok {
			continue
		}
		if p, ok := r.pads[in]; ok {
			if op := n.GetOpType(); i != 0 || (op != "Conv" && op != "AveragePool") {
				return errors.Wrapf(ErrUnsupported, "%s reads %q, the output of %s: a zero Pad is supported only right before a Conv or AveragePool, which take it as their padding", where, in, p.where)
			}
			continue
		}
		if add, ok := r.stale[in]; ok {
			return errors.Wrapf(ErrUnsupported, "%s reads %q, which %s adds a bias to: only the biased output of a layer can be read", where, in, add)
		}
		if _, ok := r.acts[in]; !ok {
			return errors.Wrapf(ErrFormat, "%s reads %q, which no initializer or earlier node defines", where, in)
		}
	}
	for _, out := range n.GetOutput() {
		_, c := r.consts[out]
		_, a := r.acts[out]
		_, p := r.pads[out]
		_, st := r.stale[out]
		if c || a || p || st {
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
		if r.oneConst(n) {
			return r.bias(where, n)
		}
		return r.residual(where, n)
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
		if _, err := r.nodeAttrs(where, n, r.legacy()...); err != nil {
			return err
		}
		x, _, err := r.actInput(where, n, 1, 1)
		if err != nil {
			return err
		}
		return r.addLayer(where, n, models.Layer{Kind: models.ReLU}, []string{x}, nil)
	case "Clip":
		return r.clip(where, n)
	case "LeakyRelu":
		return r.leakyrelu(where, n)
	case "Sigmoid", "Tanh":
		if _, err := r.nodeAttrs(where, n, r.legacy()...); err != nil {
			return err
		}
		x, _, err := r.actInput(where, n, 1, 1)
		if err != nil {
			return err
		}
		kind := models.Sigmoid
		if n.GetOpType() == "Tanh" {
			kind = models.Tanh
		}
		return r.addLayer(where, n, models.Layer{Kind: kind}, []string{x}, nil)
	case "Softmax":
		return r.softmax(where, n)
	case "BatchNormalization":
		return r.batchnorm(where, n)
	case "AveragePool":
		return r.avgpool(where, n)
	case "GlobalAveragePool":
		return r.globalavgpool(where, n)
	case "Pad":
		return r.pad(where, n)
	case "Flatten":
		return r.flatten(where, n)
	case "Reshape":
		return r.reshape(where, n)
	}
	return errors.Wrapf(ErrUnsupported, "%s: op %s is not supported (supported: Gemm, MatMul, Add, Conv, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Clip to [0, ∞) or [0, 6], Softmax of the class scores at the end, MaxPool, AveragePool, GlobalAveragePool, Pad with zeros before Conv or AveragePool, Flatten, Reshape, Identity, Dropout, and Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Mul, Sub, Div on shape constants)", where, n.GetOpType())
}

func (r *reader) allConst(n *onnx.NodeProto) bool {
	for _, in := range n.GetInput() {
		if _, ok := r.consts[in]; in != "" && !ok {
			return false
		}
	}
	return true
}

// oneConst reports whether exactly one of the node's inputs is a constant.
func (r *reader) oneConst(n *onnx.NodeProto) bool {
	k := 0
	for _, in := range n.GetInput() {
		if _, ok := r.consts[in]; ok {
			k++
		}
	}
	return k == 1
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

// actInput returns the node's first input, an activation, and its
// per-sample shape after checking the number of inputs. The output of a
// zero Pad (which only a Conv or AveragePool may read) is returned as the
// activation it pads and the padding.
func (r *reader) actInput(where string, n *onnx.NodeProto, minIn, maxIn int) (string, []int, error) {
	x, shape, _, err := r.paddedInput(where, n, minIn, maxIn)
	return x, shape, err
}

func (r *reader) paddedInput(where string, n *onnx.NodeProto, minIn, maxIn int) (string, []int, [4]int, error) {
	ins := n.GetInput()
	if len(ins) < minIn || len(ins) > maxIn {
		return "", nil, [4]int{}, errors.Wrapf(ErrFormat, "%s has %d inputs; want %d to %d", where, len(ins), minIn, maxIn)
	}
	x := ins[0]
	if x == "" {
		return "", nil, [4]int{}, errors.Wrapf(ErrFormat, "%s: input 0 is missing", where)
	}
	if _, isConst := r.consts[x]; isConst {
		return "", nil, [4]int{}, errors.Wrapf(ErrUnsupported, "%s: input %q is a constant; only layers applied to the graph input are supported", where, x)
	}
	if p, ok := r.pads[x]; ok {
		return p.src, r.acts[p.src], p.p, nil
	}
	return x, r.acts[x], [4]int{}, nil
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

// addLayer appends a layer read from n that reads the activations xs
// (nil weights for layers without parameters), working out its output
// shape.
func (r *reader) addLayer(where string, n *onnx.NodeProto, l models.Layer, xs []string, w map[string]*value) error {
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if len(r.layers) >= models.MaxLayers {
		return errors.Wrapf(ErrUnsupported, "%s: more than %d layers", where, models.MaxLayers)
	}
	var shape []int
	if l.Kind == models.Add {
		a, b := r.acts[xs[0]], r.acts[xs[1]]
		if !reflect.DeepEqual(a, b) {
			return errors.Wrapf(ErrShape, "%s adds %q of shape [batch %v] and %q of shape [batch %v]; an Add of two activations needs equal shapes", where, xs[0], a, xs[1], b)
		}
		shape = append([]int(nil), a...)
	} else if shape, err = l.OutShape(r.acts[xs[0]]); err != nil {
		return errors.Wrapf(ErrUnsupported, "%s: %v", where, err)
	}
	ins := make([]int, len(xs))
	for i, x := range xs {
		ins[i] = r.prod[x]
	}
	r.layers = append(r.layers, l)
	r.ins = append(r.ins, ins)
	r.sources = append(r.sources, []string{where})
	r.names = append(r.names, n.GetName())
	r.weights = append(r.weights, w)
	r.acts[out] = shape
	r.prod[out] = len(r.layers) - 1
	return nil
}

// alias makes the output of n another name of its first input (an
// activation or a constant).
func (r *reader) alias(where string, n *onnx.NodeProto, want int) error {
	out, err := outputs(where, n, want)
	if err != nil {
		return err
	}
	x := n.GetInput()[0]
	if x == "" {
		return errors.Wrapf(ErrFormat, "%s: input 0 is missing", where)
	}
	if v, ok := r.consts[x]; ok {
		r.consts[out] = v
		return nil
	}
	r.acts[out] = r.acts[x]
	p := r.prod[x]
	r.prod[out] = p
	if p >= 0 {
		r.sources[p] = append(r.sources[p], where)
	}
	return nil
}

func (r *reader) identity(where string, n *onnx.NodeProto) error {
	if _, err := r.nodeAttrs(where, n); err != nil {
		return err
	}
	if len(n.GetInput()) != 1 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 1", where, len(n.GetInput()))
	}
	return r.alias(where, n, 1)
}

// dropout is the identity at inference; a training_mode that is true is
// refused. Before opset 12 the ratio is an attribute; before opset 7
// is_test must be set (its default, 0, is training mode).
func (r *reader) dropout(where string, n *onnx.NodeProto) error {
	known := append(r.since(12, "seed"), r.before(12, "ratio")...)
	known = append(append(known, r.before(7, "is_test")...), r.legacy()...)
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return err
	}
	if r.opset < 7 {
		if t, err := a.int("is_test", 0); err != nil || t == 0 {
			if err != nil {
				return err
			}
			return a.unsupportedAt("is_test", t, "training mode, a random output; export the model in eval mode (is_test=1)")
		}
	}
	ins := n.GetInput()
	maxIn := 3
	if r.opset < 12 {
		maxIn = 1
	}
	if len(ins) < 1 || len(ins) > maxIn {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 1 to %d at opset %d", where, len(ins), maxIn, r.opset)
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
