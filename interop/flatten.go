package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

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
