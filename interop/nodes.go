package interop

import (
	"reflect"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

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
	case "Relu", "Sigmoid", "Tanh":
		return r.activation(where, n)
	case "Clip":
		return r.clip(where, n)
	case "LeakyRelu":
		return r.leakyrelu(where, n)
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
