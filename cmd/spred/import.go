package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// mnistValues is the number of values in an MNIST image.
const mnistValues = 28 * 28

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "read an ONNX model (MLPs and CNNs as torch.onnx.export writes them, opset 13+) into a model file",
		ArgsUsage: "MODEL.onnx",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "model file to write (.safetensors); required"},
			&cli.StringFlag{Name: "name", Usage: "spec name of the model (default: the ONNX graph's name, or the file's when that is torch's generic one)"},
			&cli.BoolFlag{Name: "sparse", Usage: "write the native sparse form (see README)"},
			&cli.BoolFlag{Name: "any-input", Usage: "accept inputs other than an MNIST image (1×28×28 or 784 wide)"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			args, moved, err := flagsFirst(c)
			if err != nil {
				return err
			}
			if moved {
				// `spred import model.onnx --out m.safetensors`: the flags
				// came after the file, where the parser stops; run again
				// with them first.
				return c.App.RunContext(c.Context, args)
			}
			if c.Args().Len() != 1 {
				return usagef("import takes exactly one ONNX file, got %d arguments", c.Args().Len())
			}
			out := c.String("out")
			if out == "" {
				return usagef("import: --out is required")
			}
			src := c.Args().First()
			release, err := claimOutputs([]path{{"the ONNX file", src}}, path{"--out", out})
			defer release()
			if err != nil {
				return err
			}
			m, rep, err := interop.ReadFile(src, interop.ImportOptions{Name: c.String("name")})
			if err != nil {
				return err
			}
			switch m.Spec.Name {
			case "torch_jit", "main_graph", "onnx": // the names torch and Decode give every graph
				if c.String("name") == "" {
					m.Spec.Name = trimExt(filepath.Base(src))
				}
			}
			if n := m.Spec.InputSize(); n != mnistValues && !c.Bool("any-input") {
				return errors.Errorf("%s: model input %v (%d values) is not an MNIST image (1×28×28 or 784 wide); pass --any-input to import it anyway", src, m.Spec.Input, n)
			}
			if m.Meta.Tool == "" {
				m.Meta = models.Provenance{Tool: spred.Tool, Extra: map[string]string{
					"command": commandLine(c), "imported_from": filepath.Base(src), "producer": rep.Producer}}
			}
			write := models.WriteFile
			if c.Bool("sparse") {
				write = models.WriteSparseFile
			}
			if err := write(out, m); err != nil {
				return err
			}
			counts, err := m.Spec.Counts()
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Out    string                `json:"out"`
					Spec   models.Spec           `json:"spec"`
					Params int                   `json:"params"`
					Report *interop.ImportReport `json:"import"`
				}{out, m.Spec, counts.Params, rep})
			}
			w := c.App.Writer
			fmt.Fprintf(w, "%s: ONNX IR %d, opset %d, producer %q\n", src, rep.IRVersion, rep.Opset, rep.Producer)
			fmt.Fprintf(w, "  input %v\n", rep.Input)
			for _, l := range rep.Layers {
				fmt.Fprintf(w, "  %-24s ← %s\n", l.Layer.String(), strings.Join(l.Nodes, ", "))
			}
			buffers := ""
			if counts.Buffers > 0 {
				buffers = fmt.Sprintf(" (and %d batch-norm statistics)", counts.Buffers)
			}
			fmt.Fprintf(w, "wrote %s: model %q, %d layers, %d parameters%s\n", out, m.Spec.Name, len(m.Spec.Layers), counts.Params, buffers)
			return nil
		},
	}
}

// flagsFirst returns the command line of c with the flags that follow its
// positional arguments moved before them, and whether there were any. A
// flag that takes a value takes the argument after it, never one that came
// before it: a value flag with nothing after it is a usage error (moving
// `a.onnx b.onnx --out` to `--out a.onnx b.onnx` would make the input
// a.onnx the output). Everything after "--" is positional.
func flagsFirst(c *cli.Context) ([]string, bool, error) {
	takesValue := map[string]bool{}
	for _, f := range c.Command.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, positional []string
	tail := c.Args().Slice()
	for i := 0; i < len(tail); i++ {
		a := tail[i]
		if a == "--" {
			positional = append(positional, tail[i+1:]...)
			break
		}
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || name == "" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if takesValue[name] { // a name with "=value" is not in the map
			if i+1 == len(tail) {
				return nil, false, usagef("%s: flag %s needs a value after it", c.Command.Name, a)
			}
			flags = append(flags, tail[i+1])
			i++
		}
	}
	if len(flags) == 0 {
		return nil, false, nil
	}
	args := []string{c.App.Name, c.Command.Name}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if c.IsSet(name) {
			args = append(args, "--"+name+"="+fmt.Sprint(c.Value(name)))
		}
	}
	args = append(append(args, flags...), positional...)
	return args, true, nil
}
