package interop

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

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
