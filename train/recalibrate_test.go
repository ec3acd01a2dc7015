package train

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// conv3x3 is c1 of tinyResNet computed directly: 3×3, padding 1, no bias,
// on one image of shape [in, h, w]; out[f][y][x].
func conv3x3(w []float64, filters, in, h, wd int, img []float32) [][]float64 {
	out := make([][]float64, filters)
	for f := range out {
		out[f] = make([]float64, h*wd)
		for y := 0; y < h; y++ {
			for x := 0; x < wd; x++ {
				s := 0.0
				for c := 0; c < in; c++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							yy, xx := y+ky-1, x+kx-1
							if yy < 0 || yy >= h || xx < 0 || xx >= wd {
								continue
							}
							s += w[((f*in+c)*3+ky)*3+kx] * float64(img[(c*h+yy)*wd+xx])
						}
					}
				}
				out[f][y*wd+x] = s
			}
		}
	}
	return out
}

// TestRecalibrate: the first batch norm's buffers become the average over
// the drawn batches of its input's per-batch mean and unbiased variance
// (that input is computed here directly), no trained parameter moves, the
// result repeats to the bit, and a model without batch norm is untouched.
func TestRecalibrate(t *testing.T) {
	spec := tinyResNet()
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	d := images(120, spec.Input, 5)
	const batch, batches, seed = 20, 4, 9
	before := m.Params.Clone()
	if err := Recalibrate(context.Background(), m, nil, d, batches, batch, seed); err != nil {
		t.Fatal(err)
	}

	w := m.Params.Get("c1/W").Float64s()
	perm := rand.New(rand.NewSource(seed)).Perm(d.N())
	size := d.Size()
	wantMean, wantVar := make([]float64, 4), make([]float64, 4)
	for b := 0; b < batches; b++ {
		var outs [][][]float64
		for _, j := range perm[b*batch : (b+1)*batch] {
			outs = append(outs, conv3x3(w, 4, 2, 6, 6, d.X[j*size:(j+1)*size]))
		}
		for f := 0; f < 4; f++ {
			var s, ss float64
			n := 0
			for _, o := range outs {
				for _, v := range o[f] {
					s += v
					n++
				}
			}
			mu := s / float64(n)
			for _, o := range outs {
				for _, v := range o[f] {
					ss += (v - mu) * (v - mu)
				}
			}
			wantMean[f] += mu / batches
			wantVar[f] += ss / float64(n-1) / batches
		}
	}
	gotMean, gotVar := m.Params.Get("bn1/mean").Float64s(), m.Params.Get("bn1/var").Float64s()
	for f := 0; f < 4; f++ {
		if math.Abs(gotMean[f]-wantMean[f]) > 1e-5*(1+math.Abs(wantMean[f])) || math.Abs(gotVar[f]-wantVar[f]) > 1e-5*(1+wantVar[f]) {
			t.Fatalf("channel %d: mean %v var %v, want %v and %v", f, gotMean[f], gotVar[f], wantMean[f], wantVar[f])
		}
	}
	// The second batch norm moved too; nothing else did.
	if v := m.Params.Get("bn2/var").Float64s(); v[0] == 1 && v[1] == 1 {
		t.Fatalf("bn2/var still at its initial value: %v", v)
	}
	for _, p := range m.Params.All() {
		if p.Name == "bn1/mean" || p.Name == "bn1/var" || p.Name == "bn2/mean" || p.Name == "bn2/var" {
			continue
		}
		a, b := p.Float64s(), before.Get(p.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d] changed from %v to %v", p.Name, i, b[i], a[i])
			}
		}
	}

	// Same arguments, same bits.
	again := &models.Model{Spec: spec, Params: before.Clone(), Meta: m.Meta}
	if err := Recalibrate(context.Background(), again, nil, d, batches, batch, seed); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bn1/mean", "bn1/var", "bn2/mean", "bn2/var"} {
		a, b := m.Params.Get(name).Float64s(), again.Params.Get(name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v then %v", name, i, a[i], b[i])
			}
		}
	}

	// No batch norm: nothing to do, and no error.
	plain, err := models.New(dropoutMLP(), tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := Recalibrate(context.Background(), plain, nil, blobs(40, 6, 1), 2, 20, 1); err != nil {
		t.Fatal(err)
	}
	// Too little data for one batch is refused.
	if err := Recalibrate(context.Background(), m, nil, images(10, spec.Input, 1), 2, 20, 1); err == nil {
		t.Fatal("10 samples for a batch of 20: no error")
	}
}

// cancelAfter is a context whose Err turns to Canceled after n calls.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestRecalibrateCancelledKeepsBuffers: a run stopped after its first
// batch leaves the running statistics as they were.
func TestRecalibrateCancelledKeepsBuffers(t *testing.T) {
	spec := tinyResNet()
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	before := m.Params.Clone()
	ctx := &cancelAfter{Context: context.Background(), n: 1}
	if err := Recalibrate(ctx, m, nil, images(120, spec.Input, 5), 4, 20, 9); err != context.Canceled {
		t.Fatalf("cancelled after one batch: err %v, want context.Canceled", err)
	}
	for _, name := range []string{"bn1/mean", "bn1/var", "bn2/mean", "bn2/var"} {
		a, b := before.Get(name).Float64s(), m.Params.Get(name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d] changed by a cancelled run: %v → %v", name, i, a[i], b[i])
			}
		}
	}
}
