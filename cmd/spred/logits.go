package main

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// withLogits adds --logits FILE to spred eval: after the evaluation, every
// test image's logits and label go to FILE as JSON, for comparisons with
// other runtimes (PyTorch, ONNX Runtime).
func withLogits(cmd *cli.Command) *cli.Command {
	cmd.Flags = append(cmd.Flags, &cli.StringFlag{Name: "logits",
		Usage: `also write every test image's logits and label to this JSON file ({"logits": [[...], ...], "labels": [...]})`})
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		logitsPath := c.String("logits")
		if logitsPath == "" {
			return action(c)
		}
		release, err := claimOutputs([]path{{"--model", c.String("model")}}, path{"--logits", logitsPath})
		defer release()
		if err != nil {
			return err
		}
		if err := action(c); err != nil {
			return err
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
		ev := train.NewEvaluator(m, nil, c.Int("batch"))
		if c.String("kernels") == "graph" {
			ev = train.NewGraphEvaluator(m, nil, c.Int("batch"))
		}
		defer ev.Close()
		return writeLogits(logitsPath, ev, m, testSet)
	}
	return cmd
}

// writeLogits writes the logits of m (computed by e) on every sample of d,
// and the labels, as JSON: {"logits": [[...], ...], "labels": [...]}.
// Values are written exactly (the shortest decimal that reads back to the
// same float64).
func writeLogits(path string, e *train.Evaluator, m *models.Model, d *dataset.Dataset) error {
	flat, err := e.Predict(d)
	if err != nil {
		return err
	}
	classes := m.Spec.Classes()
	rows := make([][]float64, d.N())
	for i := range rows {
		rows[i] = flat[i*classes : (i+1)*classes]
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := json.NewEncoder(bw).Encode(struct {
			Logits [][]float64 `json:"logits"`
			Labels []int       `json:"labels"`
		}{rows, d.Y}); err != nil {
			return err
		}
		return bw.Flush()
	})
	return errors.Wrapf(err, "write logits %s", path)
}
