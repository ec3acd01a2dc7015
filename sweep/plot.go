package sweep

import (
	"image/color"
	"io"
	"math"
	"sort"

	"github.com/spred-go/spred/internal/chart"
)

// Plot draws test accuracy (%) against compression ratio (log axis) as an
// 800×500 PNG: one line with points per method (sorted by ratio), and the
// Pareto front over all methods as a dashed black line through larger
// hollow circles, with the legend at the top right. Results without an accuracy or with an infinite ratio are
// left out. When a point was run with several seeds (Summarise), each point
// is drawn once at its mean ratio and accuracy, with bars of ± one standard
// deviation of both. It needs no display.
func Plot(results []Result, title string, w io.Writer) error {
	var bars errorBars
	if ss := Summarise(results); repeated(ss) {
		results, bars = means(ss)
	}
	pn := chart.Panel{Title: title,
		X: chart.Axis{Label: "compression ratio (prunable weights / non-zero), log scale", Log: true, Ticks: chart.TicksLog, Suffix: "×"},
		Y: chart.Axis{Label: "test accuracy (%)"}, Legend: chart.TopRight} // high ratio and high accuracy: usually empty

	byMethod := map[string][]chart.Point{}
	var methods []string
	for _, r := range results {
		xy, ok := plottable(r)
		if !ok {
			continue
		}
		if _, ok := byMethod[r.Series()]; !ok {
			methods = append(methods, r.Series())
		}
		byMethod[r.Series()] = append(byMethod[r.Series()], xy)
	}
	sort.Strings(methods)
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, m := range methods {
		pts := byMethod[m]
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		for _, q := range pts {
			minX, maxX = math.Min(minX, q.X), math.Max(maxX, q.X)
			minY, maxY = math.Min(minY, q.Y), math.Max(maxY, q.Y)
		}
		pn.Series = append(pn.Series, chart.Series{Name: m, Points: pts})
	}
	if len(bars) > 0 {
		pts := make([]chart.Point, len(bars))
		for i, b := range bars {
			pts[i] = chart.Point{X: b.xy.X, Y: b.xy.Y, XLow: b.xlo, XHigh: b.xhi, YLow: b.y, YHigh: b.y}
		}
		pn.Series = append(pn.Series, chart.Series{Points: pts, Style: chart.ErrorsOnly, Color: color.Black,
			XErrors: true, YErrors: true})
	}
	var front []chart.Point
	for _, r := range ParetoFront(results) { // results are the means here when a point has several runs
		if xy, ok := plottable(r); ok {
			front = append(front, xy)
		}
	}
	pn.Series = append(pn.Series, chart.Series{Name: "Pareto front", Points: front, Style: chart.Dashed, Color: color.Black,
		Glyph: chart.RingGlyph, Radius: 6.5, Width: 1})

	if len(methods) == 0 {
		minX, maxX, minY, maxY = 1, 10, 0, 100
	}
	// Pad the ranges so that the markers are not cut and a single point
	// still has an axis.
	pn.X.Min, pn.X.Max = minX/1.25, maxX*1.25
	pad := math.Max((maxY-minY)*0.08, 0.5)
	pn.Y.Min, pn.Y.Max = minY-pad, math.Min(maxY+pad, 100.5)
	if pn.Y.Max <= pn.Y.Min {
		pn.Y.Max = pn.Y.Min + 1
	}
	return chart.Render(chart.Figure{Width: 800, Height: 500, Panels: []chart.Panel{pn}}, w)
}

func plottable(r Result) (chart.Point, bool) {
	if r.Accuracy == nil || r.Ratio == nil || math.IsNaN(*r.Accuracy) || !(*r.Ratio > 0) || math.IsInf(*r.Ratio, 0) {
		return chart.Point{}, false
	}
	return chart.Point{X: *r.Ratio, Y: 100 * *r.Accuracy}, true
}

// means returns one result per point of ss at the mean ratio and accuracy
// of its runs, and the spread of every plottable one.
func means(ss []Summary) ([]Result, errorBars) {
	var out []Result
	var bars errorBars
	for _, s := range ss {
		r := Result{Point: s.Point, Model: s.Runs[0].Model, Error: s.Error, Report: s.Runs[0].Report}
		if !math.IsInf(s.Ratio, 0) {
			r.Ratio = &s.Ratio
		}
		if !math.IsNaN(s.Error) {
			acc := 1 - s.Error/100
			r.Accuracy = &acc
		}
		if !math.IsNaN(s.ValError) {
			v := s.ValError
			r.ValError = &v
		}
		out = append(out, r)
		if xy, ok := plottable(r); ok {
			// On the log axis the bar must stay right of 0.
			bars = append(bars, errorBar{xy: xy, xlo: math.Min(s.RatioStd, xy.X/2), xhi: s.RatioStd, y: s.ErrorStd})
		}
	}
	return out, bars
}

// errorBars are the spreads of the mean points.
type errorBars []errorBar

type errorBar struct {
	xy       chart.Point
	xlo, xhi float64 // below and above the mean ratio
	y        float64 // the accuracy's standard deviation, in points
}
