package graph

import (
	"math/rand"
	"runtime"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// TestSameBitsForAnyGOMAXPROCS: losses, gradients and the updated
// batch-norm buffers of the residual specs do not depend on the number
// of CPUs.
func TestSameBitsForAnyGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, name := range []string{"residual", "projection", "grouped", "avgpool", "maxpool-pad"} {
		spec := tinySpecs()[name]
		run := func(procs int) []float32 {
			runtime.GOMAXPROCS(procs)
			rng := rand.New(rand.NewSource(4))
			m, err := models.New(spec, tensor.Float32, rng)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(m, Options{Batch: 6, Train: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			x, y := randomBatch(rng, spec, 6)
			loss, err := s.Run(x, y, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := []float32{float32(loss)}
			for _, l := range s.Learnables() {
				g, _ := s.Grad(l)
				out = append(out, g.Data().([]float32)...)
			}
			for _, p := range m.Params.All() {
				out = append(out, p.Value.Data().([]float32)...)
			}
			return out
		}
		a, b := run(1), run(4)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: value %d is %v with 1 CPU, %v with 4", name, i, a[i], b[i])
			}
		}
	}
}
