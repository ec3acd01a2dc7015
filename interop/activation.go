package interop

import (
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// activationKinds are the layer kinds of the ONNX activations that take
// one input and no attributes.
var activationKinds = map[string]string{"Relu": models.ReLU, "Sigmoid": models.Sigmoid, "Tanh": models.Tanh}

// activation maps Relu, Sigmoid and Tanh onto the layer of that kind.
func (r *reader) activation(where string, n *onnx.NodeProto) error {
	if _, err := r.nodeAttrs(where, n, r.legacy()...); err != nil {
		return err
	}
	x, _, err := r.actInput(where, n, 1, 1)
	if err != nil {
		return err
	}
	return r.addLayer(where, n, models.Layer{Kind: activationKinds[n.GetOpType()]}, []string{x}, nil)
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
