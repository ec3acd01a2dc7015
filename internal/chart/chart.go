// Package chart draws the toolkit's figures: a declarative Figure of one or
// more Panels, rendered to PNG with gonum.org/v1/plot. The same Figure
// always gives the same bytes, and no display is needed.
package chart

import (
	"image/color"
	"io"
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DPI is the resolution figures are rendered at: a Figure's Width and
// Height are in pixels at this resolution.
const DPI = 96

// Figure is a picture of Panels laid out in a grid of Cols columns (1 when
// Cols is 0: the panels are stacked vertically), filled row by row.
type Figure struct {
	Width, Height int // in pixels
	Cols          int
	Panels        []Panel
}

// Panel is one plot: axes, a grid, series, vertical markers and a legend.
type Panel struct {
	Title string
	// TitleSize is the title's font size in points (0: gonum's default).
	TitleSize float64
	X, Y      Axis
	Series    []Series
	Markers   []Marker
	Legend    Legend
}

// Ticks selects how an Axis places and labels its ticks.
type Ticks int

const (
	// TicksDefault are gonum's: plot.DefaultTicks on a linear axis,
	// plot.LogTicks on a log axis.
	TicksDefault Ticks = iota
	// TicksLog are LogTicks with Axis.Suffix: 1, 2 and 5 times the powers
	// of ten labelled, the other integer multiples unlabelled.
	TicksLog
	// TicksInteger are IntegerTicks: whole numbers only.
	TicksInteger
	// TicksNames label the integers 0, 1, … with Axis.Names.
	TicksNames
)

// Axis describes one axis of a Panel.
type Axis struct {
	Label string
	Log   bool // a logarithmic scale; every value drawn must be positive
	Ticks Ticks
	// Suffix is appended to the labels of LogTicks (for example "×").
	Suffix string
	// Names are the labels of TicksNames.
	Names []string
	// Min and Max fix the range when Min < Max; otherwise it fits the data.
	Min, Max float64
}

// Style is how a Series is drawn.
type Style int

const (
	// LinePoints joins the points with a solid line and marks each one.
	LinePoints Style = iota
	// Line joins the points with a solid line.
	Line
	// Points marks the points only.
	Points
	// Dashed joins the points with a dashed line and marks each one.
	Dashed
	// ErrorsOnly draws the error bars and nothing else.
	ErrorsOnly
)

// Glyph is the marker of a Series' points.
type Glyph int

const (
	// AutoGlyph is the palette's shape for the series' colour index.
	AutoGlyph Glyph = iota
	// RingGlyph is a hollow circle.
	RingGlyph
	// CircleGlyph is a filled circle.
	CircleGlyph
)

// Point is one value of a Series with optional error bars: XLow and XHigh
// below and above X, YLow and YHigh below and above Y.
type Point struct {
	X, Y        float64
	XLow, XHigh float64
	YLow, YHigh float64
}

// Series is one set of points of a Panel. Series without a Color take the
// next colour and shape of plotutil's palette, in order.
type Series struct {
	Name   string // the legend entry; empty: none
	Points []Point
	Style  Style
	Color  color.Color // nil: the palette's
	Glyph  Glyph
	// Radius of the markers and Width of the line, in points (0: 4 and 1.5).
	Radius, Width float64
	// XErrors and YErrors draw the points' error bars.
	XErrors, YErrors bool
	// ErrorColor colours the error bars (nil: the series' colour).
	ErrorColor color.Color
}

// Marker is a labelled vertical line at X across a Panel.
type Marker struct {
	X     float64
	Label string
	Color color.Color // nil: grey
}

// Legend places a Panel's legend in one of its corners, inset by 8 points.
type Legend int

// The corners of a Legend.
const (
	TopRight Legend = iota // the default
	BottomRight
	BottomLeft
	TopLeft
)

// Render draws f as a PNG to w.
func Render(f Figure, w io.Writer) error {
	if f.Width <= 0 || f.Height <= 0 {
		return errors.Errorf("chart: figure size %d×%d", f.Width, f.Height)
	}
	if len(f.Panels) == 0 {
		return errors.New("chart: figure without panels")
	}
	cols := f.Cols
	if cols <= 0 {
		cols = 1
	}
	rows := (len(f.Panels) + cols - 1) / cols
	px := vg.Length(72.0 / DPI)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(f.Width)*px, vg.Length(f.Height)*px), vgimg.UseDPI(DPI))
	dc := draw.New(c)
	plots := make([]*plot.Plot, len(f.Panels))
	for i, pn := range f.Panels {
		p, err := build(pn)
		if err != nil {
			return errors.Wrapf(err, "chart: panel %d (%s)", i+1, pn.Title)
		}
		plots[i] = p
	}
	if len(plots) == 1 {
		plots[0].Draw(dc)
	} else {
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
			PadTop: vg.Points(6), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
		for i, p := range plots {
			p.Draw(tiles.At(dc, i%cols, i/cols))
		}
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return errors.Wrap(err, "chart: write PNG")
}

// build makes the gonum plot of one panel.
func build(pn Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	if pn.TitleSize > 0 {
		p.Title.TextStyle.Font.Size = vg.Points(pn.TitleSize)
	}
	setAxis(&p.X, pn.X)
	setAxis(&p.Y, pn.Y)
	p.Add(plotter.NewGrid())
	switch pn.Legend {
	case TopRight:
		p.Legend.Top, p.Legend.XOffs, p.Legend.YOffs = true, -vg.Points(8), -vg.Points(8)
	case BottomRight:
		p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), vg.Points(8)
	case BottomLeft:
		p.Legend.Left, p.Legend.XOffs, p.Legend.YOffs = true, vg.Points(8), vg.Points(8)
	case TopLeft:
		p.Legend.Top, p.Legend.Left, p.Legend.XOffs, p.Legend.YOffs = true, true, vg.Points(8), -vg.Points(8)
	}
	palette := 0
	for _, s := range pn.Series {
		if len(s.Points) == 0 {
			continue
		}
		col, shape := s.Color, plotutil.Shape(palette)
		if col == nil {
			col = plotutil.Color(palette)
			palette++
		}
		switch s.Glyph {
		case RingGlyph:
			shape = draw.RingGlyph{}
		case CircleGlyph:
			shape = draw.CircleGlyph{}
		}
		if err := addSeries(p, s, col, shape); err != nil {
			return nil, errors.Wrapf(err, "series %q", s.Name)
		}
	}
	for _, m := range pn.Markers {
		addMarker(p, m, pn.Y)
	}
	return p, nil
}

func setAxis(a *plot.Axis, ax Axis) {
	a.Label.Text = ax.Label
	if ax.Log {
		a.Scale = plot.LogScale{}
		a.Tick.Marker = plot.LogTicks{}
	}
	switch ax.Ticks {
	case TicksLog:
		a.Tick.Marker = logTicks{suffix: ax.Suffix}
	case TicksInteger:
		a.Tick.Marker = integerTicks{}
	case TicksNames:
		a.Tick.Marker = nameTicks(ax.Names)
	}
	if ax.Min < ax.Max {
		a.Min, a.Max = ax.Min, ax.Max
	}
}

func addSeries(p *plot.Plot, s Series, col color.Color, shape draw.GlyphDrawer) error {
	xys := make(plotter.XYs, len(s.Points))
	for i, q := range s.Points {
		xys[i] = plotter.XY{X: q.X, Y: q.Y}
	}
	radius, width := vg.Points(4), vg.Points(1.5)
	if s.Radius > 0 {
		radius = vg.Points(s.Radius)
	}
	if s.Width > 0 {
		width = vg.Points(s.Width)
	}
	var thumbs []plot.Thumbnailer
	if s.Style == LinePoints || s.Style == Line || s.Style == Dashed {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = col, width
		if s.Style == Dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		thumbs = append(thumbs, l)
	}
	if s.Style == LinePoints || s.Style == Points || s.Style == Dashed {
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		sc.Color, sc.Shape, sc.Radius = col, shape, radius
		p.Add(sc)
		thumbs = append(thumbs, sc)
	}
	ecol := s.ErrorColor
	if ecol == nil {
		ecol = col
	}
	if s.XErrors {
		b, err := plotter.NewXErrorBars(errPoints(s.Points))
		if err != nil {
			return err
		}
		b.Color = ecol
		p.Add(b)
	}
	if s.YErrors {
		b, err := plotter.NewYErrorBars(errPoints(s.Points))
		if err != nil {
			return err
		}
		b.Color = ecol
		p.Add(b)
	}
	if s.Name != "" {
		p.Legend.Add(s.Name, thumbs...)
	}
	return nil
}

// errPoints are Points as plotter.XYer, XErrorer and YErrorer.
type errPoints []Point

func (e errPoints) Len() int                        { return len(e) }
func (e errPoints) XY(i int) (float64, float64)     { return e[i].X, e[i].Y }
func (e errPoints) XError(i int) (float64, float64) { return e[i].XLow, e[i].XHigh }
func (e errPoints) YError(i int) (float64, float64) { return e[i].YLow, e[i].YHigh }

// marker draws a vertical line across the data area, labelled at its top.
type marker struct {
	Marker
	log bool // the y axis is logarithmic
}

func addMarker(p *plot.Plot, m Marker, y Axis) {
	p.Add(marker{Marker: m, log: y.Log})
}

func (m marker) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	xc := x(m.X)
	if xc < c.Min.X || xc > c.Max.X {
		return
	}
	col := m.Color
	if col == nil {
		col = color.Gray{Y: 0x60}
	}
	ls := draw.LineStyle{Color: col, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	c.StrokeLine2(ls, xc, c.Min.Y, xc, c.Max.Y)
	if m.Label != "" {
		ts := draw.TextStyle{Color: col, Font: plot.DefaultFont, XAlign: draw.XLeft, YAlign: draw.YTop}
		ts.Font.Size = vg.Points(9)
		ts.Handler = p.Title.TextStyle.Handler
		c.FillText(ts, vg.Point{X: xc + vg.Points(3), Y: c.Max.Y - vg.Points(2)}, m.Label)
	}
}

// DataRange implements plot.DataRanger: a marker widens the x range to its
// position and leaves the y range to the other series.
func (m marker) DataRange() (xmin, xmax, ymin, ymax float64) {
	return m.X, m.X, math.Inf(1), math.Inf(-1)
}
