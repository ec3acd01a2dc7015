package graph

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// layerBuilder builds one layer kind: it applies the layer to its input
// nodes (batch first) and returns the output node. Errors need not name
// the layer; Builder.layer adds that.
type layerBuilder func(c *layerCtx) (*gorgonia.Node, error)

// layerBuilders is the one place a layer kind is wired into graphs: adding
// a kind to package models means adding its builder here (and its op, if
// it needs a new one). TestEveryKindHasABuilder checks that none is
// missing.
var layerBuilders = map[string]layerBuilder{
	models.Dense:           denseLayer,
	models.Conv2d:          convLayer,
	models.MaxPool2d:       maxPoolLayer,
	models.AvgPool2d:       avgPoolLayer,
	models.GlobalAvgPool2d: globalAvgPoolLayer,
	models.BatchNorm2d:     batchNormLayer,
	models.Add:             addLayer,
	models.ReLU:            reluLayer,
	models.Flatten:         flattenLayer,
	models.Dropout:         dropoutLayer,
	models.LeakyReLU: func(c *layerCtx) (*gorgonia.Node, error) {
		return LeakyReLU(c.x(), c.layer.AlphaOrDefault())
	},
	models.Sigmoid: func(c *layerCtx) (*gorgonia.Node, error) { return Sigmoid(c.x()) },
	models.Tanh:    func(c *layerCtx) (*gorgonia.Node, error) { return Tanh(c.x()) },
	models.ReLU6:   func(c *layerCtx) (*gorgonia.Node, error) { return ReLU6(c.x()) },
	models.Clip: func(c *layerCtx) (*gorgonia.Node, error) {
		lo, hi := c.layer.ClipBounds()
		return Clip(c.x(), lo, hi)
	},
	models.Softmax: softmaxLayer,
}

// layerCtx is what a layer builder works with: the layer, its inputs, the
// parameter store, the weight source and the session's settings.
type layerCtx struct {
	b     *Builder
	index int
	layer models.Layer
	in    []*gorgonia.Node
	ps    *models.Params
	src   WeightSource
	train bool
	// decayNorm is Options.DecayNorm.
	decayNorm bool
	// dropout applies a dropout mask in a training graph; nil otherwise.
	dropout func(x *gorgonia.Node, rate float64) (*gorgonia.Node, error)
}

// x is the layer's (first) input.
func (c *layerCtx) x() *gorgonia.Node { return c.in[0] }

// param returns the layer's parameter of the given role, or an error.
func (c *layerCtx) param(role string) (*models.Param, error) {
	name := models.ParamName(c.layer.Name, role)
	p := c.ps.Get(name)
	if p == nil {
		return nil, errors.Errorf("parameter %s is required", name)
	}
	return p, nil
}

// weight returns the node of the layer's weight: through the weight source
// when it is prunable.
func (c *layerCtx) weight() (*gorgonia.Node, error) {
	wp, err := c.param(models.RoleWeight)
	if err != nil {
		return nil, err
	}
	var w *gorgonia.Node
	if wp.Prunable {
		w, err = c.src.Weight(c.b, wp)
	} else {
		w, err = c.b.Learnable(wp.Name, wp.Value, false)
	}
	if err != nil {
		return nil, err
	}
	if !w.Shape().Eq(wp.Value.Shape()) {
		return nil, errors.Errorf("weight source returned shape %v for %s %v", w.Shape(), wp.Name, wp.Value.Shape())
	}
	return w, nil
}

// bias returns the learnable bias of a dense or conv2d layer, or nil for a
// layer without one.
func (c *layerCtx) bias() (*gorgonia.Node, error) {
	if c.layer.NoBias {
		if p := c.ps.Get(models.BiasName(c.layer.Name)); p != nil {
			return nil, errors.Errorf("parameter %s given for a layer without bias", p.Name)
		}
		return nil, nil
	}
	bp, err := c.param(models.RoleBias)
	if err != nil {
		return nil, err
	}
	return c.learnable(bp, false)
}

// learnable returns the node of a parameter that is not a prunable weight
// (a bias, a batch-norm scale or shift): the source's when it is a
// ParamSource that supplies one, otherwise the parameter itself as a
// learnable, decayed when decay is set.
func (c *layerCtx) learnable(p *models.Param, decay bool) (*gorgonia.Node, error) {
	if ps, ok := c.src.(ParamSource); ok {
		n, ok, err := ps.Param(c.b, p)
		if err != nil {
			return nil, errors.Wrapf(err, "parameter source, %s", p.Name)
		}
		if ok {
			if n == nil || !n.Shape().Eq(p.Value.Shape()) || n.Dtype() != p.Value.Dtype() {
				return nil, errors.Errorf("parameter source returned %v for %s %v %v", describe(n), p.Name, p.Value.Dtype(), p.Value.Shape())
			}
			return n, nil
		}
	}
	return c.b.Learnable(p.Name, p.Value, decay)
}

func describe(n *gorgonia.Node) string {
	if n == nil {
		return "no node"
	}
	return fmt.Sprintf("%v %v", n.Dtype(), n.Shape())
}

// layer builds one layer; errors name it.
func (b *Builder) layer(c *layerCtx) (out *gorgonia.Node, err error) {
	l := c.layer
	defer guard(&err, fmt.Sprintf("layer %d %q (%s)", c.index, l.Name, l.Kind))
	shapes := make([]string, len(c.in))
	for i, n := range c.in {
		shapes[i] = shapeString(n)
	}
	build := layerBuilders[l.Kind]
	if build == nil {
		err = errors.Errorf("unknown layer type %q", l.Kind)
	} else {
		out, err = build(c)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "layer %d %q (%s): input %s", c.index, l.Name, l.Kind, strings.Join(shapes, " and "))
	}
	return out, nil
}

func denseLayer(c *layerCtx) (*gorgonia.Node, error) {
	w, err := c.weight()
	if err != nil {
		return nil, err
	}
	bias, err := c.bias()
	if err != nil {
		return nil, err
	}
	if !c.b.gorgoniaOps {
		return Dense(c.x(), w, bias)
	}
	xw, err := gorgonia.Mul(c.x(), w)
	if err != nil || bias == nil {
		return xw, err
	}
	return gorgonia.BroadcastAdd(xw, bias, nil, []byte{0})
}

func convLayer(c *layerCtx) (*gorgonia.Node, error) {
	l := c.layer
	w, err := c.weight()
	if err != nil {
		return nil, err
	}
	bias, err := c.bias()
	if err != nil {
		return nil, err
	}
	s, p, g := l.StrideOrDefault(), l.PadSides(), l.GroupsOrDefault()
	if !c.b.gorgoniaOps {
		return GroupedConv2DPads(c.x(), w, bias, l.Kernel, s, p, g)
	}
	if g != 1 {
		return nil, errors.Errorf("Gorgonia has no grouped convolution (groups %d): build without Options.GorgoniaOps", g)
	}
	if p[0] != p[1] || p[0] != p[2] || p[0] != p[3] {
		return nil, errors.Errorf("Gorgonia's convolution pads every side alike (padding %v): build without Options.GorgoniaOps", p)
	}
	y, err := gorgonia.Conv2d(c.x(), w, tensor.Shape{l.Kernel, l.Kernel}, []int{p[0], p[0]}, []int{s, s}, []int{1, 1})
	if err != nil || bias == nil {
		return y, err
	}
	return gorgonia.BroadcastAdd(y, bias, nil, []byte{0, 2, 3})
}

// maxPoolLayer is always this package's op (see MaxPool2D).
func maxPoolLayer(c *layerCtx) (*gorgonia.Node, error) {
	l := c.layer
	return MaxPool2DWindow(c.x(), Window(l))
}

// avgPoolLayer, globalAvgPoolLayer and batchNormLayer have no Gorgonia
// counterpart (with PyTorch's semantics) and use this package's ops under
// Options.GorgoniaOps too.
func avgPoolLayer(c *layerCtx) (*gorgonia.Node, error) {
	l := c.layer
	return AvgPool2DWindow(c.x(), Window(l))
}

func globalAvgPoolLayer(c *layerCtx) (*gorgonia.Node, error) { return GlobalAvgPool2D(c.x()) }

// batchNormLayer binds scale and shift as learnables (decayed when
// Options.DecayNorm is set; a ParamSource may supply them instead) and the running mean and variance as plain
// nodes, which a training graph updates in place on every run.
func batchNormLayer(c *layerCtx) (*gorgonia.Node, error) {
	var nodes [4]*gorgonia.Node
	for i, role := range []string{models.RoleScale, models.RoleShift, models.RoleMean, models.RoleVar} {
		p, err := c.param(role)
		if err != nil {
			return nil, err
		}
		if i < 2 {
			nodes[i], err = c.learnable(p, c.decayNorm)
			if err != nil {
				return nil, err
			}
			continue
		}
		if p.Value.Dtype() != c.b.dt {
			return nil, errors.Errorf("buffer %q is %v, the graph is %v", p.Name, p.Value.Dtype(), c.b.dt)
		}
		nodes[i] = gorgonia.NodeFromAny(c.b.g, p.Value, gorgonia.WithName(p.Name))
	}
	l := c.layer
	return BatchNorm2D(c.x(), nodes[0], nodes[1], nodes[2], nodes[3], l.EpsOrDefault(), l.MomentumOrDefault(), c.train)
}

func addLayer(c *layerCtx) (*gorgonia.Node, error) {
	if c.b.gorgoniaOps {
		return gorgonia.Add(c.in[0], c.in[1])
	}
	return Add(c.in[0], c.in[1])
}

func reluLayer(c *layerCtx) (*gorgonia.Node, error) {
	if c.b.gorgoniaOps {
		return gorgonia.Rectify(c.x())
	}
	return ReLU(c.x())
}

func flattenLayer(c *layerCtx) (*gorgonia.Node, error) {
	sh := c.x().Shape()
	return gorgonia.Reshape(c.x(), tensor.Shape{sh[0], sh.TotalSize() / sh[0]})
}

func dropoutLayer(c *layerCtx) (*gorgonia.Node, error) {
	if c.dropout == nil || c.layer.Rate == 0 {
		return c.x(), nil
	}
	return c.dropout(c.x(), c.layer.Rate)
}

// softmaxLayer passes the logits on: a softmax is only ever a spec's last
// layer, and the loss is the softmax cross-entropy of the logits before
// it, which Session.Logits returns (see models.Softmax). The probabilities
// are what infer computes.
func softmaxLayer(c *layerCtx) (*gorgonia.Node, error) { return c.x(), nil }
