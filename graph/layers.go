package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// layerFwd applies one layer of the spec to x (batch first) and returns its
// output node. Parameters are fetched from ps; prunable weights through src.
func (b *Builder) layer(l models.Layer, x *gorgonia.Node, ps *models.Params, src WeightSource, dropout func(x *gorgonia.Node, rate float64) (*gorgonia.Node, error)) (out *gorgonia.Node, err error) {
	defer guard(&err, "layer "+l.Name)
	wrap := func(err error) error {
		return errors.Wrapf(err, "layer %q (%s): input %s", l.Name, l.Kind, shapeString(x))
	}
	weight := func() (*gorgonia.Node, *gorgonia.Node, error) {
		wp, bp := ps.Get(models.WeightName(l.Name)), ps.Get(models.BiasName(l.Name))
		if wp == nil || bp == nil {
			return nil, nil, errors.Errorf("parameters %s and %s are required", models.WeightName(l.Name), models.BiasName(l.Name))
		}
		var w *gorgonia.Node
		var err error
		if wp.Prunable {
			w, err = src.Weight(b, wp)
		} else {
			w, err = b.Learnable(wp.Name, wp.Value, false)
		}
		if err != nil {
			return nil, nil, err
		}
		if !w.Shape().Eq(wp.Value.Shape()) {
			return nil, nil, errors.Errorf("weight source returned shape %v for %s %v", w.Shape(), wp.Name, wp.Value.Shape())
		}
		bias, err := b.Learnable(bp.Name, bp.Value, false)
		return w, bias, err
	}
	switch l.Kind {
	case models.Dense:
		w, bias, err := weight()
		if err != nil {
			return nil, wrap(err)
		}
		if b.gorgoniaOps {
			xw, err := gorgonia.Mul(x, w)
			if err != nil {
				return nil, wrap(err)
			}
			out, err = gorgonia.BroadcastAdd(xw, bias, nil, []byte{0})
			return out, wrapIf(err, wrap)
		}
		out, err = Dense(x, w, bias)
		return out, wrapIf(err, wrap)
	case models.Conv2d:
		w, bias, err := weight()
		if err != nil {
			return nil, wrap(err)
		}
		s, p := l.StrideOrDefault(), l.Padding
		if b.gorgoniaOps {
			y, err := gorgonia.Conv2d(x, w, tensor.Shape{l.Kernel, l.Kernel}, []int{p, p}, []int{s, s}, []int{1, 1})
			if err != nil {
				return nil, wrap(err)
			}
			out, err = gorgonia.BroadcastAdd(y, bias, nil, []byte{0, 2, 3})
			return out, wrapIf(err, wrap)
		}
		out, err = Conv2D(x, w, bias, l.Kernel, s, p)
		return out, wrapIf(err, wrap)
	case models.MaxPool2d:
		s := l.StrideOrDefault()
		out, err = MaxPool2D(x, l.Kernel, s)
		return out, wrapIf(err, wrap)
	case models.ReLU:
		if b.gorgoniaOps {
			out, err = gorgonia.Rectify(x)
		} else {
			out, err = ReLU(x)
		}
		return out, wrapIf(err, wrap)
	case models.Flatten:
		sh := x.Shape()
		out, err = gorgonia.Reshape(x, tensor.Shape{sh[0], sh.TotalSize() / sh[0]})
		return out, wrapIf(err, wrap)
	case models.Dropout:
		if dropout == nil || l.Rate == 0 {
			return x, nil
		}
		out, err = dropout(x, l.Rate)
		return out, wrapIf(err, wrap)
	}
	return nil, wrap(errors.Errorf("unknown layer type %q", l.Kind))
}

func wrapIf(err error, wrap func(error) error) error {
	if err != nil {
		return wrap(err)
	}
	return nil
}
