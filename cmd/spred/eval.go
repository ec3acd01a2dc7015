package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/train"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "test accuracy and loss of a model file on the 10,000 MNIST test images",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model file (.safetensors); required"},
			&cli.IntFlag{Name: "batch", Value: 1000, Usage: "evaluation batch size (the last partial batch is included)"},
			&cli.StringFlag{Name: "dtype", Value: "float32", Usage: "float32 or float64 arithmetic"},
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
			m, err := readModel(c.String("model"), dt)
			if err != nil {
				return err
			}
			_, testSet, err := loadMNIST(c.String("data-dir"), 0, m.Spec)
			if err != nil {
				return err
			}
			mt, err := train.Evaluate(m, nil, testSet, c.Int("batch"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return json.NewEncoder(c.App.Writer).Encode(struct {
					Model string `json:"model"`
					train.Metrics
					Error float64 `json:"error_percent"`
				}{c.String("model"), mt, 100 * (1 - mt.Accuracy)})
			}
			fmt.Fprintf(c.App.Writer, "%s: accuracy %.2f%% (error %.2f%%), loss %.4f on %d test images\n",
				c.String("model"), 100*mt.Accuracy, 100*(1-mt.Accuracy), mt.Loss, mt.N)
			return nil
		},
	}
}
