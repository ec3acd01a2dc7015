package graph

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/kernels"
)

// TestConv2DMatchesGorgonia compares the fused convolution with Gorgonia's
// Conv2d followed by a broadcast bias, forward and backward, over several
// geometries, with the column matrix built for the whole batch at once, one
// image at a time and two at a time (the last chunk short), and kept by the
// forward op for the weight gradient or rebuilt by it.
func TestConv2DMatchesGorgonia(t *testing.T) {
	defer func(b, k int) { chunkBytes, keepBytes = b, k }(chunkBytes, keepBytes)
	for _, c := range []struct{ b, ch, h, w, f, k, s, p int }{
		{2, 1, 6, 6, 3, 3, 1, 0},
		{3, 2, 7, 5, 4, 3, 2, 1},
		{1, 3, 5, 5, 2, 5, 1, 2},
		{2, 2, 8, 8, 2, 2, 2, 0},
		{1, 1, 2, 3, 2, 3, 1, 4}, // padding wider than the input
		{2, 3, 12, 12, 5, 5, 1, 0},
		{5, 2, 6, 6, 3, 3, 1, 1},
	} {
		rng := rand.New(rand.NewSource(int64(c.b*100 + c.k)))
		randT := func(shape ...int) *tensor.Dense {
			v := make([]float64, tensor.Shape(shape).TotalSize())
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		}
		xv, wv, bv := randT(c.b, c.ch, c.h, c.w), randT(c.f, c.ch, c.k, c.k), randT(c.f)
		oh, ow := (c.h+2*c.p-c.k)/c.s+1, (c.w+2*c.p-c.k)/c.s+1
		dyv := randT(c.b, c.f, oh, ow)

		run := func(fused bool) (y []float64, grads [3][]float64) {
			g := gorgonia.NewGraph()
			x := gorgonia.NodeFromAny(g, xv.Clone().(*tensor.Dense), gorgonia.WithName("x"))
			w := gorgonia.NodeFromAny(g, wv.Clone().(*tensor.Dense), gorgonia.WithName("w"))
			b := gorgonia.NodeFromAny(g, bv.Clone().(*tensor.Dense), gorgonia.WithName("b"))
			var out *gorgonia.Node
			var err error
			if fused {
				out, err = Conv2D(x, w, b, c.k, c.s, c.p)
			} else {
				out, err = gorgonia.Conv2d(x, w, tensor.Shape{c.k, c.k}, []int{c.p, c.p}, []int{c.s, c.s}, []int{1, 1})
				if err == nil {
					out, err = gorgonia.BroadcastAdd(out, b, nil, []byte{0, 2, 3})
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			// A linear functional of the output, so that its gradient is dy.
			dy := gorgonia.NodeFromAny(g, dyv, gorgonia.WithName("dy"))
			prod, err := gorgonia.HadamardProd(out, dy)
			if err != nil {
				t.Fatal(err)
			}
			cost, err := gorgonia.Sum(prod)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gorgonia.Grad(cost, x, w, b); err != nil {
				t.Fatal(err)
			}
			vm := gorgonia.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			y = append(y, out.Value().Data().([]float64)...)
			for i, n := range []*gorgonia.Node{x, w, b} {
				gv, err := n.Grad()
				if err != nil {
					t.Fatal(err)
				}
				grads[i] = append(grads[i], gv.Data().([]float64)...)
			}
			return y, grads
		}
		chunkBytes = 1 << 30
		y2, g2 := run(false)
		for _, cs := range []struct{ per, keep int }{{c.b, 0}, {1, 0}, {2, 0}, {c.b, 1 << 30}, {2, 1 << 30}} {
			per := cs.per
			keepBytes = cs.keep
			g := convGeom{Conv: kernels.NewConv(c.b, c.ch, c.h, c.w, c.f, c.k, c.s, c.p), groups: 1}
			chunkBytes = per * g.Rows() * g.OH * g.OW * 8
			if got := g.chunk(8); got != min(per, c.b) {
				t.Fatalf("%+v: chunk of %d images, want %d", c, got, per)
			}
			y1, g1 := run(true)
			near := func(what string, a, b []float64) {
				if len(a) != len(b) {
					t.Fatalf("%+v %s: %d values against %d", c, what, len(a), len(b))
				}
				for i := range a {
					if math.Abs(a[i]-b[i]) > 1e-10*math.Max(1, math.Abs(b[i])) {
						t.Fatalf("%+v, %d images a chunk, %s[%d]: fused %.12g, gorgonia %.12g (keep %v)", c, per, what, i, a[i], b[i], g.keeps(8))
					}
				}
			}
			near("y", y1, y2)
			for i, what := range []string{"dx", "dw", "db"} {
				near(what, g1[i], g2[i])
			}
		}
	}
}

// TestConv2DBadShapes checks that mismatched shapes are errors, not panics.
func TestConv2DBadShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(1, 2, 5, 5), gorgonia.WithName("x"))
	w := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 2, 3, 3), gorgonia.WithName("w"))
	b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("b"))
	wBad := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 1, 3, 3), gorgonia.WithName("wbad"))
	bBad := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(2), gorgonia.WithName("bbad"))
	for name, f := range map[string]func() (*gorgonia.Node, error){
		"channels": func() (*gorgonia.Node, error) { return Conv2D(x, wBad, b, 3, 1, 0) },
		"bias":     func() (*gorgonia.Node, error) { return Conv2D(x, w, bBad, 3, 1, 0) },
		"kernel":   func() (*gorgonia.Node, error) { return Conv2D(x, w, b, 2, 1, 0) },
		"stride":   func() (*gorgonia.Node, error) { return Conv2D(x, w, b, 3, 0, 0) },
		"too-small": func() (*gorgonia.Node, error) {
			return Conv2D(x, gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 2, 7, 7), gorgonia.WithName("w7")), b, 7, 1, 0)
		},
		"negative-p": func() (*gorgonia.Node, error) { return Conv2D(x, w, b, 3, 1, -1) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
