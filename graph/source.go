package graph

import (
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/models"
)

// WeightSource supplies the node that stands for a prunable weight in a
// graph. It is asked once per prunable parameter per graph built; it must
// register the tensors it wants trained with Builder.Learnable.
type WeightSource interface {
	Weight(b *Builder, p *models.Param) (*gorgonia.Node, error)
}

// ParamSource is an optional extension of a WeightSource for the
// parameters that are not prunable weights: the biases of dense and conv2d
// layers and the scales and shifts of batch norms. A graph asks it once per
// such parameter per graph built; when it answers ok = false the parameter
// is registered as a learnable as it is without a ParamSource (decayed for
// batch norms under Options.DecayNorm). The node it returns must have the
// parameter's shape and dtype; like Weight, it registers what it trains
// with Builder.Learnable. Batch-norm running statistics are buffers and
// never pass through it.
type ParamSource interface {
	Param(b *Builder, p *models.Param) (node *gorgonia.Node, ok bool, err error)
}

// Plain is the WeightSource of ordinary training: the weight itself is the
// learnable, decayed when Decay is set.
type Plain struct {
	Decay bool
}

// Weight implements WeightSource.
func (s Plain) Weight(b *Builder, p *models.Param) (*gorgonia.Node, error) {
	return b.Learnable(p.Name, p.Value, s.Decay)
}
