package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// exportFormats maps each --format of spred export to what it writes.
var exportFormats = []struct{ name, what string }{
	{"onnx", "dense ONNX model"},
	{"onnx-sparse", "ONNX model with zero-heavy weights as sparse Constant nodes (sparse_value)"},
	{"sparse", "native sparse safetensors file"},
	{"dense", "dense safetensors file"},
	{"thin", "smaller dense model without dead units, as safetensors (--out) and ONNX (--onnx)"},
}

func exportFormatNames() []string {
	var names []string
	for _, f := range exportFormats {
		names = append(names, f.name)
	}
	return names
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write a model file as ONNX (dense or with sparse weights), as a dense or native sparse safetensors file, or thinned (dead units removed) as safetensors and ONNX",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors, dense or sparse); required"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "onnx", Usage: "one of " + strings.Join(exportFormatNames(), ", ")},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "file to write; required"},
			&cli.IntFlag{Name: "opset", Value: interop.DefaultOpset, Usage: fmt.Sprintf("ONNX opset (%d to %d)", interop.DefaultOpset, interop.MaxOpset)},
			&cli.StringFlag{Name: "onnx", Usage: "thin: where to write the thinned model's ONNX file (default: --out with the extension .onnx)"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.String("model") == "" {
				return usagef("export: --model is required")
			}
			if c.String("out") == "" {
				return usagef("export: --out is required")
			}
			format := c.String("format")
			known := false
			for _, f := range exportFormats {
				known = known || f.name == format
			}
			if !known {
				return usagef("unknown --format %q (want one of %s)", format, strings.Join(exportFormatNames(), ", "))
			}
			opts := interop.ExportOptions{Opset: c.Int("opset"), Sparse: format == "onnx-sparse"}
			if err := opts.Validate(); err != nil {
				return usagef("--opset: %v", err)
			}
			out := c.String("out")
			onnxOut := c.String("onnx")
			if format == "thin" && onnxOut == "" {
				onnxOut = trimExt(out) + ".onnx"
			}
			if format != "thin" && onnxOut != "" {
				return usagef("--onnx goes with --format thin only")
			}
			if format == "thin" && onnxOut == out {
				return usagef("--onnx and --out are the same file %s", out)
			}
			in := c.String("model")
			release, err := claimOutputs([]path{{"--model", in}}, path{"--out", out}, path{"--onnx", onnxOut})
			defer release()
			if err != nil {
				return err
			}
			m, err := readModelFile(in)
			if err != nil {
				return err
			}
			switch format {
			case "onnx", "onnx-sparse":
				err = interop.WriteFile(out, m, opts)
			case "sparse":
				err = models.WriteSparseFile(out, m)
			case "dense":
				err = models.WriteFile(out, m)
			case "thin":
				return exportThin(c, in, m, out, onnxOut, opts)
			}
			if err != nil {
				return err
			}
			return reportWritten(c, in, []string{out}, format, nil)
		},
	}
}

// exportThin writes the thinned model as safetensors and ONNX, and reports
// the new layer widths and FLOPs.
func exportThin(c *cli.Context, in string, m *models.Model, out, onnxOut string, opts interop.ExportOptions) error {
	thin, rep, err := thinned(m)
	if err != nil {
		return err
	}
	if err := models.WriteFile(out, thin); err != nil {
		return err
	}
	if err := interop.WriteFile(onnxOut, thin, opts); err != nil {
		return err
	}
	return reportWritten(c, in, []string{out, onnxOut}, "thin", rep)
}

// thinned returns m thinned (models.Thin), with the thinning recorded in
// its provenance (which does not name the file, so that the result does not
// depend on where the input lies).
func thinned(m *models.Model) (*models.Model, *models.ThinReport, error) {
	thin, rep, err := models.Thin(m)
	if err != nil {
		return nil, nil, err
	}
	if thin.Meta.Extra == nil {
		thin.Meta.Extra = map[string]string{}
	}
	thin.Meta.Extra["thinned"] = fmt.Sprintf("%d → %d multiply-adds per example", rep.FLOPsBefore, rep.FLOPsAfter)
	return thin, rep, nil
}

// writeThinReport prints the layer widths and FLOPs before and after
// thinning.
func writeThinReport(w io.Writer, rep *models.ThinReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "LAYER\tUNITS\tINPUTS\t")
	for _, l := range rep.Layers {
		fmt.Fprintf(tw, "%s\t%d → %d\t%d → %d\t\n", l.Name, l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter)
	}
	fmt.Fprintf(tw, "FLOPs per example\t%d → %d\t(%.2f× fewer)\t\n", rep.FLOPsBefore, rep.FLOPsAfter, float64(rep.FLOPsBefore)/float64(max(rep.FLOPsAfter, 1)))
	tw.Flush()
}

// reportWritten prints the sizes of the files written next to the input's
// (and, for a thinned model, the new widths and FLOPs).
func reportWritten(c *cli.Context, in string, outs []string, format string, thin *models.ThinReport) error {
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	type file struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	}
	res := struct {
		Format string             `json:"format"`
		Input  file               `json:"input"`
		Files  []file             `json:"files"`
		Thin   *models.ThinReport `json:"thin,omitempty"`
	}{Format: format, Input: file{in, st.Size()}, Thin: thin}
	for _, o := range outs {
		ost, err := os.Stat(o)
		if err != nil {
			return err
		}
		res.Files = append(res.Files, file{o, ost.Size()})
	}
	if c.Bool("json") {
		return json.NewEncoder(c.App.Writer).Encode(res)
	}
	for _, f := range res.Files {
		fmt.Fprintf(c.App.Writer, "wrote %s (%s, %d bytes; %s has %d bytes)\n", f.Path, format, f.Bytes, in, res.Input.Bytes)
	}
	if thin != nil {
		writeThinReport(c.App.Writer, thin)
	}
	return nil
}
