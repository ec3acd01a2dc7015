package interop

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// oldBroadcast is the broadcasting of Add, Sub, Mul and Div before opset
// 7: with broadcast=1 the second input B alone is extended to the shape
// of A, its dimensions matching those of A from axis on (without axis,
// A's last ones); with broadcast=0 the shapes must be equal.
type oldBroadcast struct {
	on      int64
	axis    int64
	hasAxis bool
}

// broadcast reads the attributes of an element-wise Add, Sub, Mul or Div:
// none from opset 7, broadcast and axis before.
func (r *reader) broadcast(where string, n *onnx.NodeProto) (oldBroadcast, attrs, error) {
	a, err := r.nodeAttrs(where, n, append(r.before(7, "broadcast", "axis"), r.legacy()...)...)
	if err != nil {
		return oldBroadcast{}, a, err
	}
	var b oldBroadcast
	if b.on, err = a.int("broadcast", 0); err != nil {
		return b, a, err
	}
	if b.on != 0 && b.on != 1 {
		return b, a, a.unsupportedAt("broadcast", b.on, "0 or 1")
	}
	_, b.hasAxis = a.byKey["axis"]
	if b.axis, err = a.int("axis", 0); err != nil {
		return b, a, err
	}
	return b, a, nil
}

// oldBias gives the dimensions, in today's (numpy) broadcasting, of a
// constant B of dimensions dims that Add extends to an activation of
// per-sample shape shape before opset 7, or refuses the Add.
func (r *reader) oldBias(a attrs, b oldBroadcast, c *value, name string, shape []int) ([]int, error) {
	if b.on == 0 {
		return nil, a.unsupportedAt("broadcast", b.on, fmt.Sprintf("the constant %q must then have the whole shape of the activation, batch included; only broadcast=1 with a bias per unit or channel", name))
	}
	if c.size() == 1 {
		return c.dims, nil
	}
	rank := 1 + len(shape)
	start := int64(rank - len(c.dims))
	if b.hasAxis {
		start = b.axis
	}
	ok := start >= 1 && start+int64(len(c.dims)) <= int64(rank)
	for i := 0; ok && i < len(c.dims); i++ {
		ok = c.dims[i] == shape[int(start)-1+i]
	}
	if !ok {
		if b.hasAxis {
			return nil, a.unsupportedAt("axis", b.axis, fmt.Sprintf("the constant %q of dimensions %v does not match the dimensions of [batch %v] from axis %d after the batch", name, c.dims, shape, b.axis))
		}
		return nil, errors.Wrapf(ErrUnsupported, "%s: at opset %d the constant %q of dimensions %v broadcasts to the last dimensions of [batch %v] (no axis), which is not a bias per unit or channel", a.where, a.opset, name, c.dims, shape)
	}
	dims := append([]int(nil), c.dims...)
	for len(dims) < rank-int(start) {
		dims = append(dims, 1)
	}
	return dims, nil
}

// bias folds Add(x, constant) into the bias of the dense or conv layer
// whose output x is, when nothing has read that output yet.
func (r *reader) bias(where string, n *onnx.NodeProto) error {
	bc, a, err := r.broadcast(where, n)
	if err != nil {
		return err
	}
	ins := n.GetInput()
	if len(ins) != 2 || ins[0] == "" || ins[1] == "" {
		return errors.Wrapf(ErrFormat, "%s needs 2 inputs, got %q", where, ins)
	}
	xi, ci := 0, 1
	if _, ok := r.consts[ins[0]]; ok {
		xi, ci = 1, 0
	}
	x := ins[xi]
	c, err := r.weightInput(where, n, ci, false)
	if err != nil {
		return err
	}
	p := r.prod[x]
	if p < 0 || (r.layers[p].Kind != models.Dense && r.layers[p].Kind != models.Conv2d) {
		return errors.Wrapf(ErrUnsupported, "%s: an Add of a constant is supported only as the bias right after Gemm, MatMul or Conv", where)
	}
	shape := r.acts[x]
	dims := c.dims
	if r.opset < 7 {
		if ci == 0 {
			return errors.Wrapf(ErrUnsupported, "%s: at opset %d only the second input broadcasts; the constant %q is the first", where, r.opset, ins[ci])
		}
		if dims, err = r.oldBias(a, bc, c, ins[ci], shape); err != nil {
			return err
		}
	}
	for j := p + 1; j < len(r.layers); j++ {
		for _, k := range r.ins[j] {
			if k == p {
				return errors.Wrapf(ErrUnsupported, "%s: adds a bias to %q, which %s reads without it", where, x, r.sources[j][0])
			}
		}
	}
	// The constant must broadcast per unit (dense) or per channel (conv):
	// a scalar, or [units] (conv: [channels, 1, 1]) after leading ones.
	ok := c.size() == 1
	if !ok && len(dims) <= len(shape)+1 {
		d := dims
		for len(d) > 0 && d[0] == 1 {
			d = d[1:]
		}
		ok = len(d) == len(shape) && d[0] == shape[0] && numel(d[1:]) == 1
	}
	if !ok {
		return errors.Wrapf(ErrUnsupported, "%s: constant %q of dimensions %v is not a bias for an output of shape [batch %v]", where, ins[ci], dims, shape)
	}
	units := shape[0]
	b := r.weights[p][models.RoleBias]
	sum := &value{dims: []int{units}, floats: make([]float32, units)}
	for i := range sum.floats {
		if b != nil {
			sum.floats[i] = b.floats[i]
		}
		sum.floats[i] += c.floats[min(i, c.size()-1)]
	}
	r.weights[p][models.RoleBias] = sum
	r.layers[p].NoBias = false
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	for name, q := range r.prod {
		if q == p {
			delete(r.prod, name)
			delete(r.acts, name)
			r.stale[name] = where
		}
	}
	r.acts[out] = shape
	r.prod[out] = p
	r.sources[p] = append(r.sources[p], where)
	return nil
}

// residual maps the Add of two activations onto an add layer.
func (r *reader) residual(where string, n *onnx.NodeProto) error {
	bc, a, err := r.broadcast(where, n)
	if err != nil {
		return err
	}
	if bc.on != 0 && bc.hasAxis && bc.axis != 0 {
		// Equal shapes (which the add needs) match from axis 0 only.
		return a.unsupportedAt("axis", bc.axis, "an Add of two activations of the same shape; only axis 0")
	}
	ins := n.GetInput()
	if len(ins) != 2 || ins[0] == "" || ins[1] == "" {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; want 2", where, len(ins))
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Add}, ins, nil)
}
