package featsel

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/spred-go/spred/internal/chart"
)

// Label names a report's method: "spred-linear", "spred-mlp" or
// "l1-logistic".
func (r *Report) Label() string {
	if r.Config.method() == MethodL1Logistic {
		return string(MethodL1Logistic)
	}
	return string(MethodSpred) + "-" + string(r.Config.head())
}

// WriteText writes one line per point: the target, the cross-validated
// accuracy (mean ± std over repeats), the features per fold, their
// overlap, and the features selected on all samples (the first 10).
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s on %s (%d samples × %d features, classes %v), %d-fold CV × %d repeats, seed %d\n",
		r.Label(), r.Data, r.Samples, r.Features, r.Classes, r.CV.Folds, r.CV.Repeats, r.CV.Seed)
	if r.Constant > 0 {
		fmt.Fprintf(&b, "%d constant features (never selected)\n", r.Constant)
	}
	for _, p := range r.Points {
		fmt.Fprintf(&b, "%-8s accuracy %6.2f%% ± %.2f  features %.1f ± %.1f  overlap %.2f  all samples (λ %.4g): ",
			p.Target, 100*p.Accuracy, 100*p.AccuracyStd, p.SelectedMean, p.SelectedStd, p.Overlap, p.All.Lambda)
		for q, f := range p.All.Features {
			if q == 10 {
				fmt.Fprintf(&b, " ... (%d)", len(p.All.Features))
				break
			}
			if q > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.Name)
		}
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Table renders reports side by side as a Markdown table: one row per
// target (in the order they first appear), one column per report, each
// cell "accuracy% ± std (mean features)".
func Table(reports []*Report) []byte {
	var targets []Target
	seen := map[Target]bool{}
	for _, r := range reports {
		for _, p := range r.Points {
			if !seen[p.Target] {
				seen[p.Target] = true
				targets = append(targets, p.Target)
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("| target |")
	for _, r := range reports {
		fmt.Fprintf(&b, " %s |", r.Label())
	}
	b.WriteString("\n|---|")
	for range reports {
		b.WriteString("---:|")
	}
	b.WriteByte('\n')
	for _, t := range targets {
		if t.Features > 0 {
			fmt.Fprintf(&b, "| ≤ %d features |", t.Features)
		} else {
			fmt.Fprintf(&b, "| λ = %g |", t.Lambda)
		}
		for _, r := range reports {
			cell := " |"
			for _, p := range r.Points {
				if p.Target == t {
					cell = fmt.Sprintf(" %.1f%% ± %.1f (%.1f) |", 100*p.Accuracy, 100*p.AccuracyStd, p.SelectedMean)
				}
			}
			b.WriteString(cell)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Plot draws the cross-validated accuracy (%) against the mean number of
// selected features (log axis) as a 800×500 PNG, one line per report with
// error bars of ± one standard deviation over repeats. It needs no display.
func Plot(reports []*Report, title string, w io.Writer) error {
	pn := chart.Panel{Title: title,
		X:      chart.Axis{Label: "selected features (mean over folds), log scale", Log: true, Ticks: chart.TicksLog},
		Y:      chart.Axis{Label: "cross-validated accuracy (%)"},
		Legend: chart.BottomRight}
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, r := range reports {
		var pts []chart.Point
		for _, pt := range r.Points {
			if !(pt.SelectedMean > 0) || math.IsNaN(pt.Accuracy) {
				continue
			}
			e := 100 * pt.AccuracyStd
			pts = append(pts, chart.Point{X: pt.SelectedMean, Y: 100 * pt.Accuracy, YLow: e, YHigh: e})
		}
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		for _, q := range pts {
			minX, maxX = math.Min(minX, q.X), math.Max(maxX, q.X)
			minY, maxY = math.Min(minY, q.Y-q.YLow), math.Max(maxY, q.Y+q.YHigh)
		}
		// A report without plottable points is left out and takes no colour.
		pn.Series = append(pn.Series, chart.Series{Name: r.Label(), Points: pts, YErrors: true})
	}
	if math.IsInf(minX, 1) {
		minX, maxX, minY, maxY = 1, 10, 0, 100
	}
	pn.X.Min, pn.X.Max = minX/1.3, maxX*1.3
	pad := math.Max((maxY-minY)*0.08, 0.5)
	pn.Y.Min, pn.Y.Max = minY-pad, math.Min(maxY+pad, 101)
	if pn.Y.Max <= pn.Y.Min {
		pn.Y.Max = pn.Y.Min + 1
	}
	return chart.Render(chart.Figure{Width: 800, Height: 500, Panels: []chart.Panel{pn}}, w)
}
