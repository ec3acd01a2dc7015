package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/internal/npy"
	"github.com/spred-go/spred/models"
)

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:  "predict",
		Usage: "run a model file (safetensors, dense or sparse, or .onnx) on a NumPy array and write its logits as .npy",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors, dense or sparse, or .onnx); required"},
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "inputs as a .npy array of float32 or float64 in C order, shape [N, model input...] " +
				"(for a model with a flat input, any [N, ...] with that many values per sample); required"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "logits to write as a float32 .npy array of shape [N, classes], atomically; required"},
			&cli.IntFlag{Name: "batch", Value: 256, Usage: "samples per forward pass (the last partial batch is included)"},
			&cli.StringFlag{Name: "kernels", Value: "auto", Usage: "weight products: auto (sparse kernels, CSR products and direct sparse convolutions, for layers with few enough non-zeros; dense otherwise), dense or sparse"},
		},
		Action: func(c *cli.Context) error {
			for _, f := range []string{"model", "input", "out"} {
				if c.String(f) == "" {
					return usagef("%s: --%s is required", c.Command.Name, f)
				}
			}
			modelPath, inPath, out := c.String("model"), c.String("input"), c.String("out")
			batch := c.Int("batch")
			if batch <= 0 {
				return usagef("--batch must be positive, got %d", batch)
			}
			kern, err := infer.ParseKernels(c.String("kernels"))
			if err != nil {
				return usagef("--kernels: %v", err)
			}
			for _, in := range []struct{ flag, path string }{{"model", modelPath}, {"input", inPath}} {
				if sameFile(out, in.path) {
					return usagef("--out %s is the same file as --%s %s: the logits would overwrite it", out, in.flag, in.path)
				}
			}
			release, err := claimOutputs(nil, path{"--out", out})
			defer release()
			if err != nil {
				return err
			}
			m, format, err := models.Open(modelPath)
			if err != nil {
				return err
			}
			x, err := npy.ReadFile(inPath)
			if err != nil {
				return err
			}
			n, err := samples(inPath, x.Shape, m.Spec)
			if err != nil {
				return err
			}
			e, err := infer.New(m, infer.Options{Batch: min(batch, n), Kernels: kern})
			if err != nil {
				return err
			}
			size, classes := m.Spec.InputSize(), m.Spec.Classes()
			logits := make([]float32, n*classes)
			for i := 0; i < n; i += e.Batch() {
				if err := c.Context.Err(); err != nil {
					return err
				}
				k := min(e.Batch(), n-i)
				y, err := e.Forward(x.Data[i*size:(i+k)*size], k)
				if err != nil {
					return errors.Wrapf(err, "samples %d to %d", i, i+k-1)
				}
				copy(logits[i*classes:], y)
			}
			if err := npy.WriteFile(out, &npy.Array{Shape: []int{n, classes}, Data: logits}); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "wrote %s: logits [%d %d] of model %q (%s) on the %d samples of %s\n",
				out, n, classes, m.Spec.Name, format, n, inPath)
			return nil
		},
	}
}

// samples checks that an input array of the given shape holds samples of
// spec's input, [N, input...], or for a flat (1-D) input any [N, ...] with
// that many values per sample, and returns N (at least 1). A mismatch is a
// usage error, like a data set that does not fit the model.
func samples(path string, shape []int, spec models.Spec) (int, error) {
	fits := len(shape) >= 2 && (slices.Equal(shape[1:], spec.Input) ||
		len(spec.Input) == 1 && (&npy.Array{Shape: shape[1:]}).Len() == spec.Input[0])
	if !fits {
		also := ""
		if len(spec.Input) == 1 {
			also = fmt.Sprintf(", or any [N, ...] of %d values per sample", spec.Input[0])
		}
		return 0, usagef("%s: array of shape %v does not fit model %q, whose input is %v: want [N %s]%s",
			path, shape, spec.Name, spec.Input, trimBrackets(fmt.Sprint(spec.Input)), also)
	}
	if shape[0] == 0 {
		return 0, usagef("%s: array of shape %v holds no samples", path, shape)
	}
	return shape[0], nil
}

func trimBrackets(s string) string { return s[1 : len(s)-1] }

// sameFile reports whether the paths name one existing file (through links
// too).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
