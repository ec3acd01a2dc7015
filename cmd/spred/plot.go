package main

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/internal/chart"
	"github.com/spred-go/spred/train"
)

// plotFlag is --plot of `spred train` and `spred compress`.
var plotFlag = &cli.StringFlag{Name: "plot", Usage: "write a PNG of the run here: loss and accuracy per epoch (compress: also sparsity at τ, λ when it changes, the fine-tuning boundary and the non-zeros per layer before and after)"}

// Widths and heights of the run plots, in pixels.
const (
	runPlotWidth = 900
	runPanelH    = 300
)

// Colours of the run plots' series.
var (
	trainColour = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	testColour  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	sparseColor = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	lambdaColor = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
)

// epochCurves holds the per-epoch values of a run, numbered 1, 2, … over
// all its phases.
type epochCurves struct {
	trainLoss, testLoss, trainAcc, testAcc []chart.Point
}

func (e *epochCurves) add(x float64, s train.EpochStats, test bool) {
	e.trainLoss = append(e.trainLoss, chart.Point{X: x, Y: s.TrainLoss})
	e.trainAcc = append(e.trainAcc, chart.Point{X: x, Y: 100 * s.TrainAcc})
	if test {
		e.testLoss = append(e.testLoss, chart.Point{X: x, Y: s.TestLoss})
		e.testAcc = append(e.testAcc, chart.Point{X: x, Y: 100 * s.TestAcc})
	}
}

// panels are the loss and the accuracy panels of the curves, with the
// extra series of the accuracy panel and the phase markers.
func (e *epochCurves) panels(title string, epochs int, acc []chart.Series, markers []chart.Marker) []chart.Panel {
	x := chart.Axis{Label: "epoch", Ticks: chart.TicksInteger, Min: 0.5, Max: float64(epochs) + 0.5}
	loss := chart.Panel{Title: title, X: x, Y: chart.Axis{Label: "mean cross-entropy loss"}, Markers: markers,
		Series: []chart.Series{
			{Name: "train", Points: e.trainLoss, Color: trainColour},
			{Name: "test", Points: e.testLoss, Color: testColour, Style: chart.Dashed},
		}}
	accuracy := chart.Panel{X: x, Y: chart.Axis{Label: "%"}, Markers: markers, Legend: chart.BottomRight,
		Series: append([]chart.Series{
			{Name: "train accuracy", Points: e.trainAcc, Color: trainColour},
			{Name: "test accuracy", Points: e.testAcc, Color: testColour, Style: chart.Dashed},
		}, acc...)}
	return []chart.Panel{loss, accuracy}
}

// trainFigure is the plot of `spred train --plot`: loss and accuracy per
// epoch.
func trainFigure(title string, hist []train.EpochStats) chart.Figure {
	var e epochCurves
	for i, s := range hist {
		e.add(float64(i+1), s, true)
	}
	return chart.Figure{Width: runPlotWidth, Height: 2 * runPanelH, Panels: e.panels(title, len(hist), nil, nil)}
}

// compressFigure is the plot of `spred compress --plot`: loss, accuracy
// and sparsity at τ per epoch with a marker where each phase begins, λ per
// epoch when it changes, and the non-zeros of every prunable layer before
// (in the input model) and after.
func compressFigure(title string, rep *compress.Report, before []compress.LayerStats) chart.Figure {
	var e epochCurves
	var sparsity, lambda []chart.Point
	var markers []chart.Marker
	lambdas := map[float64]bool{}
	for i, s := range rep.History {
		x := float64(i + 1)
		e.add(x, s.EpochStats, rep.Accuracy.Dense != nil)
		sparsity = append(sparsity, chart.Point{X: x, Y: 100 * s.Sparsity})
		if s.Lambda > 0 {
			lambda = append(lambda, chart.Point{X: x, Y: s.Lambda})
			lambdas[s.Lambda] = true
		}
		if i > 0 && s.Phase != rep.History[i-1].Phase {
			label := s.Phase
			if s.Phase == compress.PhaseFinetune {
				label = "fine-tuning"
			}
			markers = append(markers, chart.Marker{X: x - 0.5, Label: label})
		}
	}
	if len(lambdas) == 1 {
		title += fmt.Sprintf(" (λ = %g)", lambda[0].Y)
	}
	panels := e.panels(title, len(rep.History), []chart.Series{
		{Name: fmt.Sprintf("sparsity at τ = %g", rep.Settings.Threshold), Points: sparsity, Color: sparseColor, Style: chart.Dashed},
	}, markers)
	if len(lambdas) > 1 {
		panels = append(panels, chart.Panel{X: panels[0].X, Markers: markers, Legend: chart.BottomRight,
			Y:      chart.Axis{Label: "λ, log scale", Log: true, Ticks: chart.TicksLog},
			Series: []chart.Series{{Name: "λ", Points: lambda, Color: lambdaColor}}})
	}
	panels = append(panels, layerPanel(rep.Layers, before))
	return chart.Figure{Width: runPlotWidth, Height: len(panels) * runPanelH, Panels: panels}
}

// layerPanel shows the non-zeros of every layer of after, and of the layer
// of the same name in before, on a log axis (a layer with none is not
// drawn).
func layerPanel(after, before []compress.LayerStats) chart.Panel {
	nz := map[string]int{}
	for _, l := range before {
		nz[l.Name] = l.NonZero
	}
	var names []string
	var was, is []chart.Point
	for i, l := range after {
		names = append(names, l.Name)
		if n, ok := nz[l.Name]; ok && n > 0 {
			was = append(was, chart.Point{X: float64(i), Y: float64(n)})
		}
		if l.NonZero > 0 {
			is = append(is, chart.Point{X: float64(i), Y: float64(l.NonZero)})
		}
	}
	return chart.Panel{Title: "non-zero prunable weights per layer", Legend: chart.BottomLeft,
		X: chart.Axis{Ticks: chart.TicksNames, Names: names, Min: -0.5, Max: float64(len(after)) - 0.5},
		Y: chart.Axis{Label: "non-zero weights, log scale", Log: true, Ticks: chart.TicksLog},
		Series: []chart.Series{
			{Name: "before", Points: was, Style: chart.Points, Glyph: chart.CircleGlyph, Radius: 6, Color: trainColour},
			{Name: "after", Points: is, Style: chart.Points, Glyph: chart.CircleGlyph, Radius: 4, Color: testColour},
		}}
}

// writePlot renders f to path (atomically).
func writePlot(path string, f chart.Figure) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return chart.Render(f, w) })
	return errors.Wrapf(err, "write plot %s", path)
}

// withPlotLink appends to the Markdown write writes a link to the plot at
// plotPath, relative to the folder of mdPath.
func withPlotLink(write func(io.Writer) error, mdPath, plotPath string) func(io.Writer) error {
	return func(w io.Writer) error {
		if err := write(w); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "\n![loss, accuracy and non-zeros of the run](%s)\n", relLink(mdPath, plotPath))
		return err
	}
}

// relLink is target relative to the folder of from, with forward slashes
// and in angle brackets when it holds characters a Markdown link cannot.
func relLink(from, target string) string {
	link := target
	if a, err := filepath.Abs(filepath.Dir(from)); err == nil {
		if b, err := filepath.Abs(target); err == nil {
			if rel, err := filepath.Rel(a, b); err == nil {
				link = rel
			}
		}
	}
	link = filepath.ToSlash(link)
	if strings.ContainsAny(link, " ()<>") {
		link = "<" + link + ">"
	}
	return link
}
