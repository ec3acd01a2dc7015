package sweep

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// Merge writes the tables sweep.csv and sweep.md (Table, with refs, then
// the IDs of the Pareto front) and the plot sweep.png (Plot, under title)
// of the reports in the folder dir, however they were produced, each
// atomically, and returns the Results it tabulated (Load). A folder
// without reports is an error.
func Merge(dir, title string, refs []Reference) ([]Result, error) {
	rs, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errors.Errorf("no compression reports (*.json) in %s", dir)
	}
	csvOut, md := Table(rs, refs...)
	on := "accuracy"
	if FrontOnValidation(rs) {
		on = "validation accuracy, so that no choice reads the test set"
	}
	ss := Summarise(rs)
	if repeated(ss) {
		on = "mean " + on
	}
	md = append(md, fmt.Sprintf("\nPareto front (highest %s for a given compression ratio), by ratio: %s.\n", on, strings.Join(frontNames(rs, ss), ", "))...)
	if err := atomicfile.WriteBytes(filepath.Join(dir, "sweep.csv"), csvOut); err != nil {
		return nil, errors.Wrap(err, "write the sweep table")
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "sweep.md"), md); err != nil {
		return nil, errors.Wrap(err, "write the sweep table")
	}
	if err := atomicfile.Write(filepath.Join(dir, "sweep.png"), func(w io.Writer) error { return Plot(rs, title, w) }); err != nil {
		return nil, errors.Wrap(err, "write the sweep plot")
	}
	return rs, nil
}

// Front is the Pareto front as the Markdown table and the plot show it:
// when a point ran with several seeds, over the points' means (Summarise),
// each standing for all its runs, so that the luckiest seed of a point is
// not its place on the front; else over the runs (ParetoFront).
func Front(results []Result) []Result { return front(results, Summarise(results)) }

// front is Front given the results' summaries.
func front(results []Result, ss []Summary) []Result {
	if repeated(ss) {
		ms, _ := means(ss)
		return ParetoFront(ms)
	}
	return ParetoFront(results)
}

// FrontNames names the points of Front: a run by its report's base name
// without ".json" (the point's ID, for the points a sweep ran); a mean by
// its series, λ when one was asked or held, τ, the target and the number
// of runs ("spred λ=0.0004 τ=0.003 10× (3 runs)").
func FrontNames(results []Result) []string { return frontNames(results, Summarise(results)) }

// frontNames is FrontNames given the results' summaries.
func frontNames(results []Result, ss []Summary) []string {
	if !repeated(ss) {
		var ids []string
		for _, r := range ParetoFront(results) {
			ids = append(ids, strings.TrimSuffix(r.Report, ".json"))
		}
		return ids
	}
	runs := map[Point]int{}
	for _, s := range ss {
		runs[s.Point] = len(s.Runs)
	}
	var names []string
	for _, r := range front(results, ss) {
		name := r.Series()
		if r.Lambda != 0 {
			name += fmt.Sprintf(" λ=%g", r.Lambda)
		}
		if r.Threshold != 0 {
			name += fmt.Sprintf(" τ=%g", r.Threshold)
		}
		switch {
		case r.TargetRatio != 0:
			name += " " + fmtTargetRatio(r.TargetRatio)
		case r.Target != 0:
			name += fmt.Sprintf(" target=%g", r.Target)
		}
		if n := runs[r.Point]; n == 1 {
			name += " (1 run)"
		} else {
			name += fmt.Sprintf(" (%d runs)", n)
		}
		names = append(names, name)
	}
	return names
}
