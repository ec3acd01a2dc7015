package sensitivity

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/chart"
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
	var panels []chart.Panel
	for _, curve := range []string{Sparsity, Units} {
		pn := chart.Panel{TitleSize: 10, Legend: chart.BottomLeft,
			X: chart.Axis{Min: 0, Max: 100}, Y: chart.Axis{Label: "test accuracy (%)", Min: 0, Max: 100}}
		switch curve {
		case Sparsity:
			pn.Title = title + ": weights pruned by magnitude, one layer at a time"
			pn.X.Label = "fraction of the layer's weights set to zero (%)"
		case Units:
			pn.Title = title + ": units removed, one layer at a time"
			pn.X.Label = "fraction of the layer's neurons or filters removed (%)"
		}
		var layers []string
		byLayer := map[string][]chart.Point{}
		for _, pt := range points {
			if pt.Curve != curve {
				continue
			}
			if _, ok := byLayer[pt.Layer]; !ok {
				layers = append(layers, pt.Layer)
			}
			byLayer[pt.Layer] = append(byLayer[pt.Layer], chart.Point{X: 100 * float64(pt.Removed) / float64(pt.Of), Y: 100 * pt.Accuracy})
		}
		for _, name := range layers {
			pn.Series = append(pn.Series, chart.Series{Name: layerLabel(name, points, curve), Points: byLayer[name], Radius: 3})
		}
		panels = append(panels, pn)
	}
	return chart.Render(chart.Figure{Width: 1100, Height: 450, Cols: 2, Panels: panels}, w)
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
