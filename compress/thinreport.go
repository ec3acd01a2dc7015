package compress

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spred-go/spred/models"
)

// countThinned fills Layers and Totals with the non-zeros of the thinned
// model m against the shapes and counts of the original spec, so that
// ratios compare with element-wise runs.
func (r *Report) countThinned(orig models.Spec, m *models.Model) error {
	infos, err := orig.Params()
	if err != nil {
		return err
	}
	r.Model = m.Spec.Name
	r.Layers = nil
	r.Totals = Totals{}
	for _, pi := range infos {
		n := 1
		for _, d := range pi.Shape {
			n *= d
		}
		nz := 0
		if p := m.Params.Get(pi.Name); p != nil {
			nz = p.NonZero()
		}
		r.Totals.AllParams += n
		r.Totals.AllNonZero += nz
		if !pi.Prunable {
			continue
		}
		r.Layers = append(r.Layers, LayerStats{Name: pi.Name, Shape: pi.Shape, Params: n, NonZero: nz,
			Sparsity: 1 - float64(nz)/float64(n), CompressionRatio: ratio(n, nz)})
		r.Totals.PrunableParams += n
		r.Totals.PrunableNonZero += nz
	}
	r.Totals.CompressionRatio = ratio(r.Totals.PrunableParams, r.Totals.PrunableNonZero)
	r.Totals.AllRatio = ratio(r.Totals.AllParams, r.Totals.AllNonZero)
	return nil
}

// writeThinText renders the thinning and speed sections of a structured
// pass (nothing otherwise).
func (r *Report) writeThinText(b *strings.Builder) error {
	if r.Thin == nil {
		return nil
	}
	fmt.Fprintf(b, "structure %s: thinned to %s, accuracy %s after thinning\n", r.Settings.Structure, widths(r.Thin), fmtPct(r.Accuracy.Thinned))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tunits\tkept\tinputs\tkept\t")
	for _, l := range r.Thin.Layers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", l.Name, l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(b, "FLOPs per example (multiply-adds): %d → %d (%s fewer)\n", r.Thin.FLOPsBefore, r.Thin.FLOPsAfter, flopsRatio(r.Thin))
	for _, s := range r.Speed {
		fmt.Fprintf(b, "forward pass, batch %d: dense %s, thinned %s (%.2f× faster, median of %d)\n", s.Batch, fmtSeconds(s.DenseSeconds), fmtSeconds(s.ThinSeconds), s.Speedup, s.Runs)
	}
	return nil
}

// writeThinMarkdown is writeThinText as Markdown tables.
func (r *Report) writeThinMarkdown(b *strings.Builder) {
	if r.Thin == nil {
		return
	}
	fmt.Fprintf(b, "\nStructure %s: thinned to %s; accuracy after thinning %s.\n\n", r.Settings.Structure, widths(r.Thin), fmtPct(r.Accuracy.Thinned))
	b.WriteString("| layer | units | kept | inputs | kept |\n|---|---:|---:|---:|---:|\n")
	for _, l := range r.Thin.Layers {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d |\n", l.Name, l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter)
	}
	fmt.Fprintf(b, "\nFLOPs per example (multiply-adds): %d → %d (%s fewer).\n", r.Thin.FLOPsBefore, r.Thin.FLOPsAfter, flopsRatio(r.Thin))
	if len(r.Speed) > 0 {
		b.WriteString("\n| batch | dense | thinned | speed-up |\n|---:|---:|---:|---:|\n")
		for _, s := range r.Speed {
			fmt.Fprintf(b, "| %d | %s | %s | %.2f× |\n", s.Batch, fmtSeconds(s.DenseSeconds), fmtSeconds(s.ThinSeconds), s.Speedup)
		}
	}
}

// widths is the layer widths after thinning, e.g. "784-219-100-10" or
// "1-5-12-250-10" (the input features or channels, then every layer's
// units).
func widths(t *models.ThinReport) string {
	if len(t.Layers) == 0 {
		return ""
	}
	parts := []string{fmt.Sprint(t.Layers[0].InputsAfter)}
	for _, l := range t.Layers {
		parts = append(parts, fmt.Sprint(l.UnitsAfter))
	}
	return strings.Join(parts, "-")
}

func flopsRatio(t *models.ThinReport) string {
	if t.FLOPsAfter == 0 {
		return "∞×"
	}
	return fmt.Sprintf("%.1f×", float64(t.FLOPsBefore)/float64(t.FLOPsAfter))
}
