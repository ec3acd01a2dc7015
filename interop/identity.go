package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
)

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
