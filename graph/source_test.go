package graph

import (
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// declining is a ParamSource that supplies nothing.
type declining struct{ Plain }

func (declining) Param(*Builder, *models.Param) (*gorgonia.Node, bool, error) { return nil, false, nil }

// unitFactor supplies every parameter p it is asked for as p⊙1, with p and
// the ones registered as learnables "<p>.w" and "<p>.one".
type unitFactor struct {
	Plain
	asked []string
	shape tensor.Shape // when set, the ones have this shape instead
}

func (s *unitFactor) Param(b *Builder, p *models.Param) (*gorgonia.Node, bool, error) {
	s.asked = append(s.asked, p.Name)
	w, err := b.Learnable(p.Name+".w", p.Value, false)
	if err != nil {
		return nil, false, err
	}
	sh := p.Value.Shape()
	if s.shape != nil {
		sh = s.shape
	}
	ones := tensor.New(tensor.Of(p.Value.Dtype()), tensor.WithShape(sh...))
	if err := ones.Memset(1.0); err != nil {
		return nil, false, err
	}
	one, err := b.Learnable(p.Name+".one", ones, false)
	if err != nil {
		return nil, false, err
	}
	if s.shape != nil {
		return one, true, nil
	}
	n, err := b.Product(w, one)
	return n, err == nil, err
}

// A WeightSource that is also a ParamSource is asked for every bias and
// batch-norm scale and shift, and for nothing else; declining leaves the
// graph as it is without one (the same learnables, the same bits); what it
// supplies is trained through (here p⊙1: the gradient of p is the plain
// one); a node of the wrong shape is refused, naming the parameter.
func TestParamSource(t *testing.T) {
	spec, err := models.CIFARResNet("resnet-8", 1, []int{3, 8, 8})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	m, err := models.New(spec, tensor.Float64, rng)
	if err != nil {
		t.Fatal(err)
	}
	x, y := randomBatch(rng, spec, 4)
	type result struct {
		names  []string
		loss   float64
		logits []float64
		grads  map[string][]float64
	}
	run := func(src WeightSource) result {
		t.Helper()
		// Running statistics change with every training run: start each
		// graph from the same ones.
		saved := map[string][]float64{}
		for _, p := range m.Params.All() {
			saved[p.Name] = p.Float64s()
		}
		defer func() {
			for n, v := range saved {
				if err := m.Params.Get(n).SetFloat64s(v); err != nil {
					t.Fatal(err)
				}
			}
		}()
		s, err := New(m, Options{Batch: 4, Train: true, Source: src})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		loss, err := s.Run(x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := result{loss: loss, logits: s.Logits(), grads: map[string][]float64{}}
		for _, l := range s.Learnables() {
			r.names = append(r.names, l.Name)
			g, err := s.Grad(l)
			if err != nil {
				t.Fatal(err)
			}
			r.grads[l.Name] = models.Float64s(g.Data())
		}
		return r
	}
	plain, decl := run(Plain{}), run(declining{})
	if strings.Join(plain.names, " ") != strings.Join(decl.names, " ") || plain.loss != decl.loss {
		t.Fatalf("declining source: learnables %v, loss %v; plain %v, %v", decl.names, decl.loss, plain.names, plain.loss)
	}
	for i := range plain.logits {
		if plain.logits[i] != decl.logits[i] {
			t.Fatalf("declining source: logit %d is %v, plain %v", i, decl.logits[i], plain.logits[i])
		}
	}
	src := &unitFactor{}
	got := run(src)
	var want []string
	for _, p := range m.Params.All() {
		if p.Prunable {
			continue
		}
		switch {
		case strings.HasSuffix(p.Name, "/b"), strings.HasSuffix(p.Name, "/scale"), strings.HasSuffix(p.Name, "/shift"):
			want = append(want, p.Name)
		}
	}
	if strings.Join(src.asked, " ") != strings.Join(want, " ") || len(want) == 0 {
		t.Errorf("asked for %v, want %v", src.asked, want)
	}
	if got.loss != plain.loss {
		t.Errorf("loss %v through p⊙1, %v plain", got.loss, plain.loss)
	}
	for _, n := range want {
		a, b := got.grads[n+".w"], plain.grads[n]
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("%s: %d gradient entries, want %d", n, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: gradient %v through p⊙1, %v plain", n, i, a[i], b[i])
			}
		}
	}
	if _, err := New(m, Options{Batch: 4, Source: &unitFactor{shape: tensor.Shape{2}}}); err == nil || !strings.Contains(err.Error(), "parameter source returned") {
		t.Errorf("wrong shape from the parameter source: %v", err)
	}
}
