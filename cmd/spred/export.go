package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// exportFormats maps each --format of spred export to what it writes.
var exportFormats = []struct{ name, what string }{
	{"onnx", "dense ONNX model"},
	{"onnx-sparse", "ONNX model with zero-heavy weights as sparse_initializers"},
	{"sparse", "native sparse safetensors file"},
	{"dense", "dense safetensors file"},
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
		Usage: "write a model file as ONNX (dense or with sparse initializers) or as a dense or native sparse safetensors file",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors, dense or sparse); required"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "onnx", Usage: "one of " + strings.Join(exportFormatNames(), ", ")},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "file to write; required"},
			&cli.IntFlag{Name: "opset", Value: interop.DefaultOpset, Usage: fmt.Sprintf("ONNX opset (%d to %d)", interop.DefaultOpset, interop.MaxOpset)},
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
			if err := checkOutputs(out); err != nil {
				return err
			}
			in := c.String("model")
			m, err := models.ReadFile(in)
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
			}
			if err != nil {
				return err
			}
			return reportWritten(c, in, []string{out}, format)
		},
	}
}

// reportWritten prints the sizes of the files written next to the input's.
func reportWritten(c *cli.Context, in string, outs []string, format string) error {
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	type file struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	}
	res := struct {
		Format string `json:"format"`
		Input  file   `json:"input"`
		Files  []file `json:"files"`
	}{Format: format, Input: file{in, st.Size()}}
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
	return nil
}
