package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

type paramRow struct {
	Name     string  `json:"name"`
	Shape    []int   `json:"shape"`
	Params   int     `json:"params"`
	NonZero  int     `json:"nonzero"`
	Prunable bool    `json:"prunable"`
	Sparsity float64 `json:"sparsity"`
}

type inspection struct {
	File            string             `json:"file"`
	FileBytes       int64              `json:"file_bytes"`
	Format          string             `json:"format"` // "safetensors", "safetensors-sparse" or "onnx"
	Model           string             `json:"model"`
	Spec            models.Spec        `json:"spec"`
	Provenance      models.Provenance  `json:"provenance"`
	Params          []paramRow         `json:"params"`
	AllParams       int                `json:"all_params"`
	AllNonZero      int                `json:"all_nonzero"`
	PrunableParams  int                `json:"prunable_params"`
	PrunableNonZero int                `json:"prunable_nonzero"`
	Sizes           formSizes          `json:"sizes"`
	Thin            *models.ThinReport `json:"thin"`                // what thinning would remove
	ThinNote        string             `json:"thin_note,omitempty"` // why there is no thinned form
}

// formSizes are the sizes in bytes the model's file has in each form.
type formSizes struct {
	Dense      int64 `json:"dense_safetensors"`
	Sparse     int64 `json:"sparse_safetensors"`
	ONNX       int64 `json:"onnx"`
	ONNXSparse int64 `json:"onnx_sparse"`
	// The thinned model (models.Thin: dead units removed), dense.
	Thinned     int64 `json:"thinned_safetensors"`
	ThinnedONNX int64 `json:"thinned_onnx"`
}

// sizesOf encodes m in every form and returns the sizes, and what thinning
// removes.
func sizesOf(m *models.Model) (formSizes, *models.ThinReport, error) {
	var s formSizes
	var err error
	if s.Dense, err = models.EncodedSize(m, false); err != nil {
		return s, nil, err
	}
	if s.Sparse, err = models.EncodedSize(m, true); err != nil {
		return s, nil, err
	}
	b, err := interop.Encode(m, interop.ExportOptions{})
	if err != nil {
		return s, nil, err
	}
	s.ONNX = int64(len(b))
	if b, err = interop.Encode(m, interop.ExportOptions{Sparse: true}); err != nil {
		return s, nil, err
	}
	s.ONNXSparse = int64(len(b))
	if models.Thinnable(m.Spec) != nil {
		return s, nil, nil // no thinned form: see the note inspect prints
	}
	thin, rep, err := thinned(m)
	if err != nil {
		return s, nil, err
	}
	if s.Thinned, err = models.EncodedSize(thin, false); err != nil {
		return s, nil, err
	}
	if b, err = interop.Encode(thin, interop.ExportOptions{}); err != nil {
		return s, nil, err
	}
	s.ThinnedONNX = int64(len(b))
	return s, rep, nil
}

func inspectModel(path string) (*inspection, error) {
	m, format, err := models.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	in := &inspection{File: path, FileBytes: st.Size(), Format: format, Model: m.Spec.Name, Spec: m.Spec, Provenance: m.Meta}
	for _, p := range m.Params.All() {
		r := paramRow{Name: p.Name, Shape: p.Shape(), Params: p.Len(), NonZero: p.NonZero(), Prunable: p.Prunable}
		r.Sparsity = 1 - float64(r.NonZero)/float64(r.Params)
		in.Params = append(in.Params, r)
		in.AllParams += r.Params
		in.AllNonZero += r.NonZero
		if p.Prunable {
			in.PrunableParams += r.Params
			in.PrunableNonZero += r.NonZero
		}
	}
	if err := models.Thinnable(m.Spec); err != nil {
		in.ThinNote = err.Error()
	}
	if in.Sizes, in.Thin, err = sizesOf(m); err != nil {
		return nil, err
	}
	return in, nil
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "per-parameter table of a model file (safetensors, dense or sparse, or ONNX): shape, parameters, non-zeros, and the file's size in each form",
		ArgsUsage: "MODEL.safetensors|MODEL.onnx",
		Flags:     []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("inspect takes exactly one model file, got %d arguments", c.Args().Len())
			}
			in, err := inspectModel(c.Args().First())
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "%s: model %s, %d bytes\n", in.File, in.Model, in.FileBytes)
			if pv := in.Provenance; pv.Tool != "" {
				fmt.Fprintf(w, "written by %s, seed %d, data %q", pv.Tool, pv.Seed, pv.Data)
				if pv.Accuracy != nil {
					fmt.Fprintf(w, ", test accuracy %.2f%%", 100**pv.Accuracy)
				}
				fmt.Fprintln(w)
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "PARAMETER\tSHAPE\tPARAMS\tNON-ZERO\tSPARSITY\tPRUNABLE\t")
			for _, r := range in.Params {
				fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%.2f%%\t%v\t\n", r.Name, r.Shape, r.Params, r.NonZero, 100*r.Sparsity, r.Prunable)
			}
			fmt.Fprintf(tw, "prunable\t\t%d\t%d\t%.2f%%\t\t\n", in.PrunableParams, in.PrunableNonZero, 100*(1-ratio(in.PrunableNonZero, in.PrunableParams)))
			fmt.Fprintf(tw, "all\t\t%d\t%d\t%.2f%%\t\t\n", in.AllParams, in.AllNonZero, 100*(1-ratio(in.AllNonZero, in.AllParams)))
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "file size %d bytes (%s); in each form:\n", in.FileBytes, in.Format)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "FORM\tBYTES\tVS DENSE\t")
			for _, r := range []struct {
				name  string
				bytes int64
			}{
				{"dense safetensors", in.Sizes.Dense},
				{"native sparse safetensors", in.Sizes.Sparse},
				{"ONNX", in.Sizes.ONNX},
				{"ONNX, sparse weights", in.Sizes.ONNXSparse},
				{"thinned safetensors", in.Sizes.Thinned},
				{"thinned ONNX", in.Sizes.ThinnedONNX},
			} {
				if r.bytes == 0 {
					continue
				}
				fmt.Fprintf(tw, "%s\t%d\t%.2f×\t\n", r.name, r.bytes, float64(in.Sizes.Dense)/float64(r.bytes))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if in.Thin == nil {
				fmt.Fprintf(w, "no thinned form: %s\n", in.ThinNote)
				return nil
			}
			fmt.Fprintln(w, "thinned (spred export --format thin):")
			writeThinReport(w, in.Thin)
			return nil
		},
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
