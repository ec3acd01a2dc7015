package featsel

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
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
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "selected features (mean over folds), log scale"
	p.Y.Label.Text = "cross-validated accuracy (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = countTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = false
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, r := range reports {
		var pts []struct{ x, y, e float64 }
		for _, pt := range r.Points {
			if !(pt.SelectedMean > 0) || math.IsNaN(pt.Accuracy) {
				continue
			}
			pts = append(pts, struct{ x, y, e float64 }{pt.SelectedMean, 100 * pt.Accuracy, 100 * pt.AccuracyStd})
		}
		if len(pts) == 0 {
			continue
		}
		sort.SliceStable(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
		xys := make(plotter.XYs, len(pts))
		errs := make(plotter.YErrors, len(pts))
		for k, q := range pts {
			xys[k] = plotter.XY{X: q.x, Y: q.y}
			errs[k].Low, errs[k].High = q.e, q.e
			minX, maxX = math.Min(minX, q.x), math.Max(maxX, q.x)
			minY, maxY = math.Min(minY, q.y-q.e), math.Max(maxY, q.y+q.e)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return errors.Wrapf(err, "plot %s", r.Label())
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		points.Radius = vg.Points(4)
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, errs})
		if err != nil {
			return errors.Wrapf(err, "plot %s", r.Label())
		}
		bars.Color = plotutil.Color(i)
		p.Add(line, points, bars)
		p.Legend.Add(r.Label(), line, points)
	}
	if math.IsInf(minX, 1) {
		minX, maxX, minY, maxY = 1, 10, 0, 100
	}
	p.X.Min, p.X.Max = minX/1.3, maxX*1.3
	pad := math.Max((maxY-minY)*0.08, 0.5)
	p.Y.Min, p.Y.Max = minY-pad, math.Min(maxY+pad, 101)
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(600), vg.Length(375)), vgimg.UseDPI(96))
	p.Draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return errors.Wrap(err, "write plot")
}

// countTicks labels 1, 2 and 5 times the powers of ten in range, with
// unlabelled minor ticks at the other integer multiples.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
