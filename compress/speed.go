package compress

import (
	"fmt"
	"math/rand"
	"sort"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Speed is the measured forward-pass time of a model at one batch size.
type Speed struct {
	Batch int `json:"batch"`
	// DenseSeconds and ThinSeconds are the median seconds of one forward
	// pass (Gorgonia, float32, one batch) of the dense and the thinned
	// model.
	DenseSeconds float64 `json:"dense_seconds"`
	ThinSeconds  float64 `json:"thin_seconds"`
	Speedup      float64 `json:"speedup"` // DenseSeconds / ThinSeconds
	Runs         int     `json:"runs"`    // forward passes timed per model
}

// MeasureSpeed times forward passes of dense and thin (inference graphs,
// float32, random inputs from seed 1) at every batch size, for about budget
// per model and batch size, alternating the two models in rounds so that
// load from other processes affects both alike; it returns the medians.
func MeasureSpeed(dense, thin *models.Model, batches []int, budget time.Duration) ([]Speed, error) {
	var out []Speed
	for _, b := range batches {
		if b < 1 {
			return nil, errors.Errorf("batch size %d (want ≥ 1)", b)
		}
		sp, err := measure(dense, thin, b, budget)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

func measure(dense, thin *models.Model, b int, budget time.Duration) (Speed, error) {
	var times [2][]float64
	var sess [2]*graph.Session
	for k, m := range []*models.Model{dense, thin} {
		ps, err := m.Params.AsType(tensor.Float32)
		if err != nil {
			return Speed{}, err
		}
		s, err := graph.New(&models.Model{Spec: m.Spec, Params: ps}, graph.Options{Batch: b})
		if err != nil {
			return Speed{}, err
		}
		defer s.Close()
		sess[k] = s
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, b*dense.Spec.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int, b)
	deadline := time.Now().Add(2 * budget)
	for round := 0; round < 3 || time.Now().Before(deadline); round++ {
		for k := range sess {
			start := time.Now()
			if _, err := sess[k].Run(x, y, nil); err != nil {
				return Speed{}, err
			}
			times[k] = append(times[k], time.Since(start).Seconds())
		}
	}
	sp := Speed{Batch: b, DenseSeconds: median(times[0]), ThinSeconds: median(times[1]), Runs: len(times[0])}
	if sp.ThinSeconds > 0 {
		sp.Speedup = sp.DenseSeconds / sp.ThinSeconds
	}
	return sp, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtSeconds(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}
