package graph

import (
	"fmt"
	"hash"
	"math/rand"
	"testing"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// fillOp is an op filling a vector with its value (its input only places it in a graph). Its WriteHash, which
// the node's hash is made of, leaves the value out, while its Hashcode has
// it: two fillOps of different values make nodes whose hashes collide
// though Gorgonia's graph keeps both.
type fillOp struct{ v float64 }

func (fillOp) Arity() int { return 1 }
func (fillOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 1, Of: tensor.Float64}
	return hm.NewFnType(t, t)
}
func (fillOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return tensor.Shape{3}, nil }
func (fillOp) ReturnsPtr() bool                                      { return false }
func (fillOp) CallsExtern() bool                                     { return false }
func (fillOp) OverwritesInput() int                                  { return -1 }
func (fillOp) WriteHash(h hash.Hash)                                 { fmt.Fprint(h, "fill") }
func (op fillOp) Hashcode() uint32                                   { return uint32(op.v) }
func (op fillOp) String() string                                     { return fmt.Sprintf("fill %v", op.v) }
func (op fillOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	return tensor.New(tensor.WithBacking([]float64{op.v, op.v, op.v})), nil
}

// TestHashCollision: Gorgonia's compiled program computes one value for two
// different nodes whose hashes collide (the hazard), and HashCollision
// finds such a pair; the graphs New builds have none.
func TestHashCollision(t *testing.T) {
	g := gorgonia.NewGraph()
	in := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("in"), gorgonia.WithValue(tensor.New(tensor.WithBacking([]float64{0, 0, 0}))))
	a, err := gorgonia.ApplyOp(fillOp{1}, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gorgonia.ApplyOp(fillOp{2}, in)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.Hashcode() != b.Hashcode() {
		t.Fatalf("the test's nodes do not collide (same node %v, hashes %d, %d)", a == b, a.Hashcode(), b.Hashcode())
	}
	sum, err := gorgonia.Add(a, b)
	if err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := sum.Value().Data().([]float64)[0]; got == 3 {
		t.Logf("this Gorgonia compiles colliding nodes apart (1 + 2 = %v)", got)
	} else if got != 2 && got != 4 {
		t.Fatalf("1 + 2 computed as %v", got)
	}
	x, y := HashCollision(g)
	if x == nil || !(x == a && y == b || x == b && y == a) {
		t.Fatalf("HashCollision gives %v, %v; want the two fill nodes", x, y)
	}
	for name, spec := range tinySpecs() {
		m, err := models.New(spec, tensor.Float64, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(m, Options{Batch: 4, Train: true})
		if err != nil {
			t.Fatal(err)
		}
		if x, y := HashCollision(s.subgraph()); x != nil {
			t.Errorf("%s: New's graph has colliding nodes %v and %v", name, x, y)
		}
		s.Close()
	}
}

// TestDropoutMasksApart: two dropout layers of the same shape draw masks
// of their own (inputs of one name and shape would be one node, one mask).
func TestDropoutMasksApart(t *testing.T) {
	ce := models.LossSoftmaxCrossEntropy
	spec := models.Spec{Name: "two-dropouts", Input: []int{6}, Loss: ce, Layers: []models.Layer{
		{Kind: models.Dense, Name: "fc1", Units: 40}, {Kind: models.Dropout, Rate: 0.5},
		{Kind: models.Dense, Name: "fc2", Units: 40}, {Kind: models.Dropout, Rate: 0.5},
		{Kind: models.Dense, Name: "fc3", Units: 3}}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Options{Batch: 5, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.masks) != 2 || s.masks[0].t == s.masks[1].t {
		t.Fatalf("%d masks, the same tensor: %v", len(s.masks), len(s.masks) == 2)
	}
	x := make([]float32, 5*6)
	if _, err := s.Run(x, []int{0, 1, 2, 0, 1}, rand.New(rand.NewSource(2))); err != nil {
		t.Fatal(err)
	}
	a, b := s.masks[0].t.Data().([]float32), s.masks[1].t.Data().([]float32)
	same := true
	for i := range a {
		same = same && a[i] == b[i]
	}
	if same {
		t.Error("the two dropout layers drew the same mask")
	}
}
