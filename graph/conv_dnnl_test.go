package graph

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convRun builds a float32 convolution graph on backend, runs it with a
// linear cost whose gradient is dy, and returns the output, the three
// gradients and the forward op.
func convRun(t *testing.T, backend string, xv, wv, bv, dyv *tensor.Dense, k, s int, pads [4]int, groups int) ([]float32, [3][]float32, *convOp) {
	t.Helper()
	defer func(b string) { ConvBackend = b }(ConvBackend)
	ConvBackend = backend
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, xv.Clone().(*tensor.Dense), gorgonia.WithName("x"))
	w := gorgonia.NodeFromAny(g, wv.Clone().(*tensor.Dense), gorgonia.WithName("w"))
	var b *gorgonia.Node
	wrt := gorgonia.Nodes{x, w}
	if bv != nil {
		b = gorgonia.NodeFromAny(g, bv.Clone().(*tensor.Dense), gorgonia.WithName("b"))
		wrt = append(wrt, b)
	}
	out, err := GroupedConv2DPads(x, w, b, k, s, pads, groups)
	if err != nil {
		t.Fatal(err)
	}
	dy := gorgonia.NodeFromAny(g, dyv, gorgonia.WithName("dy"))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, dy))))
	if _, err := gorgonia.Grad(cost, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	// Twice: the second step reuses every buffer and must give the same.
	var y []float32
	var grads [3][]float32
	for step := 0; step < 2; step++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		y1 := append([]float32(nil), out.Value().Data().([]float32)...)
		var g1 [3][]float32
		for i, n := range wrt {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			g1[i] = append(g1[i], gv.Data().([]float32)...)
		}
		if step == 1 {
			for i := range y {
				if y[i] != y1[i] {
					t.Fatalf("%s: a second step changed y[%d]", backend, i)
				}
			}
			for j := range grads {
				for i := range grads[j] {
					if grads[j][i] != g1[j][i] {
						t.Fatalf("%s: a second step changed gradient %d at %d", backend, j, i)
					}
				}
			}
		}
		y, grads = y1, g1
		vm.Reset()
	}
	return y, grads, out.Op().(*convOp)
}

// TestConv2DOneDNNMatchesGo compares the float32 convolutions on oneDNN
// with this package's own, forward and backward, over geometries with
// stride, asymmetric padding, no bias and groups (which stay on "go").
func TestConv2DOneDNNMatchesGo(t *testing.T) {
	if _, _, err := convBackend("onednn"); err != nil {
		t.Skipf("oneDNN not available: %v", err)
	}
	for _, c := range []struct {
		b, ch, h, w, f, k, s int
		pads                 [4]int
		groups               int
		bias                 bool
	}{
		{4, 16, 12, 12, 16, 3, 1, [4]int{1, 1, 1, 1}, 1, false},
		{3, 16, 10, 10, 32, 3, 2, [4]int{1, 1, 1, 1}, 1, false},
		{2, 3, 9, 7, 8, 1, 2, [4]int{}, 1, true},
		{2, 1, 28, 28, 6, 5, 1, [4]int{2, 2, 2, 2}, 1, true},
		{2, 4, 8, 8, 6, 3, 2, [4]int{0, 0, 1, 1}, 1, true}, // the bottom pad is partly past the last window
		{2, 4, 6, 6, 4, 3, 1, [4]int{1, 1, 1, 1}, 2, true}, // grouped: "go" on both
	} {
		rng := rand.New(rand.NewSource(int64(c.ch*10 + c.k)))
		randT := func(shape ...int) *tensor.Dense {
			v := make([]float32, tensor.Shape(shape).TotalSize())
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		}
		xv, wv := randT(c.b, c.ch, c.h, c.w), randT(c.f, c.ch/c.groups, c.k, c.k)
		var bv *tensor.Dense
		if c.bias {
			bv = randT(c.f)
		}
		oh := (c.h+c.pads[0]+c.pads[2]-c.k)/c.s + 1
		ow := (c.w+c.pads[1]+c.pads[3]-c.k)/c.s + 1
		dyv := randT(c.b, c.f, oh, ow)
		y0, g0, op0 := convRun(t, "go", xv, wv, bv, dyv, c.k, c.s, c.pads, c.groups)
		y1, g1, op1 := convRun(t, "onednn", xv, wv, bv, dyv, c.k, c.s, c.pads, c.groups)
		if op0.dn != nil {
			t.Fatalf("%+v: the go backend ran on oneDNN", c)
		}
		if (op1.dn != nil) != (c.groups == 1) {
			t.Fatalf("%+v: on oneDNN %v, want %v", c, op1.dn != nil, c.groups == 1)
		}
		near := func(what string, a, b []float32) {
			if len(a) != len(b) || len(a) == 0 {
				t.Fatalf("%+v %s: %d values against %d", c, what, len(a), len(b))
			}
			for i := range a {
				if d := math.Abs(float64(a[i] - b[i])); d > 1e-4*math.Max(1, math.Abs(float64(b[i]))) {
					t.Fatalf("%+v %s[%d]: onednn %.8g, go %.8g", c, what, i, a[i], b[i])
				}
			}
		}
		near("y", y1, y0)
		near("dx", g1[0], g0[0])
		near("dw", g1[1], g0[1])
		if c.bias {
			near("db", g1[2], g0[2])
		}
	}
}

func TestConvBackendChoice(t *testing.T) {
	if b, _, err := convBackend("go"); b != "go" || err != nil {
		t.Errorf("go: %s, %v", b, err)
	}
	if _, _, err := convBackend("cudnn"); err == nil {
		t.Error("an unknown backend was accepted")
	}
	b, v, err := convBackend("")
	if err != nil {
		t.Errorf("auto: %v", err)
	}
	if (b == "onednn") != (v != "") {
		t.Errorf("auto: backend %s with version %q", b, v)
	}
}
