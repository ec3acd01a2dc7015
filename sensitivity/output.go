package sensitivity

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteCSV writes the points as CSV with a header row: layer, curve,
// fraction, removed, of, accuracy, loss, flops.
func WriteCSV(w io.Writer, points []Point) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"layer", "curve", "fraction", "removed", "of", "accuracy", "loss", "flops"}}
	for _, p := range points {
		rows = append(rows, []string{p.Layer, p.Curve, strconv.FormatFloat(p.Fraction, 'g', -1, 64),
			strconv.Itoa(p.Removed), strconv.Itoa(p.Of), strconv.FormatFloat(p.Accuracy, 'f', 4, 64),
			strconv.FormatFloat(p.Loss, 'f', 4, 64), strconv.FormatInt(p.FLOPs, 10)})
	}
	if err := cw.WriteAll(rows); err != nil {
		return errors.Wrap(err, "write CSV")
	}
	return nil
}

// Plot draws two panels side by side as a 1100×450 PNG: test accuracy (%)
// against the fraction of weights pruned by magnitude, and against the
// fraction of units removed, one curve per layer in each. It needs no
// display.
func Plot(points []Point, title string, w io.Writer) error {
	const width, height = vg.Length(825), vg.Length(337.5) // 1100×450 pixels at 96 dpi
	var panels []*plot.Plot
	for _, curve := range []string{Sparsity, Units} {
		p := plot.New()
		switch curve {
		case Sparsity:
			p.Title.Text = title + ": weights pruned by magnitude, one layer at a time"
			p.X.Label.Text = "fraction of the layer's weights set to zero (%)"
		case Units:
			p.Title.Text = title + ": units removed, one layer at a time"
			p.X.Label.Text = "fraction of the layer's neurons or filters removed (%)"
		}
		p.Title.TextStyle.Font.Size = vg.Points(10)
		p.Y.Label.Text = "test accuracy (%)"
		p.Add(plotter.NewGrid())
		p.Legend.Left = true
		p.Legend.Top = false
		p.Legend.XOffs = vg.Points(8)
		p.Legend.YOffs = vg.Points(8)
		p.X.Min, p.X.Max = 0, 100
		p.Y.Min, p.Y.Max = 0, 100
		var layers []string
		byLayer := map[string]plotter.XYs{}
		for _, pt := range points {
			if pt.Curve != curve {
				continue
			}
			if _, ok := byLayer[pt.Layer]; !ok {
				layers = append(layers, pt.Layer)
			}
			byLayer[pt.Layer] = append(byLayer[pt.Layer], plotter.XY{X: 100 * float64(pt.Removed) / float64(pt.Of), Y: 100 * pt.Accuracy})
		}
		for i, name := range layers {
			line, pts, err := plotter.NewLinePoints(byLayer[name])
			if err != nil {
				return errors.Wrapf(err, "plot %s %s", name, curve)
			}
			line.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
			line.Width = vg.Points(1.5)
			pts.Shape = plotutil.Shape(i)
			pts.Radius = vg.Points(3)
			p.Add(line, pts)
			p.Legend.Add(layerLabel(name, points, curve), line, pts)
		}
		panels = append(panels, p)
	}
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(6), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	for i, p := range panels {
		p.Draw(tiles.At(dc, i, 0))
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return errors.Wrap(err, "write plot")
}

// layerLabel names a curve with the size it is a fraction of.
func layerLabel(name string, points []Point, curve string) string {
	for _, p := range points {
		if p.Layer == name && p.Curve == curve {
			if curve == Units {
				return fmt.Sprintf("%s (%d units)", name, p.Of)
			}
			return fmt.Sprintf("%s (%d weights)", name, p.Of)
		}
	}
	return name
}
