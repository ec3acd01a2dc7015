package graph

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// TestEveryKindHasABuilder: every layer kind of package models can be
// built into a graph.
func TestEveryKindHasABuilder(t *testing.T) {
	for _, k := range models.Kinds() {
		if layerBuilders[k] == nil {
			t.Errorf("layer kind %q has no builder in graph.layerBuilders", k)
		}
	}
	for k := range layerBuilders {
		if models.Kind(k) == nil {
			t.Errorf("builder for %q, which package models does not know", k)
		}
	}
}

// TestGorgoniaOpsAgree builds every tiny spec with Gorgonia's own ops and
// with the fused ones and compares losses and gradients; grouped
// convolutions and padding that differs per side are refused with
// Gorgonia's ops, naming the layer.
func TestGorgoniaOpsAgree(t *testing.T) {
	for name, spec := range tinySpecs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(11))
			m, err := models.New(spec, tensor.Float64, rng)
			if err != nil {
				t.Fatal(err)
			}
			x, y := randomBatch(rng, spec, 3)
			run := func(gorgoniaOps bool) (float64, [][]float64, error) {
				s, err := New(m, Options{Batch: 3, Train: true, GorgoniaOps: gorgoniaOps})
				if err != nil {
					return 0, nil, err
				}
				defer s.Close()
				loss, err := s.Run(x, y, rand.New(rand.NewSource(3)))
				if err != nil {
					t.Fatal(err)
				}
				var grads [][]float64
				for _, l := range s.Learnables() {
					g, err := s.Grad(l)
					if err != nil {
						t.Fatal(err)
					}
					grads = append(grads, append([]float64(nil), g.Data().([]float64)...))
				}
				return loss, grads, nil
			}
			l1, g1, err := run(false)
			if err != nil {
				t.Fatal(err)
			}
			l2, g2, err := run(true)
			if name == "grouped" {
				if err == nil || !strings.Contains(err.Error(), `"g"`) || !strings.Contains(err.Error(), "grouped") {
					t.Fatalf("grouped convolution with Gorgonia's ops: %v", err)
				}
				return
			}
			if name == "windows" {
				if err == nil || !strings.Contains(err.Error(), `"c1"`) || !strings.Contains(err.Error(), "pads every side alike") {
					t.Fatalf("padding per side with Gorgonia's ops: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l1-l2) > 1e-12*math.Max(1, math.Abs(l1)) {
				t.Errorf("loss: fused %v, gorgonia %v", l1, l2)
			}
			for i := range g1 {
				for j := range g1[i] {
					if math.Abs(g1[i][j]-g2[i][j]) > 1e-10*math.Max(1, math.Abs(g2[i][j])) {
						t.Fatalf("gradient %d[%d]: fused %v, gorgonia %v", i, j, g1[i][j], g2[i][j])
					}
				}
			}
		})
	}
}

// TestLayerErrorsNameTheLayer: a parameter that is missing is reported
// with the layer's index, name and kind.
func TestLayerErrorsNameTheLayer(t *testing.T) {
	spec := tinySpecs()["residual"]
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	ps := &models.Params{}
	for _, p := range m.Params.All() {
		if p.Name != "bn2/var" {
			_ = ps.Add(p)
		}
	}
	s := &Session{spec: spec, batch: 2, size: spec.InputSize(), dt: tensor.Float32, b: newBuilder(tensor.Float32)}
	err = s.build(ps, Plain{})
	if err == nil || !strings.Contains(err.Error(), `layer 4 "bn2" (batchnorm2d)`) || !strings.Contains(err.Error(), "bn2/var") {
		t.Fatalf("error %v, want one naming layer 4 \"bn2\" and bn2/var", err)
	}
}
