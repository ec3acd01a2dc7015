package compress

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

func randomWeight(dt tensor.Dtype, seed int64, shape ...int) *tensor.Dense {
	rng := rand.New(rand.NewSource(seed))
	n := 1
	for _, s := range shape {
		n *= s
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = rng.NormFloat64()
	}
	vals[1] = 0
	if dt == tensor.Float32 {
		f := make([]float32, n)
		for i, v := range vals {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
}

// TestPenaltyGradient: the gradient of Penalty with respect to the factors
// is λ·u and λ·v (weight decay), its value (λ/2)·Σ(u² + v²) = λ‖w‖₁ at the
// balanced split, and W computes w.
func TestPenaltyGradient(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-6
		}
		const lambda = 0.3
		g := gorgonia.NewGraph()
		w1, w2 := randomWeight(dt, 1, 4, 3), randomWeight(dt, 2, 5)
		a, err := Rewrite(g, "a", w1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Rewrite(g, "b", w2)
		if err != nil {
			t.Fatal(err)
		}
		pen, err := Penalty(lambda, a, b)
		if err != nil {
			t.Fatal(err)
		}
		var wv1 gorgonia.Value
		gorgonia.Read(a.W, &wv1)
		if _, err := gorgonia.Grad(pen, Learnables(a, b)...); err != nil {
			t.Fatal(err)
		}
		vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(Learnables(a, b)...))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		var l1 float64
		for _, w := range [][]float64{toF64(w1.Data()), toF64(w2.Data())} {
			for _, x := range w {
				l1 += math.Abs(x)
			}
		}
		if got := toF64(pen.Value().Data())[0]; math.Abs(got-lambda*l1) > tol*lambda*l1 {
			t.Errorf("%v: penalty %v, want λ‖w‖₁ = %v", dt, got, lambda*l1)
		}
		for i, x := range toF64(wv1.Data()) {
			if want := toF64(w1.Data())[i]; math.Abs(x-want) > tol*(1+math.Abs(want)) {
				t.Errorf("%v: W[%d] = %v, want %v", dt, i, x, want)
			}
		}
		for _, n := range Learnables(a, b) {
			gr, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			val, grad := toF64(n.Value().Data()), toF64(gr.Data())
			for i := range val {
				if want := lambda * val[i]; math.Abs(grad[i]-want) > tol*(1+math.Abs(want)) {
					t.Fatalf("%v: ∂penalty/∂%s[%d] = %v, want λ·%v = %v", dt, n.Name(), i, grad[i], val[i], want)
				}
			}
		}
		vm.Close()
	}
}

// TestNodePairThresholdCollapse: Threshold zeroes both factors of the small
// products in the values the graph reads (the next run sees them), and
// Collapse gives the dense weights with those exact zeros.
func TestNodePairThresholdCollapse(t *testing.T) {
	g := gorgonia.NewGraph()
	w := randomWeight(tensor.Float32, 3, 6, 4)
	p, err := Rewrite(g, "fc/W", w)
	if err != nil {
		t.Fatal(err)
	}
	var out gorgonia.Value
	gorgonia.Read(p.W, &out)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	const tau = 0.5
	small, zero := 0, 0
	for _, x := range w.Data().([]float32) {
		switch {
		case x == 0:
			zero++
		case math.Abs(float64(x)) < tau:
			small++
		}
	}
	if small == 0 {
		t.Fatal("no small weight: pick another τ")
	}
	n, err := p.Threshold(tau)
	if err != nil || n != small {
		t.Fatalf("Threshold zeroed %d (%v), want %d", n, err, small)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	ps, err := Collapse(p)
	if err != nil {
		t.Fatal(err)
	}
	dense := ps.Get("fc/W")
	if dense == nil || !dense.Prunable || dense.NonZero() != w.Size()-small-zero {
		t.Fatalf("collapsed %+v", dense)
	}
	ran := out.Data().([]float32)
	for i, x := range w.Data().([]float32) {
		got := dense.Value.Data().([]float32)[i]
		if math.Abs(float64(x)) < tau {
			if got != 0 || ran[i] != 0 {
				t.Fatalf("entry %d (%v): collapsed %v, graph computes %v", i, x, got, ran[i])
			}
		} else if math.Abs(float64(got-x)) > 1e-6*math.Abs(float64(x)) || ran[i] != got {
			t.Fatalf("entry %d: %v collapsed to %v, graph computes %v", i, x, got, ran[i])
		}
	}
}

func TestRewriteRefuses(t *testing.T) {
	g := gorgonia.NewGraph()
	for _, c := range []struct {
		g    *gorgonia.ExprGraph
		w    *tensor.Dense
		want string
	}{
		{nil, randomWeight(tensor.Float32, 1, 2, 2), "nil graph"},
		{g, nil, "nil weight"},
		{g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2})), "want float32 or float64"},
		{g, tensor.New(tensor.FromScalar(float32(1))), "at least one dimension"},
	} {
		if _, err := Rewrite(c.g, "w", c.w); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"w"`) {
			t.Errorf("%s: %v", c.want, err)
		}
	}
	if _, err := Penalty(0.1); err == nil {
		t.Error("penalty of nothing")
	}
	p, _ := Rewrite(g, "w", randomWeight(tensor.Float64, 1, 3))
	if _, err := Penalty(math.NaN(), p); err == nil {
		t.Error("NaN λ")
	}
}

func toF64(d any) []float64 {
	switch d := d.(type) {
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	return models.Float64s(d)
}
