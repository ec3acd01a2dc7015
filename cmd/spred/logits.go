package main

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// writeLogits writes the logits of m on every sample of d, and the labels,
// as JSON: {"logits": [[...], ...], "labels": [...]}. Values are written
// exactly (the shortest decimal that reads back to the same float64).
func writeLogits(path string, m *models.Model, d *dataset.Dataset, batch int) error {
	e := train.NewEvaluator(m, nil, batch)
	defer e.Close()
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
