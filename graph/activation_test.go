package graph

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// activationCases are the fused activation ops with what they compute on
// one value (softmax is checked row by row).
var activationCases = []struct {
	name  string
	build func(*gorgonia.Node) (*gorgonia.Node, error)
	f     func(float64) float64
}{
	{"leakyrelu", func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, 0.2) },
		func(v float64) float64 { return math.Max(v, 0.2*v) }},
	{"leakyrelu-default", func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, models.DefaultLeakyAlpha) },
		func(v float64) float64 { return math.Max(v, 0.01*v) }},
	{"sigmoid", Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
	{"tanh", Tanh, math.Tanh},
	{"relu6", ReLU6, func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }},
	{"clip", func(x *gorgonia.Node) (*gorgonia.Node, error) { return Clip(x, -1.5, 2.5) },
		func(v float64) float64 { return math.Min(math.Max(v, -1.5), 2.5) }},
	{"clip-below", func(x *gorgonia.Node) (*gorgonia.Node, error) { return Clip(x, math.Inf(-1), 0.5) },
		func(v float64) float64 { return math.Min(v, 0.5) }},
	{"clip-none", func(x *gorgonia.Node) (*gorgonia.Node, error) { return Clip(x, math.Inf(-1), math.Inf(1)) },
		func(v float64) float64 { return v }},
	{"softmax", Softmax, nil},
}

// activationGraph is loss = Σ w⊙op(x) over a [4, 5] x in [-8, 8] (both
// sides of relu6's kinks), its gradient with respect to x, and a VM.
func activationGraph(t *testing.T, dt tensor.Dtype, build func(*gorgonia.Node) (*gorgonia.Node, error), xs, ws []float64) (x, y, loss, grad *gorgonia.Node, vm gorgonia.VM) {
	t.Helper()
	g := gorgonia.NewGraph()
	mk := func(name string, v []float64) *gorgonia.Node {
		var tt *tensor.Dense
		if dt == tensor.Float32 {
			f := make([]float32, len(v))
			for i, a := range v {
				f[i] = float32(a)
			}
			tt = tensor.New(tensor.WithShape(4, 5), tensor.WithBacking(f))
		} else {
			tt = tensor.New(tensor.WithShape(4, 5), tensor.WithBacking(append([]float64(nil), v...)))
		}
		return gorgonia.NodeFromAny(g, tt, gorgonia.WithName(name))
	}
	x, w := mk("x", xs), mk("w", ws)
	var err error
	if y, err = build(x); err != nil {
		t.Fatal(err)
	}
	prod, err := gorgonia.HadamardProd(y, w)
	if err != nil {
		t.Fatal(err)
	}
	if loss, err = gorgonia.Sum(prod); err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	return x, y, loss, grads[0], gorgonia.NewTapeMachine(g)
}

// TestActivationOps checks every fused activation op in float32 and
// float64: the forward values, the gradient against central differences
// of the loss (float64), and that two runs give the same values (the
// outputs are kept from run to run).
func TestActivationOps(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	xs, ws := make([]float64, 20), make([]float64, 20)
	for i := range xs {
		xs[i] = 16*rng.Float64() - 8
		ws[i] = rng.NormFloat64()
	}
	for _, c := range activationCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				x, y, loss, grad, vm := activationGraph(t, dt, c.build, xs, ws)
				defer vm.Close()
				run := func() float64 {
					if err := vm.RunAll(); err != nil {
						t.Fatal(err)
					}
					defer vm.Reset()
					l, err := scalar(loss.Value())
					if err != nil {
						t.Fatal(err)
					}
					return l
				}
				l0 := run()
				got := models.Float64s(y.Value().Data())
				want := make([]float64, 20)
				if c.f != nil {
					for i, v := range xs {
						want[i] = c.f(v)
					}
				} else {
					for r := 0; r < 4; r++ {
						SoftmaxRow(xs[r*5:(r+1)*5], want[r*5:(r+1)*5])
					}
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-6
				}
				for i := range got {
					if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
						t.Fatalf("y[%d] = %v, want %v (x %v)", i, got[i], want[i], xs[i])
					}
				}
				analytic := append([]float64(nil), models.Float64s(grad.Value().Data())...)
				if l1 := run(); l1 != l0 {
					t.Fatalf("second run: loss %v, first %v", l1, l0)
				}
				for i, v := range models.Float64s(grad.Value().Data()) {
					if v != analytic[i] {
						t.Fatalf("second run: gradient %d is %v, first %v", i, v, analytic[i])
					}
				}
				if dt != tensor.Float64 {
					return
				}
				vals := x.Value().Data().([]float64)
				const h = 1e-6
				for i := range vals {
					orig := vals[i]
					vals[i] = orig + h
					up := run()
					vals[i] = orig - h
					down := run()
					vals[i] = orig
					numeric := (up - down) / (2 * h)
					if d := math.Abs(numeric - analytic[i]); d > 1e-6*math.Max(1, math.Abs(numeric)) {
						t.Errorf("dx[%d] (x %v): analytic %.9g, numeric %.9g", i, orig, analytic[i], numeric)
					}
				}
			})
		}
	}
}

// TestTrailingSoftmaxIsSkipped: a spec ending in softmax has the loss and
// logits of the same spec without it.
func TestTrailingSoftmaxIsSkipped(t *testing.T) {
	spec := tinySpecs()["relu"]
	withSM := spec
	withSM.Layers = append(append([]models.Layer(nil), spec.Layers...), models.Layer{Kind: models.Softmax})
	rng := rand.New(rand.NewSource(2))
	m, err := models.New(spec, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, y := randomBatch(rng, spec, 3)
	var losses []float64
	var logits [][]float64
	for _, sp := range []models.Spec{spec, withSM} {
		s, err := New(&models.Model{Spec: sp, Params: m.Params}, Options{Batch: 3, Train: true})
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.Run(x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, l)
		logits = append(logits, s.Logits())
		s.Close()
	}
	if losses[0] != losses[1] {
		t.Errorf("loss %v with a trailing softmax, %v without", losses[1], losses[0])
	}
	for i := range logits[0] {
		if logits[0][i] != logits[1][i] {
			t.Fatalf("logit %d: %v with a trailing softmax, %v without", i, logits[1][i], logits[0][i])
		}
	}
}
