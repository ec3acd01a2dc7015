package sweep

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/compress"
)

// MethodSpred is the method of the points `spred sweep` runs by default
// (compress.MethodSpred); any method registered with compress.Register
// can be swept.
const MethodSpred = compress.MethodSpred

// Point is one setting of a sweep.
type Point struct {
	Method    string  // e.g. MethodSpred
	Lambda    float64 // the L1 coefficient λ
	Threshold float64 // τ
	// Target is the target sparsity of a magnitude-pruning point (0 for
	// the other methods, whose IDs then do not mention it).
	Target float64
	// Structure is the grouping of a structured spred point ("neuron",
	// "filter" or "mixed"; empty for the element-wise pass), and
	// FromScratch marks a spred point whose factors are drawn from the
	// seed instead of split from the model.
	Structure   string
	FromScratch bool
	// LayerScale is the rule of λ per layer (compress.Config.LayerScale):
	// "" or "uniform" for the same λ everywhere, which the series and ID
	// do not mention.
	LayerScale string
	// LayerLambda is the λ multipliers given by name
	// (compress.Settings.LayerLambda, "NAME=F,..."); "" for none, and then
	// not in the ID.
	LayerLambda string
	// LayerThreshold marks τ scaled per weight as λ
	// (compress.Config.LayerThreshold): "-layer-tau" in the series.
	LayerThreshold bool
	// HoldNorms marks the filters a batch norm alone reads held at their
	// norms (compress.Config.HoldNorms): "-hold-norms" in the series.
	HoldNorms bool
	// TargetRatio is the compression ratio a point asks for instead of a
	// λ (compress.Config.TargetRatio); 0 for none, and then not in the ID.
	TargetRatio float64
	// Held marks a TargetRatio point whose λ is given (Lambda) and held
	// through the run, only the final τ set to the ratio
	// (compress.TargetFixed); otherwise the run finds λ.
	Held bool
	// Seed of the run, in the ID only when Seeded (a sweep over seeds).
	Seed   int64
	Seeded bool
}

// Series is the method as tables and plots show it: the method, then the
// structure of a structured pass ("spred-neuron"), "-from-scratch" for
// a point started from scratch ("spred-from-scratch"), the rule of λ per
// layer when it is not uniform ("spred-size"), "-layer-tau" when τ is
// scaled as λ ("spred-size-layer-tau") and "-hold-norms" when the filters
// a batch norm alone reads keep their norms.
func (p Point) Series() string {
	s := p.Method
	if p.Structure != "" {
		s += "-" + p.Structure
	}
	if p.FromScratch {
		s += "-from-scratch"
	}
	if p.LayerScale != "" && p.LayerScale != compress.LayerScaleUniform {
		s += "-" + p.LayerScale
	}
	if p.LayerThreshold {
		s += "-layer-tau"
	}
	if p.HoldNorms {
		s += "-hold-norms"
	}
	return s
}

// ID names the point's files: the series (method, structure, from
// scratch), λ and τ (and the target sparsity when it is not 0), each number
// in the shortest exponent form (at least one decimal) that reads back as
// the same float64, so distinct points have distinct IDs. It contains only
// letters, digits and "_=.+-".
func (p Point) ID() string {
	id := fmt.Sprintf("%s_lambda=%s_tau=%s", safeName(p.Series()), fmtExact(p.Lambda), fmtExact(p.Threshold))
	if p.Target != 0 {
		id += "_target=" + fmtExact(p.Target)
	}
	if p.TargetRatio != 0 {
		id += "_ratio=" + fmtExact(p.TargetRatio)
	}
	if p.LayerLambda != "" {
		id += "_layers=" + strings.NewReplacer("/", "-", ",", "+").Replace(p.LayerLambda)
	}
	if p.Seeded {
		id += "_seed=" + strconv.FormatInt(p.Seed, 10)
	}
	return id
}

func (p Point) String() string {
	s := fmt.Sprintf("%s λ=%g τ=%g", p.Series(), p.Lambda, p.Threshold)
	if p.Target != 0 {
		s += fmt.Sprintf(" target=%g", p.Target)
	}
	if p.TargetRatio != 0 {
		s += fmt.Sprintf(" ratio=%g", p.TargetRatio)
	}
	if p.LayerLambda != "" {
		s += " layers=" + p.LayerLambda
	}
	if p.Seeded {
		s += fmt.Sprintf(" seed=%d", p.Seed)
	}
	return s
}

// fmtExact formats v as %.Ne with the smallest N ≥ 1 that round-trips.
func fmtExact(v float64) string {
	for prec := 1; prec < 17; prec++ {
		s := strconv.FormatFloat(v, 'e', prec, 64)
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == v {
			return s
		}
	}
	return strconv.FormatFloat(v, 'e', -1, 64)
}

func safeName(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '-'
	}, s)
}

// Points returns every combination of lambdas and thresholds for method,
// sorted by λ then τ, without duplicates.
func Points(method string, lambdas, thresholds []float64) []Point {
	var ps []Point
	seen := map[Point]bool{}
	for _, l := range lambdas {
		for _, t := range thresholds {
			p := Point{Method: method, Lambda: l, Threshold: t}
			if !seen[p] {
				seen[p] = true
				ps = append(ps, p)
			}
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Lambda != ps[j].Lambda {
			return ps[i].Lambda < ps[j].Lambda
		}
		return ps[i].Threshold < ps[j].Threshold
	})
	return ps
}

// TargetPoints returns one point of method per target sparsity, sorted,
// without duplicates (λ and τ are 0: magnitude pruning uses neither).
func TargetPoints(method string, targets []float64) []Point {
	var ps []Point
	seen := map[float64]bool{}
	for _, t := range targets {
		if !seen[t] {
			seen[t] = true
			ps = append(ps, Point{Method: method, Target: t})
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Target < ps[j].Target })
	return ps
}

// RatioPoints returns the points of method at each target compression
// ratio, sorted, without duplicates, with τ threshold (the τ the sparsity
// is measured at), which is dropped (0) for a registered method that reads
// no τ (compress.MethodInfo.Threshold: magnitude pruning). With no
// lambdas, or for a method that reads no λ, there is one point per ratio
// and λ is 0: the run finds it (or needs none). Otherwise there is one
// point per ratio and λ, with that λ held (Held).
func RatioPoints(method string, ratios, lambdas []float64, threshold float64) []Point {
	held := len(lambdas) > 0
	if m, err := compress.Lookup(method); err == nil {
		if !m.Info().Threshold {
			threshold = 0
		}
		held = held && m.Info().Lambda
	}
	if !held {
		lambdas = []float64{0}
	}
	var ps []Point
	seen := map[Point]bool{}
	for _, r := range ratios {
		for _, l := range lambdas {
			p := Point{Method: method, Lambda: l, Threshold: threshold, TargetRatio: r, Held: held}
			if !seen[p] {
				seen[p] = true
				ps = append(ps, p)
			}
		}
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].TargetRatio != ps[j].TargetRatio {
			return ps[i].TargetRatio < ps[j].TargetRatio
		}
		return ps[i].Lambda < ps[j].Lambda
	})
	return ps
}

// WithSeeds returns every point once per seed, seeded (the seed is in its
// ID), point by point in the given order; duplicate seeds are dropped.
func WithSeeds(points []Point, seeds []int64) []Point {
	var out []Point
	for _, p := range points {
		seen := map[int64]bool{}
		for _, s := range seeds {
			if !seen[s] {
				seen[s] = true
				q := p
				q.Seed, q.Seeded = s, true
				out = append(out, q)
			}
		}
	}
	return out
}

// ParseSeeds parses a comma-separated list of integer seeds ("1,2,3").
func ParseSeeds(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.Wrap(ErrSyntax, "empty list")
	}
	var out []int64
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		v, err := strconv.ParseInt(item, 10, 64)
		if err != nil {
			return nil, errors.Wrapf(ErrSyntax, "%q is not an integer seed", item)
		}
		out = append(out, v)
	}
	return out, nil
}

// ErrSyntax is returned (wrapped) for a list or range that cannot be used.
var ErrSyntax = errors.New("bad sweep values")

// ParseList parses a comma-separated list of finite, non-negative numbers
// ("1e-4, 2e-4"). Empty items are errors, and so is an empty list.
func ParseList(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.Wrap(ErrSyntax, "empty list")
	}
	var out []float64
	for _, item := range strings.Split(s, ",") {
		v, err := parseValue(item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func parseValue(item string) (float64, error) {
	item = strings.TrimSpace(item)
	v, err := strconv.ParseFloat(item, 64)
	switch {
	case err != nil:
		return 0, errors.Wrapf(ErrSyntax, "%q is not a number", item)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, errors.Wrapf(ErrSyntax, "%q is not finite", item)
	case v < 0:
		return 0, errors.Wrapf(ErrSyntax, "%q is negative", item)
	}
	return v, nil
}

// ParseRange parses "LO:HI:N" into LogRange(LO, HI, N).
func ParseRange(s string) ([]float64, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return nil, errors.Wrapf(ErrSyntax, "range %q: want LO:HI:N, e.g. 1e-5:1e-3:8", s)
	}
	lo, err := parseValue(parts[0])
	if err != nil {
		return nil, errors.Wrapf(err, "range %q", s)
	}
	hi, err := parseValue(parts[1])
	if err != nil {
		return nil, errors.Wrapf(err, "range %q", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(parts[2]))
	if err != nil {
		return nil, errors.Wrapf(ErrSyntax, "range %q: N must be an integer", s)
	}
	return LogRange(lo, hi, n)
}

// LogRange returns n log-spaced values from lo to hi, both included
// exactly; the values between are rounded to three significant digits (so
// that they are easy to type and to read in file names). It needs
// 0 < lo ≤ hi, both finite, and n ≥ 1 (n = 1 needs lo = hi, n ≥ 2 lo < hi).
func LogRange(lo, hi float64, n int) ([]float64, error) {
	switch {
	case !(lo > 0) || !(hi > 0) || math.IsInf(lo, 0) || math.IsInf(hi, 0):
		return nil, errors.Wrapf(ErrSyntax, "log range needs positive finite ends, got %v and %v", lo, hi)
	case n < 1:
		return nil, errors.Wrapf(ErrSyntax, "log range needs at least 1 point, got %d", n)
	case n == 1 && lo != hi:
		return nil, errors.Wrapf(ErrSyntax, "a log range of 1 point needs equal ends, got %v and %v", lo, hi)
	case n > 1 && !(lo < hi):
		return nil, errors.Wrapf(ErrSyntax, "log range needs low < high, got %v and %v", lo, hi)
	case n > 10000:
		return nil, errors.Wrapf(ErrSyntax, "log range of %d points is too many", n)
	}
	if n == 1 {
		return []float64{lo}, nil
	}
	out := make([]float64, n)
	a, b := math.Log10(lo), math.Log10(hi)
	for i := range out {
		switch i {
		case 0:
			out[i] = lo
		case n - 1:
			out[i] = hi
		default:
			v := math.Pow(10, a+(b-a)*float64(i)/float64(n-1))
			out[i], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'e', 2, 64), 64)
		}
	}
	for i := 1; i < n; i++ {
		if !(out[i] > out[i-1]) {
			return nil, errors.Wrapf(ErrSyntax, "log range %v..%v is too narrow for %d distinct 3-digit points", lo, hi, n)
		}
	}
	return out, nil
}

// Config returns base with the values p sweeps put in: the seed of a
// seeded point, then its target ratio (the target sparsity cleared, λ
// cleared unless held), its target sparsity, or its λ and τ.
func (p Point) Config(base compress.Config) compress.Config {
	if p.Seeded {
		base.Seed = p.Seed
	}
	if p.TargetRatio != 0 {
		base.TargetRatio, base.TargetSparsity, base.Lambda = p.TargetRatio, 0, 0
		if p.Held {
			base.Lambda = p.Lambda
		}
		return base
	}
	if p.Target != 0 {
		base.TargetSparsity = p.Target
		return base
	}
	base.Lambda, base.Threshold = p.Lambda, p.Threshold
	return base
}
