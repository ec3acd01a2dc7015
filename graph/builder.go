package graph

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Learnable is a tensor a graph trains: the node bound to it, the value it
// shares with the parameter store, and whether weight decay applies.
type Learnable struct {
	Name  string
	Node  *gorgonia.Node
	Value *tensor.Dense
	Decay bool

	grad *gorgonia.Node
}

// Builder is handed to a WeightSource while a graph is built. It gives
// access to the graph and records the learnables.
type Builder struct {
	g     *gorgonia.ExprGraph
	dt    tensor.Dtype
	learn []*Learnable
	names map[string]*Learnable

	gorgoniaOps bool // see Options.GorgoniaOps
}

// Graph returns the expression graph under construction.
func (b *Builder) Graph() *gorgonia.ExprGraph { return b.g }

// Dtype returns the graph's element type.
func (b *Builder) Dtype() tensor.Dtype { return b.dt }

// Learnable adds a node bound to value (which keeps living outside the
// graph) and registers it for training; decay marks it for weight decay.
func (b *Builder) Learnable(name string, value *tensor.Dense, decay bool) (*gorgonia.Node, error) {
	if b.names[name] != nil {
		return nil, errors.Errorf("learnable %q registered twice", name)
	}
	if value.Dtype() != b.dt {
		return nil, errors.Errorf("learnable %q is %v, the graph is %v", name, value.Dtype(), b.dt)
	}
	n := gorgonia.NodeFromAny(b.g, value, gorgonia.WithName(name))
	l := &Learnable{Name: name, Node: n, Value: value, Decay: decay}
	b.names[name] = l
	b.learn = append(b.learn, l)
	return n, nil
}

// Learned returns the node of the learnable registered under name in this
// graph, or nil: a source that shares one learnable between several
// parameters registers it on first use and finds it here afterwards.
func (b *Builder) Learned(name string) *gorgonia.Node {
	if l := b.names[name]; l != nil {
		return l.Node
	}
	return nil
}

// Product returns u⊙v, the weight of a factorised layer, for a
// WeightSource: the fused Product op, or Gorgonia's HadamardProd when the
// session was built with Options.GorgoniaOps.
func (b *Builder) Product(u, v *gorgonia.Node) (*gorgonia.Node, error) {
	if b.gorgoniaOps {
		return gorgonia.HadamardProd(u, v)
	}
	return Product(u, v)
}

// guard turns a Gorgonia panic during graph construction into an error.
func guard(err *error, what string) {
	if r := recover(); r != nil {
		*err = errors.Errorf("%s: gorgonia: %v", what, r)
	}
}

func newBuilder(dt tensor.Dtype) *Builder {
	return &Builder{g: gorgonia.NewGraph(), dt: dt, names: map[string]*Learnable{}}
}

func (b *Builder) input(name string, shape ...int) *gorgonia.Node {
	t := tensor.New(tensor.Of(b.dt), tensor.WithShape(shape...))
	return gorgonia.NodeFromAny(b.g, t, gorgonia.WithName(name))
}

func shapeString(n *gorgonia.Node) string { return fmt.Sprint([]int(n.Shape())) }
