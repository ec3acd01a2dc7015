package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

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
	File            string            `json:"file"`
	FileBytes       int64             `json:"file_bytes"`
	Model           string            `json:"model"`
	Spec            models.Spec       `json:"spec"`
	Provenance      models.Provenance `json:"provenance"`
	Params          []paramRow        `json:"params"`
	AllParams       int               `json:"all_params"`
	AllNonZero      int               `json:"all_nonzero"`
	PrunableParams  int               `json:"prunable_params"`
	PrunableNonZero int               `json:"prunable_nonzero"`
}

func inspectModel(path string) (*inspection, error) {
	m, err := models.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	in := &inspection{File: path, FileBytes: st.Size(), Model: m.Spec.Name, Spec: m.Spec, Provenance: m.Meta}
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
	return in, nil
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "per-parameter table of a model file: shape, parameters, non-zeros",
		ArgsUsage: "MODEL.safetensors",
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
			return tw.Flush()
		},
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
