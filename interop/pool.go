package interop

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

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
