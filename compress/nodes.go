package compress

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// NodePair is a weight of a Gorgonia graph of one's own (built with
// gorgonia.NewMatrix, Mul, Rectify and the like, trained with Gorgonia's
// solvers) rewritten by Rewrite as w = u⊙v.
//
// The pieces of the pass on such a graph: Rewrite every weight to penalise
// and use W where the graph used the weight; add Penalty to the loss;
// differentiate and solve for the Learnables (with the graph's other
// parameters); Threshold, during training or at the end; Collapse into
// dense parameters with exact zeros, and write them with a spec
// (models.WriteFile) or as plain tensors (models.WriteTensorsFile).
//
// Scale: Penalty is λ‖w‖₁ against a loss that is the mean over the batch
// of the per-sample loss (graph.SoftmaxCrossEntropy is one). Gorgonia's
// examples take the mean of a batch × classes matrix, which divides the loss
// by the number of classes as well and so makes the same λ that many times
// stronger. Do not add weight decay through a solver's WithL2Reg, and leave
// out WithBatchSize when the loss is already a mean: VanillaSolver divides
// the gradient by it. Gorgonia's MomentumSolver and the adaptive solvers keep
// per-entry state that Threshold cannot clear, so with them threshold only
// once, at the end; with VanillaSolver thresholding every epoch keeps the dead
// weights dead.
type NodePair struct {
	Name string         // the weight's name; the factors are Name+".u" and Name+".v"
	W    *gorgonia.Node // u⊙v: use it where the graph used the weight
	U, V *gorgonia.Node // the factors, bound to values of the weight's shape and dtype
}

// Rewrite adds to g the factors u = sign(w)·√|w|, v = √|w| of the weight
// value w (float32 or float64, at least one dimension; balanced, so the
// graph computes the same function as with w) and their product, and
// returns them. w itself is not kept.
func Rewrite(g *gorgonia.ExprGraph, name string, w *tensor.Dense) (p *NodePair, err error) {
	switch {
	case g == nil:
		return nil, errors.Errorf("rewrite %q: nil graph", name)
	case w == nil:
		return nil, errors.Errorf("rewrite %q: nil weight", name)
	case w.Dtype() != tensor.Float32 && w.Dtype() != tensor.Float64:
		return nil, errors.Errorf("rewrite %q: weight is %v (want float32 or float64)", name, w.Dtype())
	case w.Dims() == 0 || w.Size() == 0:
		return nil, errors.Errorf("rewrite %q: weight of shape %v (want at least one dimension)", name, w.Shape())
	}
	defer recoverGorgonia(&err, "rewrite "+name)
	vals := models.Float64s(w.Data())
	if len(vals) != w.Size() {
		return nil, errors.Errorf("rewrite %q: weight of shape %v is a view of %d values", name, w.Shape(), len(vals))
	}
	u, v := make([]float64, len(vals)), make([]float64, len(vals))
	balanced(vals, u, v)
	p = &NodePair{Name: name}
	for _, f := range []struct {
		node   **gorgonia.Node
		suffix string
		vals   []float64
	}{{&p.U, ".u", u}, {&p.V, ".v", v}} {
		t := models.NewParam(name+f.suffix, false, w.Dtype(), w.Shape().Clone())
		if err := t.SetFloat64s(f.vals); err != nil {
			return nil, errors.Wrapf(err, "rewrite %q", name)
		}
		*f.node = gorgonia.NodeFromAny(g, t.Value, gorgonia.WithName(t.Name))
	}
	if p.W, err = graph.Product(p.U, p.V); err != nil {
		return nil, errors.Wrapf(err, "rewrite %q", name)
	}
	return p, nil
}

// Learnables returns the factors U and V of every pair, in order: the nodes
// to pass to gorgonia.Grad, gorgonia.BindDualValues and the solver.
func Learnables(pairs ...*NodePair) gorgonia.Nodes {
	out := make(gorgonia.Nodes, 0, 2*len(pairs))
	for _, p := range pairs {
		out = append(out, p.U, p.V)
	}
	return out
}

// Penalty returns the scalar node (λ/2)·Σ(‖u‖² + ‖v‖²) over the pairs, to
// add to the mean loss: its gradient is λ·u and λ·v, the weight decay that
// is L1 on w = u⊙v (see NodePair for the scale).
func Penalty(lambda float64, pairs ...*NodePair) (n *gorgonia.Node, err error) {
	if len(pairs) == 0 {
		return nil, errors.New("penalty: no factor pairs")
	}
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return nil, errors.Errorf("penalty: lambda must be ≥ 0 and finite, got %v", lambda)
	}
	defer recoverGorgonia(&err, "penalty")
	var sum *gorgonia.Node
	for _, p := range pairs {
		for _, f := range []*gorgonia.Node{p.U, p.V} {
			sq, err := gorgonia.Square(f)
			if err != nil {
				return nil, errors.Wrapf(err, "penalty of %s", f.Name())
			}
			s, err := gorgonia.Sum(sq)
			if err != nil {
				return nil, errors.Wrapf(err, "penalty of %s", f.Name())
			}
			if sum == nil {
				sum = s
			} else if sum, err = gorgonia.Add(sum, s); err != nil {
				return nil, errors.Wrapf(err, "penalty of %s", f.Name())
			}
		}
	}
	var half *gorgonia.Node
	switch dt := pairs[0].U.Dtype(); dt {
	case tensor.Float32:
		half = gorgonia.NewConstant(float32(lambda / 2))
	case tensor.Float64:
		half = gorgonia.NewConstant(lambda / 2)
	default:
		return nil, errors.Errorf("penalty: factors are %v (want float32 or float64)", dt)
	}
	return gorgonia.Mul(sum, half)
}

// factors returns the values bound to U and V.
func (p *NodePair) factors() (u, v *tensor.Dense, err error) {
	u, ok1 := p.U.Value().(*tensor.Dense)
	v, ok2 := p.V.Value().(*tensor.Dense)
	if !ok1 || !ok2 || u.Dtype() != v.Dtype() || !u.Shape().Eq(v.Shape()) {
		return nil, nil, errors.Errorf("factors of %q are not two dense tensors of one shape and dtype", p.Name)
	}
	return u, v, nil
}

// Threshold sets both factors to exactly zero wherever |u⊙v| < tau, in the
// values the graph reads, and returns how many entries it zeroed that were
// not zero already.
func (p *NodePair) Threshold(tau float64) (int, error) {
	u, v, err := p.factors()
	if err != nil {
		return 0, err
	}
	var n int
	switch ud := u.Data().(type) {
	case []float32:
		n, _ = threshold(ud, v.Data().([]float32), float32(tau), nil)
	case []float64:
		n, _ = threshold(ud, v.Data().([]float64), tau, nil)
	default:
		return 0, errors.Errorf("factors of %q hold %T", p.Name, ud)
	}
	return n, nil
}

// Weight returns u⊙v as a new tensor in the factors' dtype: the dense
// weight with the exact zeros of the last Threshold.
func (p *NodePair) Weight() (*tensor.Dense, error) {
	u, v, err := p.factors()
	if err != nil {
		return nil, err
	}
	w := tensor.New(tensor.Of(u.Dtype()), tensor.WithShape(u.Shape().Clone()...))
	switch ud := u.Data().(type) {
	case []float32:
		hadamard(w.Data().([]float32), ud, v.Data().([]float32))
	case []float64:
		hadamard(w.Data().([]float64), ud, v.Data().([]float64))
	default:
		return nil, errors.Errorf("factors of %q hold %T", p.Name, ud)
	}
	return w, nil
}

// Collapse returns the dense weight of every pair as a prunable parameter
// named after it, in order, ready for a models.Model of one's own spec or
// for models.WriteTensorsFile.
func Collapse(pairs ...*NodePair) (*models.Params, error) {
	ps := &models.Params{}
	for _, p := range pairs {
		w, err := p.Weight()
		if err != nil {
			return nil, err
		}
		if err := ps.Add(&models.Param{Name: p.Name, Prunable: true, Value: w}); err != nil {
			return nil, errors.Wrapf(err, "collapse %q", p.Name)
		}
	}
	return ps, nil
}

// recoverGorgonia turns a Gorgonia panic while building a graph into an
// error.
func recoverGorgonia(err *error, what string) {
	if r := recover(); r != nil {
		*err = errors.Errorf("%s: gorgonia: %v", what, r)
	}
}
