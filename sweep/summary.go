package sweep

import (
	"math"
)

// Summary is every run of one point: the same method, λ (or target ratio),
// τ and target, over seeds, with the mean and the sample standard
// deviation (0 for one run) of its compression ratio and of its errors.
type Summary struct {
	Point          // the point, without its seed
	Runs  []Result // in the order given
	// Ratio is the mean compression ratio (+Inf if a run kept no weight).
	Ratio, RatioStd float64
	// Error is the mean test error in percent (NaN if a run has none).
	Error, ErrorStd float64
	// ValError is the mean validation error in percent (NaN if a run
	// has none).
	ValError, ValErrorStd float64
	// Lambda is the mean λ: the one asked, or the one a target found.
	Lambda      float64
	WallSeconds float64 // the sum over the runs
}

// key is the identity of r's point across seeds: a point that asked for a
// ratio is the same point whatever λ each seed found (one that held its λ
// is told apart by it).
func key(r Result) Point {
	p := r.Point
	p.Seed, p.Seeded = 0, false
	if p.TargetRatio != 0 && !p.Held {
		p.Lambda = 0
	}
	return p
}

// Summarise groups results by point (in the order each point first
// appears) and summarises each group.
func Summarise(results []Result) []Summary {
	var out []Summary
	index := map[Point]int{}
	for _, r := range results {
		k := key(r)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Summary{Point: k})
		}
		out[i].Runs = append(out[i].Runs, r)
	}
	for i := range out {
		s := &out[i]
		var ratios, errs, vals, lambdas []float64
		for _, r := range s.Runs {
			ratios = append(ratios, ratioOf(r))
			errs = append(errs, r.Error)
			vals = append(vals, valError(r))
			lambdas = append(lambdas, r.Lambda)
			s.WallSeconds += r.WallSeconds
		}
		s.Ratio, s.RatioStd = meanStd(ratios)
		s.Error, s.ErrorStd = meanStd(errs)
		s.ValError, s.ValErrorStd = meanStd(vals)
		s.Lambda, _ = meanStd(lambdas)
	}
	return out
}

// repeated reports whether a point of ss has more than one run.
func repeated(ss []Summary) bool {
	for _, s := range ss {
		if len(s.Runs) > 1 {
			return true
		}
	}
	return false
}

// meanStd is the mean and the sample standard deviation of xs (0 for one
// value); an infinite or NaN value makes both that value.
func meanStd(xs []float64) (mean, std float64) {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x, x
		}
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}
