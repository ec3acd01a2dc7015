package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/sensitivity"
)

func sensitivityCommand() *cli.Command {
	return &cli.Command{
		Name:  "sensitivity",
		Usage: "accuracy of a model with one layer at a time pruned by magnitude, or with its units removed (CSV and PNG)",
		Description: "For every dense and conv2d layer alone: the test accuracy with a fraction of its weights set\n" +
			"to zero (smallest magnitude first), and with a fraction of its units (neurons or filters,\n" +
			"smallest weight norm first) removed together with the inputs of the next layer that read\n" +
			"them (through Flatten, every position of a removed filter's channel). The output layer has\n" +
			"no units curve. Each row also gives the FLOPs of the model once the removed units are thinned away.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors); required"},
			&cli.StringFlag{Name: "csv", Usage: "CSV file to write (default: MODEL-sensitivity.csv)"},
			&cli.StringFlag{Name: "png", Usage: "PNG plot to write, one curve per layer (default: MODEL-sensitivity.png)"},
			&cli.StringFlag{Name: "fractions", Value: "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.99", Usage: "fractions of weights pruned and of units removed, each in [0, 1)"},
			&cli.IntFlag{Name: "test-samples", Usage: "evaluate on the first N test images only (0: all 10,000), for slow models"},
			&cli.IntFlag{Name: "batch", Value: 1000, Usage: "evaluation batch size"},
			dataDirFlag, quietFlag,
		},
		Action: func(c *cli.Context) error {
			in := c.String("model")
			if in == "" {
				return usagef("%s: --model is required", c.Command.Name)
			}
			fr, err := parseFractions(c.String("fractions"))
			if err != nil {
				return err
			}
			if c.Int("test-samples") < 0 {
				return usagef("--test-samples must be ≥ 0, got %d", c.Int("test-samples"))
			}
			if c.Int("batch") <= 0 {
				return usagef("--batch must be positive, got %d", c.Int("batch"))
			}
			csvPath, pngPath := c.String("csv"), c.String("png")
			if csvPath == "" {
				csvPath = trimExt(in) + "-sensitivity.csv"
			}
			if pngPath == "" {
				pngPath = trimExt(in) + "-sensitivity.png"
			}
			m, err := readModelFile(in)
			if err != nil {
				return err
			}
			release, err := claimOutputs([]path{{"--model", in}}, path{"--csv", csvPath}, path{"--png", pngPath})
			defer release()
			if err != nil {
				return err
			}
			_, testSet, err := loadMNIST(c.String("data-dir"), 0, m.Spec)
			if err != nil {
				return err
			}
			if n := c.Int("test-samples"); n > 0 && n < testSet.N() {
				idx := make([]int, n)
				for i := range idx {
					idx[i] = i
				}
				testSet = testSet.Subset(idx)
			}
			p := newProgress(c.App.ErrWriter, c.Bool("quiet"), m.Spec.Name)
			p.logf("sensitivity of %s on %d test images, fractions %s", in, testSet.N(), c.String("fractions"))
			pts, err := sensitivity.Run(c.Context, m, testSet, sensitivity.Config{Fractions: fr, EvalBatch: c.Int("batch")},
				func(pt sensitivity.Point) {
					if pt.Layer == "" {
						p.logf("unpruned: accuracy %.2f%%", 100*pt.Accuracy)
						return
					}
					p.logf("%s %s %g: %d of %d removed, accuracy %.2f%%, %d FLOPs", pt.Layer, pt.Curve, pt.Fraction, pt.Removed, pt.Of, 100*pt.Accuracy, pt.FLOPs)
				})
			if err != nil {
				return err
			}
			if err := atomicfile.Write(csvPath, func(w io.Writer) error { return sensitivity.WriteCSV(w, pts) }); err != nil {
				return errors.Wrapf(err, "write %s", csvPath)
			}
			if err := atomicfile.Write(pngPath, func(w io.Writer) error {
				return sensitivity.Plot(pts, m.Spec.Name, w)
			}); err != nil {
				return errors.Wrapf(err, "write %s", pngPath)
			}
			fmt.Fprintf(c.App.Writer, "wrote %s and %s: %d points over %d test images\n", csvPath, pngPath, len(pts), testSet.N())
			return nil
		},
	}
}

// parseFractions reads a comma-separated list of fractions in [0, 1).
func parseFractions(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v >= 0 && v < 1) {
			return nil, usagef("--fractions: %q is not a fraction in [0, 1)", f)
		}
		out = append(out, v)
	}
	return out, nil
}
