package sweep

import (
	"image/color"
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

// Plot size: 800×500 pixels at 96 dpi.
const (
	plotWidth  = vg.Length(600)
	plotHeight = vg.Length(375)
	plotDPI    = 96
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
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "compression ratio (prunable weights / non-zero), log scale"
	p.Y.Label.Text = "test accuracy (%)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ratioTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true // high ratio and high accuracy: usually empty
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = -vg.Points(8)

	byMethod := map[string]plotter.XYs{}
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
	for i, m := range methods {
		xys := byMethod[m]
		sort.SliceStable(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
		for _, xy := range xys {
			minX, maxX = math.Min(minX, xy.X), math.Max(maxX, xy.X)
			minY, maxY = math.Min(minY, xy.Y), math.Max(maxY, xy.Y)
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return errors.Wrapf(err, "plot %s", m)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		points.Radius = vg.Points(4)
		p.Add(line, points)
		p.Legend.Add(m, line, points)
	}

	if len(bars) > 0 {
		xb, err := plotter.NewXErrorBars(bars)
		if err != nil {
			return errors.Wrap(err, "plot the ratio's spread")
		}
		yb, err := plotter.NewYErrorBars(bars)
		if err != nil {
			return errors.Wrap(err, "plot the accuracy's spread")
		}
		p.Add(xb, yb)
	}

	var front plotter.XYs
	for _, r := range ParetoFront(results) {
		if xy, ok := plottable(r); ok {
			front = append(front, xy)
		}
	}
	if len(front) > 0 {
		line, points, err := plotter.NewLinePoints(front)
		if err != nil {
			return errors.Wrap(err, "plot the Pareto front")
		}
		line.Color = color.Black
		line.Width = vg.Points(1)
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		points.Color = color.Black
		points.Shape = draw.RingGlyph{}
		points.Radius = vg.Points(6.5)
		p.Add(line, points)
		p.Legend.Add("Pareto front", line, points)
	}

	if len(methods) == 0 {
		minX, maxX, minY, maxY = 1, 10, 0, 100
	}
	// Pad the ranges so that the markers are not cut and a single point
	// still has an axis.
	p.X.Min, p.X.Max = minX/1.25, maxX*1.25
	pad := math.Max((maxY-minY)*0.08, 0.5)
	p.Y.Min, p.Y.Max = minY-pad, math.Min(maxY+pad, 100.5)
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}

	c := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(plotDPI))
	p.Draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return errors.Wrap(err, "write plot")
}

func plottable(r Result) (plotter.XY, bool) {
	if r.Accuracy == nil || r.Ratio == nil || math.IsNaN(*r.Accuracy) || !(*r.Ratio > 0) || math.IsInf(*r.Ratio, 0) {
		return plotter.XY{}, false
	}
	return plotter.XY{X: *r.Ratio, Y: 100 * *r.Accuracy}, true
}

// ratioTicks labels 1, 2 and 5 times the powers of ten in range (plot's
// LogTicks labels powers of ten only, which a narrow range may not contain),
// with unlabelled minor ticks at the other integer multiples.
type ratioTicks struct{}

func (ratioTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64) + "×"
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 { // label the ends too
		ticks = append(ticks, plot.Tick{Value: min, Label: strconv.FormatFloat(min, 'f', 1, 64) + "×"},
			plot.Tick{Value: max, Label: strconv.FormatFloat(max, 'f', 1, 64) + "×"})
	}
	return ticks
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

// errorBars are the spreads of the mean points: plotter.XYer, XErrorer
// and YErrorer.
type errorBars []errorBar

type errorBar struct {
	xy       plotter.XY
	xlo, xhi float64 // below and above the mean ratio
	y        float64 // the accuracy's standard deviation, in points
}

func (e errorBars) Len() int                        { return len(e) }
func (e errorBars) XY(i int) (float64, float64)     { return e[i].xy.X, e[i].xy.Y }
func (e errorBars) XError(i int) (float64, float64) { return e[i].xlo, e[i].xhi }
func (e errorBars) YError(i int) (float64, float64) { return e[i].y, e[i].y }
