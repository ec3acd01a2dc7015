package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/train"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "test accuracy and loss of a model file on the test set of --data-dir (MNIST by default)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors); required"},
			&cli.IntFlag{Name: "batch", Value: 1000, Usage: "evaluation batch size (the last partial batch is included)"},
			&cli.StringFlag{Name: "dtype", Value: "float32", Usage: "float32 or float64 arithmetic (float64 runs through the training graphs)"},
			&cli.StringFlag{Name: "kernels", Value: "auto", Usage: "weight products: auto (sparse kernels, CSR products and direct sparse convolutions, for layers with few enough non-zeros; dense otherwise), dense, sparse, or graph (the training graphs)"},
			dataDirFlag, jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.String("model") == "" {
				return usagef("%s: --model is required", c.Command.Name)
			}
			if c.Int("batch") <= 0 {
				return usagef("--batch must be positive, got %d", c.Int("batch"))
			}
			dt, err := parseDtype(c.String("dtype"))
			if err != nil {
				return err
			}
			useGraph := c.String("kernels") == "graph" || dt == tensor.Float64
			kern := infer.Auto
			if c.String("kernels") != "graph" {
				if kern, err = infer.ParseKernels(c.String("kernels")); err != nil {
					return usagef("--kernels: %v", err)
				}
			}
			m, err := readModel(c.String("model"), dt)
			if err != nil {
				return err
			}
			_, testSet, err := loadMNIST(c.String("data-dir"), 0, m.Spec)
			if err != nil {
				return err
			}
			var mt train.Metrics
			var plan []infer.LayerPlan
			if useGraph {
				ev := train.NewGraphEvaluator(m, nil, c.Int("batch"))
				mt, err = ev.Evaluate(testSet)
				ev.Close()
				if err != nil {
					return err
				}
			} else {
				// Buffers are sized for the batch: no larger than the data.
				e, err := infer.New(m, infer.Options{Batch: min(c.Int("batch"), testSet.N()), Kernels: kern})
				if err != nil {
					return err
				}
				im, err := e.EvaluateFunc(testSet.Y, func(x []float32, start, b int) { testSet.ReadRange(start, b, x) })
				if err != nil {
					return err
				}
				mt, plan = im, e.Plan()
			}
			if c.Bool("json") {
				return json.NewEncoder(c.App.Writer).Encode(struct {
					Model string `json:"model"`
					train.Metrics
					Error  float64           `json:"error_percent"`
					Layers []infer.LayerPlan `json:"layers,omitempty"`
				}{c.String("model"), mt, 100 * (1 - mt.Accuracy), plan})
			}
			fmt.Fprintf(c.App.Writer, "%s: accuracy %.2f%% (error %.2f%%), loss %.4f on %d test images\n",
				c.String("model"), 100*mt.Accuracy, 100*(1-mt.Accuracy), mt.Loss, mt.N)
			if len(plan) > 0 {
				parts := make([]string, len(plan))
				for i, p := range plan {
					parts[i] = p.String()
				}
				fmt.Fprintf(c.App.ErrWriter, "kernels: %s\n", strings.Join(parts, ", "))
			}
			return nil
		},
	}
}
