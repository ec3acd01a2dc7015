package featsel

import (
	"context"
	"math"
	"math/rand"
	"sort"
	"testing"
)

// synthetic returns n samples of d standard-normal features whose class
// depends on the first few features only (the informative set), as a
// standardised matrix. For classes = 2 the label is 1 when
// Σ_k w_k x_k + noise > 0; for more classes it is the argmax over classes
// of per-class sums of the informative features.
func synthetic(n, d, classes int, informative []int, seed int64) (*Matrix, []int) {
	rng := rand.New(rand.NewSource(seed))
	X := &Matrix{Rows: n, Cols: d, Data: make([]float64, n*d)}
	for i := range X.Data {
		X.Data[i] = rng.NormFloat64()
	}
	y := make([]int, n)
	for i := 0; i < n; i++ {
		row := X.Row(i)
		if classes == 2 {
			s := 0.3 * rng.NormFloat64()
			for k, j := range informative {
				s += (1 + 0.25*float64(k)) * row[j]
			}
			if s > 0 {
				y[i] = 1
			}
			continue
		}
		best, bv := 0, math.Inf(-1)
		for c := 0; c < classes; c++ {
			v := 0.3 * rng.NormFloat64()
			for k, j := range informative {
				if (k+c)%classes == 0 {
					v += 1.5 * row[j]
				} else if (k+c)%classes == 1 {
					v -= row[j]
				}
			}
			if v > bv {
				best, bv = c, v
			}
		}
		y[i] = best
	}
	// Standardise as the pipeline does.
	X32 := make([]float32, len(X.Data))
	for k, v := range X.Data {
		X32[k] = float32(v)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sc, _ := FitScaler(X32, d, idx)
	return sc.Apply(X32, d, idx), y
}

func sortedCopy(a []int) []int {
	b := append([]int(nil), a...)
	sort.Ints(b)
	return b
}

// TestSelectSynthetic: 1,000 features, 5 informative (spread over the
// columns). Asked for at most 6, every method must return all 5 and at
// most 1 other; asked for 5, exactly the 5.
func TestSelectSynthetic(t *testing.T) {
	informative := []int{3, 141, 500, 777, 998}
	X, y := synthetic(200, 1000, 2, informative, 1)
	for _, cfg := range []Config{
		{Method: MethodSpred, Head: HeadLinear, Seed: 1},
		{Method: MethodSpred, Head: HeadMLP, Seed: 1},
		{Method: MethodL1Logistic, Seed: 1},
	} {
		for _, k := range []int{5, 6} {
			cfg.Features = k
			sel, err := Select(context.Background(), X, y, 2, cfg)
			if err != nil {
				t.Fatalf("%s/%s K=%d: %v", cfg.Method, cfg.Head, k, err)
			}
			got := map[int]bool{}
			for _, j := range sel.Features {
				got[j] = true
			}
			missing, extra := 0, 0
			for _, j := range informative {
				if !got[j] {
					missing++
				}
			}
			extra = len(sel.Features) - (len(informative) - missing)
			t.Logf("%s/%s K=%d: λ=%.4g (λmax %.4g) features %v, %d fits, %d iterations",
				cfg.Method, cfg.Head, k, sel.Lambda, sel.LambdaMax, sortedCopy(sel.Features), sel.Fits, sel.Iterations)
			if missing > 0 || extra > k-5 {
				t.Errorf("%s/%s K=%d: selected %v, want %v (+ at most %d)", cfg.Method, cfg.Head, k, sortedCopy(sel.Features), informative, k-5)
			}
			// The refitted model classifies fresh data well.
			Xt, yt := synthetic(400, 1000, 2, informative, 2)
			pred := sel.Model.Predict(Xt)
			correct := 0
			for i, p := range pred {
				if p == yt[i] {
					correct++
				}
			}
			if acc := float64(correct) / float64(len(yt)); acc < 0.85 {
				t.Errorf("%s/%s K=%d: held-out accuracy %.3f, want ≥ 0.85", cfg.Method, cfg.Head, k, acc)
			}
		}
	}
}
