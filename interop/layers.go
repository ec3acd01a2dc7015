package interop

import (
	"fmt"
	"math"
	"strconv"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// padded is the output of a Pad with zeros: the activation it pads and
// the padding of its height and width, [top, left, bottom, right].
type padded struct {
	src   string
	p     [4]int
	where string
}

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

// gemm maps Gemm(x, B, C) = alpha·x·op(B) + beta·C onto a dense layer.
func (r *reader) gemm(where string, n *onnx.NodeProto) error {
	known := append([]string{"alpha", "beta", "transA", "transB"}, r.before(7, "broadcast")...)
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return err
	}
	if len(n.GetInput()) < 3 && r.opset < 11 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; C is required before opset 11 (the file's is %d)", where, len(n.GetInput()), r.opset)
	}
	x, in, err := r.actInput(where, n, 2, 3)
	if err != nil {
		return err
	}
	if r.opset < 7 {
		// C is broadcast to [batch, units] only with broadcast=1.
		if bc, err := a.int("broadcast", 0); err != nil || bc != 1 {
			if err != nil {
				return err
			}
			return a.unsupportedAt("broadcast", bc, "C must then have the output's whole shape [batch, units]; only broadcast=1, a bias per unit")
		}
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
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units}, []string{x},
		map[string]*value{models.RoleWeight: w, models.RoleBias: b})
}

// matmul maps MatMul(x, W) with a constant [in, out] W onto a dense layer
// without a bias (a following Add gives it one).
func (r *reader) matmul(where string, n *onnx.NodeProto) error {
	if _, err := r.nodeAttrs(where, n); err != nil {
		return err
	}
	x, in, err := r.actInput(where, n, 2, 2)
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
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units, NoBias: true}, []string{x},
		map[string]*value{models.RoleWeight: w})
}

// conv maps Conv(x, W, B) onto a conv2d layer (without B: one without a
// bias), a zero Pad before it into its padding.
func (r *reader) conv(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
	if err != nil {
		return err
	}
	x, in, extra, err := r.paddedInput(where, n, 2, 3)
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
	if len(w.dims) != 4 {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v; want [filters, channels/group, kernel, kernel]", where, w.dims)
	}
	g, err := a.int("group", 1)
	if err != nil {
		return err
	}
	filters := w.dims[0]
	if g < 1 || g > int64(in[0]) || int64(in[0])%g != 0 || int64(filters)%g != 0 || int64(w.dims[1]) != int64(in[0])/g {
		return a.unsupported("group", g, fmt.Sprintf("the group count must divide the %d input channels and the %d filters of the weight %v, whose second dimension is channels/group", in[0], filters, w.dims))
	}
	g0, err := window(a, w.dims[2:], in[1:], false)
	if err != nil {
		return err
	}
	for i := range g0.pads {
		g0.pads[i] += extra[i]
	}
	var bv *value
	if bv, err = r.weightInput(where, n, 2, true); err != nil {
		return err
	}
	l := g0.layer(models.Layer{Kind: models.Conv2d, Filters: filters})
	s := g0.s
	ws := map[string]*value{models.RoleWeight: w}
	if bv != nil {
		if len(bv.dims) != 1 || bv.dims[0] != filters {
			return errors.Wrapf(ErrShape, "%s: bias of dimensions %v for %d filters", where, bv.dims, filters)
		}
		ws[models.RoleBias] = bv
	} else {
		l.NoBias = true
	}
	if s != 1 {
		l.Stride = s
	}
	if g != 1 {
		l.Groups = int(g)
	}
	return r.addLayer(where, n, l, []string{x}, ws)
}

// pool reads the window of a MaxPool or AveragePool on a [C, H, W] input
// and its ceil_mode (ONNX's rule for the output size, which is PyTorch's:
// see models.WindowOut; with auto_pad the output size is auto_pad's).
func (r *reader) pool(a attrs, in []int, dilated bool) (geom, bool, error) {
	if len(in) != 3 {
		return geom{}, false, errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; pooling needs [batch, channels, height, width]", a.where, in)
	}
	ks, ok, err := a.ints("kernel_shape")
	if err != nil {
		return geom{}, false, err
	}
	if !ok || len(ks) != 2 {
		return geom{}, false, errors.Wrapf(ErrFormat, "%s: kernel_shape must list 2 sizes", a.where)
	}
	if ks[0] <= 0 || ks[0] > models.MaxSize || ks[1] <= 0 || ks[1] > models.MaxSize {
		return geom{}, false, a.unsupported("kernel_shape", ks, "sizes must be positive")
	}
	g, err := window(a, []int{int(ks[0]), int(ks[1])}, in[1:], dilated)
	if err != nil {
		return geom{}, false, err
	}
	cm, err := a.int("ceil_mode", 0)
	if err != nil {
		return geom{}, false, err
	}
	if cm != 0 && cm != 1 {
		return geom{}, false, a.unsupported("ceil_mode", cm, "only 0 or 1")
	}
	if ap, err := a.str("auto_pad", "NOTSET"); err != nil {
		return geom{}, false, err
	} else if ap != "NOTSET" && ap != "" {
		cm = 0 // the padding auto_pad chose gives its output size exactly
	}
	return g, cm == 1, nil
}

// poolLayer is the maxpool2d or avgpool2d layer of a window, refusing a
// window that holds no input value (padding as wide as the window).
func poolLayer(a attrs, kind string, g geom, ceil bool) (models.Layer, error) {
	l := g.layer(models.Layer{Kind: kind, CeilMode: ceil})
	if g.s != g.k {
		l.Stride = g.s
	}
	span := (g.k-1)*g.d + 1
	for _, p := range g.pads {
		if p >= span {
			return models.Layer{}, a.unsupported("pads", g.pads[:], fmt.Sprintf("padding as wide as the window of %d cells, which then holds no input value", span))
		}
	}
	return l, nil
}

func (r *reader) maxpool(where string, n *onnx.NodeProto) error {
	known := append([]string{"auto_pad", "kernel_shape", "pads", "strides"}, r.since(8, "storage_order")...)
	a, err := r.nodeAttrs(where, n, append(known, r.since(10, "ceil_mode", "dilations")...)...)
	if err != nil {
		return err
	}
	if outs := n.GetOutput(); len(outs) > 1 && outs[1] != "" {
		return errors.Wrapf(ErrUnsupported, "%s: output 1 (%q), the indices of the maxima, is not supported", where, outs[1])
	}
	x, in, err := r.actInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	g, ceil, err := r.pool(a, in, true)
	if err != nil {
		return err
	}
	if so, err := a.int("storage_order", 0); err != nil || so != 0 {
		if err != nil {
			return err
		}
		return a.unsupported("storage_order", so, "row-major only")
	}
	l, err := poolLayer(a, models.MaxPool2d, g, ceil)
	if err != nil {
		return err
	}
	return r.addLayer(where, n, l, []string{x}, nil)
}

// avgpool maps AveragePool onto avgpool2d: its own padding counts in the
// mean with count_include_pad=1 and not with 0 (exclude_pad); the zeros
// of a Pad before it count either way, so a Pad before an AveragePool
// that pads too and leaves its padding out is refused. Before opset 7,
// which has no count_include_pad, padding is left out of the mean.
func (r *reader) avgpool(where string, n *onnx.NodeProto) error {
	known := append([]string{"auto_pad", "kernel_shape", "pads", "strides"}, r.since(7, "count_include_pad")...)
	a, err := r.nodeAttrs(where, n, append(known, r.since(10, "ceil_mode")...)...)
	if err != nil {
		return err
	}
	x, in, extra, err := r.paddedInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	g, ceil, err := r.pool(a, in, false)
	if err != nil {
		return err
	}
	cip, err := a.int("count_include_pad", 0)
	if err != nil {
		return err
	}
	exclude := cip == 0 && g.pads != [4]int{}
	if exclude && extra != [4]int{} {
		return a.unsupported("count_include_pad", cip, fmt.Sprintf("its padding %v left out of the mean, but the padding %v of the Pad before it counted", g.pads, extra))
	}
	for i := range g.pads {
		g.pads[i] += extra[i]
	}
	l, err := poolLayer(a, models.AvgPool2d, g, ceil)
	if err != nil {
		return err
	}
	l.ExcludePad = exclude
	return r.addLayer(where, n, l, []string{x}, nil)
}

func (r *reader) globalavgpool(where string, n *onnx.NodeProto) error {
	if _, err := r.nodeAttrs(where, n); err != nil {
		return err
	}
	x, in, err := r.actInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	if len(in) != 3 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; GlobalAveragePool needs [batch, channels, height, width]", where, in)
	}
	return r.addLayer(where, n, models.Layer{Kind: models.GlobalAvgPool2d}, []string{x}, nil)
}

// batchnorm maps BatchNormalization in inference mode onto batchnorm2d:
// training_mode=0 (from opset 14), is_test=1 (before opset 7), spatial=1
// (before opset 9).
func (r *reader) batchnorm(where string, n *onnx.NodeProto) error {
	known := append([]string{"epsilon", "momentum"}, r.before(9, "spatial")...)
	known = append(append(known, r.since(14, "training_mode")...), r.before(7, "is_test")...)
	a, err := r.nodeAttrs(where, n, append(known, r.legacy()...)...)
	if err != nil {
		return err
	}
	if r.opset < 7 {
		if t, err := a.int("is_test", 0); err != nil || t == 0 {
			if err != nil {
				return err
			}
			return a.unsupportedAt("is_test", t, "training mode, normalizing by the batch's statistics; export the model in eval mode (is_test=1)")
		}
	}
	if sp, err := a.int("spatial", 1); err != nil || sp != 1 {
		if err != nil {
			return err
		}
		return a.unsupported("spatial", sp, "statistics per channel only (spatial=1)")
	}
	if tm, err := a.int("training_mode", 0); err != nil || tm != 0 {
		if err != nil {
			return err
		}
		return a.unsupported("training_mode", tm, "export the model in eval mode")
	}
	x, in, err := r.actInput(where, n, 5, 5)
	if err != nil {
		return err
	}
	if len(in) != 3 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; BatchNormalization needs [batch, channels, height, width]", where, in)
	}
	ws := map[string]*value{}
	for i, role := range []string{models.RoleScale, models.RoleShift, models.RoleMean, models.RoleVar} {
		v, err := r.weightInput(where, n, i+1, false)
		if err != nil {
			return err
		}
		if v.size() != in[0] || (len(v.dims) != 1 && !(len(v.dims) == 0 && in[0] == 1)) {
			return errors.Wrapf(ErrShape, "%s: %s %q of dimensions %v for %d channels", where, role, n.GetInput()[i+1], v.dims, in[0])
		}
		if role == models.RoleVar {
			for _, f := range v.floats {
				if f < 0 {
					return errors.Wrapf(ErrFormat, "%s: variance %q has a negative value %g", where, n.GetInput()[i+1], f)
				}
			}
		}
		ws[role] = &value{dims: []int{in[0]}, floats: v.floats}
	}
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	mom, err := a.float("momentum", 0.9)
	if err != nil {
		return err
	}
	l := models.Layer{Kind: models.BatchNorm2d}
	if e := decimal(float64(decimal32(eps))); e != models.DefaultBNEps {
		if !(e > 0 && e < 1) {
			return a.unsupported("epsilon", eps, "want 0 < epsilon < 1")
		}
		l.Eps = e
	}
	if m := decimal(1 - decimal32(mom)); m != models.DefaultBNMomentum {
		if !(m > 0 && m <= 1) {
			return a.unsupported("momentum", mom, "want 0 ≤ momentum < 1 (ONNX's, the weight of the running statistics)")
		}
		l.Momentum = m
	}
	return r.addLayer(where, n, l, []string{x}, ws)
}

// decimal32 is the float64 of the shortest decimal that reads back as f.
func decimal32(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// decimal rounds x to 7 significant digits (float32 precision), so that
// 1 − 0.9 gives 0.1.
func decimal(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 7, 64), 64)
	return v
}

// clip maps Clip(x, 0, +∞), a ReLU, onto a relu layer, Clip(x, 0, 6) onto
// relu6 and other bounds onto a clip layer (a bound of ±∞, or beyond the
// largest float32, is none).
func (r *reader) clip(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, append(r.before(11, "min", "max"), r.legacy()...)...)
	if err != nil {
		return err
	}
	maxIn := 3
	if r.opset < 11 {
		maxIn = 1
	}
	x, _, err := r.actInput(where, n, 1, maxIn)
	if err != nil {
		return err
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if r.opset < 11 {
		if lo, err = a.float("min", lo); err != nil {
			return err
		}
		if hi, err = a.float("max", hi); err != nil {
			return err
		}
	} else {
		for i, bound := range []*float32{&lo, &hi} {
			v, err := r.weightInput(where, n, i+1, true)
			if err != nil {
				return err
			}
			if v != nil {
				if v.size() != 1 {
					return errors.Wrapf(ErrFormat, "%s: bound %q is not a scalar", where, n.GetInput()[i+1])
				}
				*bound = v.floats[0]
			}
		}
	}
	if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) || lo > hi {
		return errors.Wrapf(ErrUnsupported, "%s: Clip to [%g, %g] is not supported (the bounds must be numbers with min ≤ max)", where, lo, hi)
	}
	l := models.Layer{Kind: models.Clip}
	noMax := hi >= math.MaxFloat32
	switch {
	case lo == 0 && hi == 6:
		l.Kind = models.ReLU6
	case lo == 0 && noMax:
		l.Kind = models.ReLU
	default:
		if lo > -math.MaxFloat32 {
			v := decimal32(lo)
			l.Min = &v
		}
		if !noMax {
			v := decimal32(hi)
			l.Max = &v
		}
	}
	return r.addLayer(where, n, l, []string{x}, nil)
}

// leakyrelu maps LeakyRelu onto leakyrelu (alpha=0, a ReLU, onto relu).
func (r *reader) leakyrelu(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, append([]string{"alpha"}, r.legacy()...)...)
	if err != nil {
		return err
	}
	x, _, err := r.actInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	alpha, err := a.float("alpha", float32(models.DefaultLeakyAlpha))
	if err != nil {
		return err
	}
	if math.IsNaN(float64(alpha)) || math.IsInf(float64(alpha), 0) {
		return a.unsupported("alpha", alpha, "want a finite slope")
	}
	l := models.Layer{Kind: models.LeakyReLU}
	switch v := decimal32(alpha); {
	case v == 0:
		l.Kind = models.ReLU
	case v != models.DefaultLeakyAlpha:
		l.Alpha = v
	}
	return r.addLayer(where, n, l, []string{x}, nil)
}

// softmax maps a Softmax over the class scores of a [batch, classes]
// activation (axis 1 or -1) onto softmax, which must compute the graph's
// output (checked by Decode).
func (r *reader) softmax(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, "axis")
	if err != nil {
		return err
	}
	x, in, err := r.actInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	def := int64(-1)
	if r.opset < 13 {
		def = 1
	}
	axis, err := a.int("axis", def)
	if err != nil {
		return err
	}
	if axis < 0 {
		axis += int64(1 + len(in))
	}
	if len(in) != 1 {
		return errors.Wrapf(ErrUnsupported, "%s: input of shape [batch %v]; Softmax is supported only over the class scores of a [batch, classes] input", where, in)
	}
	if axis != 1 {
		return a.unsupported("axis", axis, "only over the classes, axis 1 or -1")
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Softmax}, []string{x}, nil)
}

// pad records a Pad with zeros of the height and width, the same on every
// side, which the Conv or AveragePool that reads it takes as its padding.
func (r *reader) pad(where string, n *onnx.NodeProto) error {
	// The amounts are the attribute paddings at opset 1, pads at 2 to 10,
	// and an input from 11 (the layout is the same).
	padsAttr := "pads"
	if r.opset < 2 {
		padsAttr = "paddings"
	}
	known := append([]string{"mode"}, r.before(11, padsAttr, "value")...)
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return err
	}
	maxIn := 1
	if r.opset >= 18 {
		maxIn = 4
	} else if r.opset >= 11 {
		maxIn = 3
	}
	x, in, err := r.actInput(where, n, 1, maxIn)
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if mode, err := a.str("mode", "constant"); err != nil || mode != "constant" {
		if err != nil {
			return err
		}
		return a.unsupported("mode", mode, "only constant padding with zeros")
	}
	rank := len(in) + 1
	var pads []int64
	value := float32(0)
	if r.opset < 11 {
		ps, ok, err := a.ints(padsAttr)
		if err != nil {
			return err
		}
		if !ok {
			return errors.Wrapf(ErrFormat, "%s: no %s", where, padsAttr)
		}
		pads = ps
		if value, err = a.float("value", 0); err != nil {
			return err
		}
	} else {
		ins := n.GetInput()
		if len(ins) < 2 || ins[1] == "" {
			return errors.Wrapf(ErrFormat, "%s: no pads", where)
		}
		pv, ok := r.consts[ins[1]]
		if !ok || pv.ints == nil {
			return errors.Wrapf(ErrUnsupported, "%s: pads %q must be a constant integer tensor", where, ins[1])
		}
		for _, d := range pv.ints {
			if d.batch {
				return errors.Wrapf(ErrShape, "%s: pads depend on the batch size", where)
			}
			pads = append(pads, d.n)
		}
		if len(ins) > 2 && ins[2] != "" {
			cv, ok := r.consts[ins[2]]
			if !ok || cv.size() != 1 {
				return errors.Wrapf(ErrUnsupported, "%s: constant_value %q must be a constant scalar", where, ins[2])
			}
			if cv.floats != nil {
				value = cv.floats[0]
			} else if cv.ints[0].n != 0 || cv.ints[0].batch {
				value = 1
			}
		}
		if len(ins) > 3 && ins[3] != "" {
			av, ok := r.consts[ins[3]]
			if !ok || av.ints == nil || len(av.ints) > rank || 2*len(av.ints) != len(pads) {
				return errors.Wrapf(ErrUnsupported, "%s: axes %q must be a constant list of at most %d axes, half as long as pads", where, ins[3], rank)
			}
			full := make([]int64, 2*rank)
			seen := map[int64]bool{}
			for i, d := range av.ints {
				ax := d.n
				if ax < 0 {
					ax += int64(rank)
				}
				if d.batch || ax < 0 || ax >= int64(rank) || seen[ax] {
					return errors.Wrapf(ErrFormat, "%s: axes %v out of range or repeated for rank %d", where, av.ints, rank)
				}
				seen[ax] = true
				full[ax], full[int64(rank)+ax] = pads[i], pads[len(av.ints)+i]
			}
			pads = full
		}
	}
	if value != 0 {
		return errors.Wrapf(ErrUnsupported, "%s: padding with %g is not supported (only zeros)", where, value)
	}
	if len(pads) != 2*rank {
		return errors.Wrapf(ErrFormat, "%s: %d pads for rank %d", where, len(pads), rank)
	}
	if rank != 4 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return errors.Wrapf(ErrUnsupported, "%s: pads %v are not supported (only padding of the height and width of a [batch, channels, height, width] input)", where, pads)
	}
	var side [4]int // top, left, bottom, right
	var prior padded
	if p, ok := r.pads[x]; ok {
		x, prior = p.src, p
	}
	for i, v := range []int64{pads[2], pads[3], pads[6], pads[7]} {
		if v < 0 || v > models.MaxSize || v+int64(prior.p[i]) > models.MaxSize {
			return errors.Wrapf(ErrUnsupported, "%s: pads %v are not supported (only non-negative padding)", where, pads)
		}
		side[i] = int(v) + prior.p[i]
	}
	r.pads[out] = padded{src: x, p: side, where: where}
	return nil
}

// geom is the window of a Conv or pooling: a square kernel, the stride,
// the dilation and the padding [top, left, bottom, right].
type geom struct {
	k, s, d int
	pads    [4]int
}

// layer sets the window of l: Padding when the sides agree, Pads when
// they differ.
func (g geom) layer(l models.Layer) models.Layer {
	l.Kernel = g.k
	if p := g.pads; p[0] == p[1] && p[0] == p[2] && p[0] == p[3] {
		l.Padding = p[0]
	} else {
		l.Pads = p[:]
	}
	if g.d != 1 {
		l.Dilation = g.d
	}
	return l
}

// window reads the kernel_shape, strides, pads, dilations and auto_pad of a
// Conv or pooling with kernel size kernel on an input of height and width
// hw, and returns the window it maps onto: auto_pad SAME_UPPER and
// SAME_LOWER are resolved to the padding that gives ⌈size/stride⌉ outputs
// (the odd cell after, or before), VALID to none. Dilations other than 1
// are refused unless dilated.
func window(a attrs, kernel, hw []int, dilated bool) (geom, error) {
	if kernel[0] != kernel[1] {
		return geom{}, a.unsupported("kernel_shape", kernel, "only square kernels")
	}
	g := geom{k: kernel[0], s: 1, d: 1}
	if ks, ok, err := a.ints("kernel_shape"); err != nil {
		return geom{}, err
	} else if ok && (len(ks) != 2 || ks[0] != int64(g.k) || ks[1] != int64(g.k)) {
		return geom{}, errors.Wrapf(ErrFormat, "%s: kernel_shape %v disagrees with the weight's %v", a.where, ks, kernel)
	}
	ap, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return geom{}, err
	}
	if ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "" {
		return geom{}, a.unsupported("auto_pad", ap, "only NOTSET, VALID, SAME_UPPER and SAME_LOWER")
	}
	if d, ok, err := a.ints("dilations"); err != nil {
		return geom{}, err
	} else if ok {
		if len(d) != 2 || d[0] != d[1] || d[0] <= 0 || d[0] > models.MaxSize || (d[0] != 1 && !dilated) {
			why := "only 1"
			if dilated {
				why = "only equal positive dilations"
			}
			return geom{}, a.unsupported("dilations", d, why)
		}
		g.d = int(d[0])
	}
	if st, ok, err := a.ints("strides"); err != nil {
		return geom{}, err
	} else if ok {
		if len(st) != 2 || st[0] != st[1] || st[0] <= 0 || st[0] > models.MaxSize {
			return geom{}, a.unsupported("strides", st, "only equal positive strides")
		}
		g.s = int(st[0])
	}
	pd, explicit, err := a.ints("pads")
	if err != nil {
		return geom{}, err
	}
	if explicit {
		if len(pd) != 4 {
			return geom{}, errors.Wrapf(ErrFormat, "%s: pads %v do not list 4 sides", a.where, pd)
		}
		for i, v := range pd {
			if v < 0 || v > models.MaxSize {
				return geom{}, a.unsupported("pads", pd, "only non-negative padding")
			}
			g.pads[i] = int(v)
		}
		if ap != "NOTSET" && ap != "" && g.pads != [4]int{} {
			return geom{}, errors.Wrapf(ErrFormat, "%s: auto_pad %s with pads %v", a.where, ap, pd)
		}
	}
	if ap == "SAME_UPPER" || ap == "SAME_LOWER" {
		span := int64(g.k-1)*int64(g.d) + 1
		for i, n := range hw {
			out := (int64(n) + int64(g.s) - 1) / int64(g.s)
			total := max(0, (out-1)*int64(g.s)+span-int64(n))
			if total > models.MaxSize {
				return geom{}, a.unsupported("auto_pad", ap, fmt.Sprintf("padding of %d", total))
			}
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			g.pads[i], g.pads[i+2] = int(lo), int(total-lo)
		}
	}
	return g, nil
}

func (r *reader) flatten(where string, n *onnx.NodeProto) error {
	a, err := r.nodeAttrs(where, n, "axis")
	if err != nil {
		return err
	}
	x, in, err := r.actInput(where, n, 1, 1)
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
	return r.addLayer(where, n, models.Layer{Kind: models.Flatten}, []string{x}, nil)
}

// reshape maps a Reshape to [batch, features], with the target
// shape a constant or computed from Shape, onto a flatten.
func (r *reader) reshape(where string, n *onnx.NodeProto) error {
	known := append(r.since(14, "allowzero"), r.before(5, "shape")...)
	a, err := r.nodeAttrs(where, n, append(known, r.legacy()...)...)
	if err != nil {
		return err
	}
	var t *value
	var x string
	var in []int
	if r.opset < 5 {
		// Before opset 5 the target shape is an attribute.
		if x, in, err = r.actInput(where, n, 1, 1); err != nil {
			return err
		}
		s, ok, err := a.ints("shape")
		if err != nil {
			return err
		}
		if !ok {
			return errors.Wrapf(ErrFormat, "%s: no shape attribute (the target shape before opset 5)", where)
		}
		t = &value{dims: []int{len(s)}, ints: []dim{}}
		for _, d := range s {
			t.ints = append(t.ints, dim{n: d})
		}
	} else {
		if x, in, err = r.actInput(where, n, 2, 2); err != nil {
			return err
		}
		var ok bool
		if t, ok = r.consts[n.GetInput()[1]]; !ok {
			return errors.Wrapf(ErrShape, "%s: the target shape %q is computed from values, not shapes", where, n.GetInput()[1])
		}
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
	return r.addLayer(where, n, models.Layer{Kind: models.Flatten}, []string{x}, nil)
}
