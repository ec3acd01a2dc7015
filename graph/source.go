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

// Plain is the WeightSource of ordinary training: the weight itself is the
// learnable, decayed when Decay is set.
type Plain struct {
	Decay bool
}

// Weight implements WeightSource.
func (s Plain) Weight(b *Builder, p *models.Param) (*gorgonia.Node, error) {
	return b.Learnable(p.Name, p.Value, s.Decay)
}
