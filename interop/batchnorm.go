package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

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
