package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/compress"
)

// TestRatioAndSeedPoints: target-ratio points and seeded points have
// distinct IDs that name the ratio and the seed; unseeded points keep the
// IDs they always had.
func TestRatioAndSeedPoints(t *testing.T) {
	ps := WithSeeds(RatioPoints("spred", []float64{30, 10, 30}, nil, 3e-3), []int64{2, 1, 2})
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID())
	}
	want := []string{
		"spred_lambda=0.0e+00_tau=3.0e-03_ratio=1.0e+01_seed=2", "spred_lambda=0.0e+00_tau=3.0e-03_ratio=1.0e+01_seed=1",
		"spred_lambda=0.0e+00_tau=3.0e-03_ratio=3.0e+01_seed=2", "spred_lambda=0.0e+00_tau=3.0e-03_ratio=3.0e+01_seed=1",
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("IDs %v, want %v", ids, want)
	}
	if id := (Point{Method: "spred", Lambda: 1e-4, Threshold: 3e-3, Seed: 5}).ID(); id != "spred_lambda=1.0e-04_tau=3.0e-03" {
		t.Errorf("unseeded ID %q", id)
	}
	if id := (Point{Method: "spred", Seed: 0, Seeded: true}).ID(); !strings.HasSuffix(id, "_seed=0") {
		t.Errorf("seed 0: ID %q", id)
	}
	if got, err := ParseSeeds(" 1,2 ,-3"); err != nil || len(got) != 3 || got[2] != -3 {
		t.Errorf("ParseSeeds: %v %v", got, err)
	}
	for _, bad := range []string{"", "1,", "1.5", "x"} {
		if _, err := ParseSeeds(bad); err == nil {
			t.Errorf("ParseSeeds(%q) accepted", bad)
		}
	}
}

// TestHeldRatioPoints: with λ values, a method with a λ gets one held
// point per ratio and λ (its λ in the ID and its config), one without λ
// one point per ratio; held points of different λ summarise apart, and a
// report of a fixed-λ run reads back as held.
func TestHeldRatioPoints(t *testing.T) {
	ps := RatioPoints("spred", []float64{30, 10}, []float64{3e-4, 2e-4, 3e-4}, 3e-3)
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID())
		if !p.Held {
			t.Errorf("%s not held", p.ID())
		}
	}
	want := []string{"spred_lambda=2.0e-04_tau=3.0e-03_ratio=1.0e+01", "spred_lambda=3.0e-04_tau=3.0e-03_ratio=1.0e+01",
		"spred_lambda=2.0e-04_tau=3.0e-03_ratio=3.0e+01", "spred_lambda=3.0e-04_tau=3.0e-03_ratio=3.0e+01"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("IDs %v, want %v", ids, want)
	}
	if cfg := ps[1].Config(compress.DefaultConfig()); cfg.Lambda != 3e-4 || cfg.TargetRatio != 10 {
		t.Errorf("held config: λ %v, ratio %v", cfg.Lambda, cfg.TargetRatio)
	}
	search := RatioPoints("spred", []float64{10}, nil, 3e-3)[0]
	if cfg := search.Config(compress.DefaultConfig()); search.Held || cfg.Lambda != 0 {
		t.Errorf("search point %+v: λ %v", search, cfg.Lambda)
	}
	if mag := RatioPoints("magnitude", []float64{10}, []float64{2e-4, 3e-4}, 3e-3); len(mag) != 1 || mag[0].Held || mag[0].Lambda != 0 {
		t.Errorf("magnitude points %+v", mag)
	}

	var rs []Result
	for i, p := range ps[:2] {
		acc := 0.98 - 0.01*float64(i)
		r := compress.Report{Settings: compress.Settings{Method: "spred", Lambda: p.Lambda, Threshold: 3e-3, Seed: 1},
			Target:   &compress.Target{Ratio: 10, Sparsity: 0.9, Search: compress.TargetFixed, Lambda: p.Lambda},
			Accuracy: compress.Stages{Finetuned: &acc}}
		res := FromReport(&r, p.ID()+".json")
		if !res.Held || res.ID() != p.ID() {
			t.Errorf("report of %s reads back as %s (held %v)", p.ID(), res.ID(), res.Held)
		}
		rs = append(rs, res)
	}
	if ss := Summarise(rs); len(ss) != 2 || ss[0].Lambda == ss[1].Lambda {
		t.Errorf("held λ 2e-4 and 3e-4 at 10× summarise as %+v", ss)
	}
}

// seedRuns: two points, each run with seeds 1, 2 and 3.
func seedRuns() []Result {
	var rs []Result
	for i, seed := range []int64{1, 2, 3} {
		for _, ratio := range []float64{10, 30} {
			got := ratio * (1 + 0.01*float64(i)) // 10, 10.1, 10.2 and 30, 30.3, 30.6
			errPct := ratio/10 + float64(i)      // 1, 2, 3 and 3, 4, 5
			acc, val := 1-errPct/100, errPct+0.5
			p := Point{Method: "spred", Threshold: 3e-3, TargetRatio: ratio, Seed: seed, Seeded: true}
			rs = append(rs, Result{Point: p, Ratio: &got, Accuracy: &acc, Error: errPct, ValError: &val, Seed: seed,
				NonZero: map[string]int{"fc/W": int(1000 / got)}, Layers: []string{"fc/W"}, WallSeconds: 2, Report: p.ID() + ".json"})
			rs[len(rs)-1].Lambda = 1e-4 * float64(seed) // the λ each seed found
		}
	}
	return rs
}

// TestSummarise: runs of one point over seeds are summarised by the mean
// and the sample standard deviation; a ratio point is one point whatever
// λ its seeds found.
func TestSummarise(t *testing.T) {
	ss := Summarise(seedRuns())
	if len(ss) != 2 || len(ss[0].Runs) != 3 || ss[0].TargetRatio != 10 || ss[1].TargetRatio != 30 {
		t.Fatalf("%d summaries: %+v", len(ss), ss)
	}
	s := ss[0]
	close := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !close(s.Ratio, 10.1) || !close(s.RatioStd, 0.1) || !close(s.Error, 2) || !close(s.ErrorStd, 1) ||
		!close(s.ValError, 2.5) || !close(s.Lambda, 2e-4) || s.WallSeconds != 6 {
		t.Errorf("summary %+v", s)
	}
	if m, sd := meanStd([]float64{4}); m != 4 || sd != 0 {
		t.Errorf("one run: %v ± %v", m, sd)
	}
	if m, _ := meanStd([]float64{4, math.Inf(1)}); !math.IsInf(m, 1) {
		t.Errorf("an infinite ratio: mean %v", m)
	}
}

// TestTableSeeds: the CSV keeps one row per run with its seed, target
// ratio and validation error beside the usual columns; the Markdown table
// has one row per point with mean ± std.
func TestTableSeeds(t *testing.T) {
	rs := seedRuns()
	Sort(rs)
	csvOut, md := Table(rs)
	lines := strings.Split(strings.TrimSpace(string(csvOut)), "\n")
	if len(lines) != 7 || lines[0] != "method,lambda,tau,compression_ratio,test_error_pct,seed,target_ratio,val_error_pct,nonzero_fc/W,wall_seconds,report" {
		t.Fatalf("csv:\n%s", csvOut)
	}
	if lines[1] != "spred,0.0001,0.003,10.0000,1.0000,1,10,1.5000,100,2.0,spred_lambda=0.0e+00_tau=3.0e-03_ratio=1.0e+01_seed=1.json" {
		t.Errorf("first row %q", lines[1])
	}
	for _, want := range []string{
		"| runs | compression (mean ± std) | test error (mean ± std) | validation error (mean ± std) | wall time (all runs) | reports |",
		"| spred | 0.0002 | 0.003 | 10× | 3 | 10.1× ± 0.1 | 2.00% ± 1.00 | 2.50% ± 1.00 | 6.0 s |",
		"| spred | 0.0002 | 0.003 | 30× | 3 | 30.3× ± 0.3 | 4.00% ± 1.00 | 4.50% ± 1.00 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	// One run per point: the usual table, with the target ratio.
	_, md = Table(rs[:1])
	if !strings.Contains(string(md), "| spred | 0.0001 | 0.003 | 10× | 10.0× | 1.00% | 1.50% | 100 |") {
		t.Errorf("single-run markdown:\n%s", md)
	}
}

// TestPlotSeeds: a sweep over seeds plots (means with error bars).
func TestPlotSeeds(t *testing.T) {
	var buf bytes.Buffer
	if err := Plot(seedRuns(), "seeds", &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatal(err)
	}
	rs, bars := means(Summarise(seedRuns()))
	if len(rs) != 2 || len(bars) != 2 || math.Abs(*rs[0].Ratio-10.1) > 1e-9 || math.Abs(*rs[0].Accuracy-0.98) > 1e-9 || math.Abs(bars[0].y-1) > 1e-9 {
		t.Errorf("means %+v, bars %+v", rs, bars)
	}
}

// TestFromReportTarget: a report of a target-ratio run gives its ratio,
// the λ found, its seed and its validation error.
func TestFromReportTarget(t *testing.T) {
	acc, val, got := 0.98, 0.97, 20.0
	r := compress.Report{Settings: compress.Settings{Method: "spred", Lambda: 6e-4, Threshold: 3e-3, Seed: 2},
		Target:     &compress.Target{Ratio: 20, Sparsity: 0.95, Search: compress.TargetContinuation, Lambda: 6e-4, Reached: &got},
		Validation: &compress.Validation{FinalAccuracy: &val}, Accuracy: compress.Stages{Finetuned: &acc}}
	res := FromReport(&r, "x.json")
	if res.TargetRatio != 20 || res.Lambda != 6e-4 || res.Seed != 2 || res.ValError == nil || math.Abs(*res.ValError-3) > 1e-9 {
		t.Errorf("result %+v", res)
	}
}

// TestParetoFrontOnValidation: when every result has a validation error,
// the front ranks by it, not by the test accuracy.
func TestParetoFrontOnValidation(t *testing.T) {
	mk := func(name string, ratio, acc, val float64) Result {
		return Result{Point: Point{Method: "spred"}, Ratio: &ratio, Accuracy: &acc, ValError: &val, Report: name}
	}
	// b has the better test accuracy at the same ratio, a the better
	// validation accuracy.
	rs := []Result{mk("a", 10, 0.97, 2), mk("b", 10, 0.98, 3)}
	if fr := ParetoFront(rs); len(fr) != 1 || fr[0].Report != "a" || *fr[0].Accuracy != 0.97 {
		t.Fatalf("front %+v", fr)
	}
	rs[1].ValError = nil
	if fr := ParetoFront(rs); len(fr) != 1 || fr[0].Report != "b" || FrontOnValidation(rs) {
		t.Fatalf("without a validation error for every run: front %+v", fr)
	}
}

// TestFrontOverMeans: with several seeds a point is on the front by its
// mean, not by its luckiest run, and is named by its point and its runs.
func TestFrontOverMeans(t *testing.T) {
	mk := func(method string, seed int64, val float64) Result {
		ratio, acc := 10.0, 0.9
		return Result{Point: Point{Method: method, Threshold: 3e-3, TargetRatio: 10, Seed: seed, Seeded: true},
			Ratio: &ratio, Accuracy: &acc, Error: 10, ValError: &val, Seed: seed, Report: fmt.Sprintf("%s-%d.json", method, seed)}
	}
	// magnitude has the best single run (5.0), spred the better mean
	// validation error (6.0 against 6.3).
	rs := []Result{mk("magnitude", 1, 5.0), mk("magnitude", 2, 7.0), mk("magnitude", 3, 7.0),
		mk("spred", 1, 6.0), mk("spred", 2, 6.0), mk("spred", 3, 6.0)}
	if fr := ParetoFront(rs); len(fr) != 1 || fr[0].Report != "magnitude-1.json" {
		t.Fatalf("front over runs %+v", fr)
	}
	fr := Front(rs)
	if len(fr) != 1 || fr[0].Method != "spred" || math.Abs(*fr[0].ValError-6) > 1e-9 {
		t.Fatalf("front over means %+v", fr)
	}
	if names := FrontNames(rs); len(names) != 1 || names[0] != "spred τ=0.003 10× (3 runs)" {
		t.Errorf("names %q", names)
	}
	if names := FrontNames(rs[:1]); len(names) != 1 || names[0] != "magnitude-1" {
		t.Errorf("one run: names %q", names)
	}
	dir := t.TempDir()
	for _, r := range rs {
		valAcc := 1 - *r.ValError/100
		b, _ := json.Marshal(compress.Report{Model: "m", Settings: compress.Settings{Method: r.Method, Threshold: r.Threshold, Seed: r.Seed},
			Target:     &compress.Target{Ratio: 10, Sparsity: 0.9, Reached: r.Ratio},
			Validation: &compress.Validation{FinalAccuracy: &valAcc}, Accuracy: compress.Stages{Thresholded: r.Accuracy},
			Totals: compress.Totals{CompressionRatio: r.Ratio}})
		if err := os.WriteFile(filepath.Join(dir, r.Report), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Merge(dir, "seeds", nil); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "sweep.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Pareto front (highest mean validation accuracy, so that no choice reads the test set for a given compression ratio), by ratio: spred τ=0.003 10× (3 runs)."; !strings.Contains(string(md), want) {
		t.Errorf("sweep.md lacks %q:\n%s", want, md)
	}
}
