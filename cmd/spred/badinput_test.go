package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/internal/npy"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// mnistArg in a case's arguments stands for the MNIST folder; a case that
// uses it is skipped when MNIST is not available.
const mnistArg = "\x00mnist"

// readOnlyArg starts a path in a case's arguments that lies in a folder
// that cannot be written; a case that uses it is skipped where no such
// folder can be made (see readOnlyDir).
const readOnlyArg = "\x00read-only"

// TestBadInput runs every command on bad input and checks that each fails
// the documented way: the wanted exit code (2 for a bad command line, 1 for
// a failure), exactly one line on stderr starting with "spred: " that names
// the problem, nothing on stdout, and no panic.
//
// Categories covered:
//   - model files (eval, inspect, compress): missing, a folder, empty,
//     truncated, random bytes;
//   - safetensors headers that lie: data offsets beyond the file, a negative
//     offset, dtypes "I64" and "XX", a shape whose size disagrees with its byte
//     range, a tensor claiming 10 GB, a header length beyond the file or over
//     the 100 MiB limit, a header that is not JSON, no spred.spec metadata;
//   - model contents: a NaN weight, a weight shape that disagrees with the
//     spec, a spec whose shapes do not chain, a spec with an absurd layer size,
//     a parameter missing from the file, a tensor the spec does not have, a
//     model whose input does not fit MNIST (also with as many values in
//     another shape);
//   - graph specs: a cycle, an input that names no layer, an add of two
//     shapes, a batch norm whose channels disagree with its input;
//   - image folders: a CIFAR-10 batch of the wrong length, an idx folder
//     with three of its four files;
//   - CSV tables for lasso: missing file, empty file, ragged rows, a text
//     cell, a NaN cell, an empty label cell, no label column, no data rows,
//     binomial labels outside {0, 1}, a duplicate column name, no feature
//     column, an unterminated quote, a corrupt gzip stream;
//   - flags out of range or unknown: --batch 0, --epochs 0, negative --lr,
//     --lr NaN, --momentum 1.5, negative, NaN and (method spred) zero --lambda, negative and NaN
//     --threshold, --finetune-epochs -1, --finetune-lr 0, --train-samples -5,
//     negative --max-iter and --tol, unknown --family, --schedule,
//     --finetune-schedule, --dtype and model name, --target-ratio ≤ 1 or
//     NaN, --target-sparsity 1, a target with --lambda or with the other
//     target, --val-fraction outside [0, 1), a flag value that does not
//     parse, a flag without its value, required flags missing, integers
//     that are not decimal or out of range;
//   - the command line itself: unknown command, unknown flag, unexpected
//     arguments;
//   - arrays for predict: a dtype other than float32 and float64, big-endian,
//     Fortran order, truncated, a shape claiming far more than the file, not
//     a .npy file, missing; shapes that do not fit the model (both shapes
//     named), no sample dimension, no samples; --out the same file as --input
//     (by name or through a link) or --model;
//   - MNIST and output folders: --data-dir empty, not there, or holding
//     corrupt files; --out, --report, --markdown or --checkpoint into a folder
//     that does not exist (checked before any training); --resume without a
//     checkpoint;
//   - checkpoints and sweeps: a checkpoint with flipped bytes, without a
//     checksum (an older version), cut short, of an epoch beyond the run,
//     with a huge draw count, or of another run; a sweep folder holding a
//     point's report from another run, or one that does not parse;
//   - outputs, signals, messages: a value flag given last without a value
//     (never the file before it), an output another run holds, outputs in
//     a read-only folder (found before any work), an earlier run's
//     checkpoint without --resume or --force, both flags, λ far too large
//     for the learning rate, an exploding final loss, ONNX files given for
//     safetensors, a tensor of rank 100000 (a short message), a provenance
//     accuracy in percent, CSV lines ending with CR alone, --tol out of
//     [0, 1), select writing over its --csv.
//
// No case writes a file, in the test's folder or in the working folder.
//
// Every case runs as its own process (this test binary as spred, see
// TestMain) whose address space is capped at badInputMemoryCap (RLIMIT_AS,
// as ulimit -v sets it) and which is killed after badInputTimeLimit: a
// reader that allocated what a hostile file claims, or spun on it, fails
// its case instead of passing on a large machine.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// A valid LeNet-300-100 file with seeded initial values: the model files
	// below are edits of it, so no training (and no MNIST) is needed.
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	gm, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.safetensors")
	if err := models.WriteFile(goodPath, gm); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	headerLen := int(binary.LittleEndian.Uint64(good[:8]))
	dataStart := 8 + headerLen
	dataLen := len(good) - dataStart

	setSpec := func(old, new string) func(map[string]interface{}) {
		return func(h map[string]interface{}) {
			meta := h["__metadata__"].(map[string]interface{})
			s := meta["spred.spec"].(string)
			if !strings.Contains(s, old) {
				t.Fatalf("spec %s does not contain %s", s, old)
			}
			meta["spred.spec"] = strings.Replace(s, old, new, 1)
		}
	}
	setTensor := func(name, key string, v interface{}) func(map[string]interface{}) {
		return func(h map[string]interface{}) {
			h[name].(map[string]interface{})[key] = v
		}
	}
	withLength := func(n uint64) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}

	truncated := write("truncated.safetensors", good[:len(good)/2])
	notST := write("text.safetensors", []byte("this is not a model file at all\n"))
	empty := write("empty.safetensors", nil)
	random := make([]byte, 4096)
	rand.New(rand.NewSource(7)).Read(random)
	randomFile := write("random.safetensors", random)
	unchained := write("unchained.safetensors", rewriteHeader(t, good, setSpec(`"input":[784]`, `"input":[1,28,28]`)))
	wrongShape := write("shape.safetensors", rewriteHeader(t, good, setSpec(`"units":300`, `"units":301`)))
	hugeSpec := write("hugespec.safetensors", rewriteHeader(t, good, setSpec(`"units":300`, `"units":1099511627776`)))
	beyond := write("beyond.safetensors", rewriteHeader(t, good,
		setTensor("fc3/b", "data_offsets", []int{dataLen, dataLen + 40})))
	negOffset := write("negoffset.safetensors", rewriteHeader(t, good, setTensor("fc3/b", "data_offsets", []int{-40, 0})))
	i64 := write("i64.safetensors", rewriteHeader(t, good, setTensor("fc2/b", "dtype", "I64")))
	xx := write("xx.safetensors", rewriteHeader(t, good, setTensor("fc2/W", "dtype", "XX")))
	badSize := write("badsize.safetensors", rewriteHeader(t, good, setTensor("fc1/W", "shape", []int{784, 301})))
	tenGB := write("10gb.safetensors", rewriteHeader(t, good, func(h map[string]interface{}) {
		setTensor("fc1/W", "shape", []int{50000, 50000})(h)
		setTensor("fc1/W", "data_offsets", []int64{0, 10_000_000_000})(h)
	}))
	longHeader := write("longheader.safetensors", withLength(uint64(len(good))))
	hugeHeader := write("hugeheader.safetensors", withLength(1<<40))
	notJSON := func() []byte {
		b := append([]byte(nil), good...)
		copy(b[8:dataStart], strings.Repeat("this is not JSON ", headerLen/17+1)[:headerLen])
		return b
	}()
	notJSONFile := write("notjson.safetensors", notJSON)
	noSpec := write("nospec.safetensors", rewriteHeader(t, good, func(h map[string]interface{}) {
		delete(h["__metadata__"].(map[string]interface{}), "spred.spec")
	}))
	// fc3/b is the last tensor of the data section: drop its entry and bytes.
	missingParam := write("missingparam.safetensors", rewriteHeader(t, good[:len(good)-40], func(h map[string]interface{}) {
		delete(h, "fc3/b")
	}))
	extraTensor := write("extra.safetensors", rewriteHeader(t, append(append([]byte(nil), good...), 0, 0, 0, 0),
		func(h map[string]interface{}) {
			h["fc4/W"] = map[string]interface{}{"dtype": "F32", "shape": []int{1}, "data_offsets": []int{dataLen, dataLen + 4}}
		}))
	nanWeight := func() []byte {
		b := append([]byte(nil), good...)
		// fc1/W comes first in the data section; make its value 5 a NaN.
		binary.LittleEndian.PutUint32(b[dataStart+4*5:], math.Float32bits(float32(math.NaN())))
		return b
	}()
	nanFile := write("nan.safetensors", nanWeight)

	// A model whose input is not an MNIST image.
	tabular := filepath.Join(dir, "tabular.safetensors")
	tm, err := models.New(models.Spec{Name: "tabular", Input: []int{100}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 2}}}, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.WriteFile(tabular, tm); err != nil {
		t.Fatal(err)
	}

	// A model whose images are 14×56: as many values as MNIST's, another shape.
	wide := filepath.Join(dir, "wide.safetensors")
	wm, err := models.New(models.Spec{Name: "wide", Input: []int{1, 14, 56}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 3}, {Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc", Units: 10}}}, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := models.WriteFile(wide, wm); err != nil {
		t.Fatal(err)
	}

	// A residual network with batch norm, and edits of its spec.
	res, err := models.New(models.Spec{Name: "res", Input: []int{2, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.BatchNorm2d, Name: "bn0"},
		{Kind: models.Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.ReLU, Name: "r1"},
		{Kind: models.Conv2d, Name: "c2", Filters: 4, Kernel: 3, Padding: 1},
		{Kind: models.Add, Name: "sum", Inputs: []string{"c2", "r1"}},
		{Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc", Units: 3}}}, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	resPath := filepath.Join(dir, "res.safetensors")
	if err := models.WriteFile(resPath, res); err != nil {
		t.Fatal(err)
	}
	resFile, err := os.ReadFile(resPath)
	if err != nil {
		t.Fatal(err)
	}
	cycle := write("cycle.safetensors", rewriteHeader(t, resFile, setSpec(`"name":"c2",`, `"name":"c2","inputs":["sum"],`)))
	dangling := write("dangling.safetensors", rewriteHeader(t, resFile, setSpec(`"r1"]`, `"r9"]`)))
	addShapes := write("addshapes.safetensors", rewriteHeader(t, resFile, setSpec(`"name":"c2","filters":4`, `"name":"c2","filters":5`)))
	bnChannels := write("bnchannels.safetensors", rewriteHeader(t, resFile, setSpec(`"input":[2,6,6]`, `"input":[3,6,6]`)))
	// Image folders: a CIFAR-10 batch one byte short, an idx set missing
	// its test labels.
	cifarDir := t.TempDir()
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		n := 3073
		if f == "data_batch_3.bin" {
			n = 3072
		}
		if err := os.WriteFile(filepath.Join(cifarDir, f), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	threeIDX := t.TempDir()
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(threeIDX, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	csv := func(name, data string) string { return write(name, []byte(data)) }
	goodCSV := csv("good.csv", "a,y\n1,0\n2,1\n3,1\n")
	emptyCSV := csv("empty.csv", "")
	ragged := csv("ragged.csv", "a,b,y\n1,2,0\n3,1\n")
	textCell := csv("text.csv", "a,y\n1,0\nfoo,1\n")
	nanCell := csv("nan.csv", "a,b,y\n1,2,0\n3,NaN,1\n")
	emptyLabel := csv("emptylabel.csv", "a,y\n1,0\n2,\n")
	noRows := csv("norows.csv", "a,y\n")
	labels := csv("labels.csv", "a,y\n1,0\n2,2\n")
	dupColumn := csv("dup.csv", "a,a,y\n1,2,0\n")
	noFeatures := csv("nofeatures.csv", "y\n1\n")
	badQuote := csv("quote.csv", "a,y\n\"1,0\n")
	badGzip := csv("bad.csv.gz", "\x1f\x8b\x08 not really gzip")

	emptyDir := t.TempDir()
	corruptDir := t.TempDir() // the four MNIST files, all garbage
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(corruptDir, f), []byte("garbage\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noDir := filepath.Join(dir, "no-such-folder")

	// Arrays for predict: good ones of the wrong shape, and bad files.
	array := func(name string, shape ...int) string {
		a := &npy.Array{Shape: shape}
		a.Data = make([]float32, a.Len())
		p := filepath.Join(dir, name)
		if err := npy.WriteFile(p, a); err != nil {
			t.Fatal(err)
		}
		return p
	}
	images := array("images.npy", 2, 1, 28, 28)
	wrongWidth := array("wide.npy", 3, 100)
	oneSample := array("one.npy", 784)
	noSamples := array("none.npy", 0, 784)
	resWrong := array("res.npy", 2, 2, 6, 7)
	int64s := write("int64.npy", npyFile("<i8", "False", "(2, 784)", make([]byte, 8*2*784)))
	fortran := write("fortran.npy", npyFile("<f4", "True", "(2, 784)", make([]byte, 4*2*784)))
	bigEndian := write("big.npy", npyFile(">f4", "False", "(2, 784)", make([]byte, 4*2*784)))
	truncatedNPY := write("truncated.npy", npyFile("<f4", "False", "(2, 784)", make([]byte, 4*784)))
	hugeNPY := write("huge.npy", npyFile("<f4", "False", "(1000000, 784)", nil))
	notNPY := write("text.npy", []byte("1,2,3\n4,5,6\n"))
	linkToInput := filepath.Join(dir, "link.npy")
	if err := os.Symlink(images, linkToInput); err != nil {
		t.Fatal(err)
	}
	predictOut := filepath.Join(dir, "logits.npy")
	predict := func(model, input string, extra ...string) []string {
		return append([]string{"predict", "--model", model, "--input", input, "--out", predictOut}, extra...)
	}
	quick := []string{"--train-samples", "100", "--epochs", "1", "--batch", "50", "--quiet", "--data-dir", mnistArg}
	hr := makeHostileReaders(t, dir)

	// Checkpoints of `train --model lenet-300-100` with the quick flags
	// (the key of exactly that run, so that only the edited field is
	// wrong) and a sweep folder holding reports of other runs.
	quickCfg := train.Config{Epochs: 1, Batch: 50, LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Seed: 1, Dtype: tensor.Float32,
		Schedule: train.Schedule{Kind: train.Cosine, Gamma: 0.1}}
	quickKey := trainKey("lenet-300-100", quickCfg, 100)
	checkpoint := func(name string, st *train.State, edit func([]byte) []byte) string {
		b, err := train.EncodeCheckpoint(trainCheckpoint{Tool: spred.Tool, Key: quickKey, State: st})
		if err != nil {
			t.Fatal(err)
		}
		return write(name, edit(b))
	}
	same := func(b []byte) []byte { return b }
	fresh := &train.State{Epoch: 1, Values: map[string][]float64{"fc1/W": {0}}}
	flipped := checkpoint("flipped.ckpt", fresh, func(b []byte) []byte {
		for i := 0; i < 20; i++ {
			b[len(b)-1-3*i] ^= 0x5a
		}
		return b
	})
	oldCkpt := checkpoint("old.ckpt", fresh, func(b []byte) []byte {
		return append([]byte("spred checkpoint v1\n"), b[len(train.CheckpointMagic)+len("sha256:")+64+1:]...)
	})
	cutCkpt := checkpoint("cut.ckpt", fresh, func(b []byte) []byte { return b[:len(train.CheckpointMagic)+30] })
	lateCkpt := checkpoint("late.ckpt", &train.State{Epoch: 100, History: make([]train.EpochStats, 99)}, same)
	drawsCkpt := checkpoint("draws.ckpt", &train.State{Epoch: 1, Step: 1, Draws: 1 << 62}, same)
	foreignCkpt := checkpoint("foreign.ckpt", fresh, func([]byte) []byte {
		b, err := train.EncodeCheckpoint(compress.Checkpoint{Tool: spred.Tool, Key: "another run", Phase: compress.PhaseSpred, Train: fresh})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
	sweepDir := filepath.Join(dir, "sweep")
	if err := os.Mkdir(sweepDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pointReport := filepath.Join(sweepDir, "spred_lambda=1.0e-03_tau=3.0e-03.json")
	if err := os.WriteFile(pointReport, []byte(`{"model": "lenet-300-100", "key": "another run"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badReport := filepath.Join(sweepDir, "spred_lambda=2.0e-03_tau=3.0e-03.json")
	if err := os.WriteFile(badReport, []byte(`{"model": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	resume := func(ckpt string) []string {
		return append([]string{"train", "--out", filepath.Join(dir, "resumed.safetensors"), "--checkpoint", ckpt, "--resume"}, quick...)
	}
	sweepArgs := func(lambdas string) []string {
		return []string{"sweep", "--model", goodPath, "--dir", sweepDir, "--lambdas", lambdas, "--train-samples", "100", "--data-dir", mnistArg}
	}

	// For the cases of outputs and messages: an ONNX file, one with a tensor of rank
	// 100000, an output another run holds, an earlier run's checkpoint, a
	// model whose provenance gives the accuracy in percent, a CSV with CR
	// line endings.
	goodONNX := filepath.Join(dir, "good.onnx")
	if err := interop.WriteFile(goodONNX, gm, interop.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	hugeRank := func() string {
		b, err := os.ReadFile(goodONNX)
		if err != nil {
			t.Fatal(err)
		}
		var mp onnx.ModelProto
		if err := proto.Unmarshal(b, &mp); err != nil {
			t.Fatal(err)
		}
		dims := make([]int64, 100000)
		for i := range dims {
			dims[i] = 2
		}
		mp.Graph.Initializer[0].Dims = dims
		if b, err = proto.Marshal(&mp); err != nil {
			t.Fatal(err)
		}
		return write("rank.onnx", b)
	}()
	locked := filepath.Join(dir, "locked.safetensors")
	lock, err := atomicfile.Lock(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	earlier := filepath.Join(dir, "earlier.safetensors")
	write("earlier.safetensors.ckpt", []byte("an interrupted run's state\n"))
	percent := write("percent.safetensors", rewriteHeader(t, good, func(h map[string]interface{}) {
		h["__metadata__"].(map[string]interface{})["spred.provenance"] = `{"tool":"x","seed":1,"accuracy":50}`
	}))
	crCSV := write("cr.csv", []byte("a,b,y\r1,2,0\r2,1,1\r1,2,0\r"))
	roDir := readOnlyDir(t)

	cases := []struct {
		name string
		code int
		want string
		args []string
	}{
		// Model files.
		{"missing model file", 1, "no such file", []string{"eval", "--model", filepath.Join(dir, "nope.safetensors")}},
		{"model file is a folder", 1, "not a regular file", []string{"inspect", dir}},
		{"empty model file", 1, "read model", []string{"inspect", empty}},
		{"eval empty model file", 1, "file too short (0 bytes)", []string{"eval", "--model", empty}},
		{"compress empty model file", 1, "file too short (0 bytes)", []string{"compress", "--model", empty}},
		{"truncated model file", 1, "truncated", []string{"eval", "--model", truncated}},
		{"inspect truncated model file", 1, "truncated", []string{"inspect", truncated}},
		{"compress truncated file", 1, "truncated", []string{"compress", "--model", truncated}},
		{"not safetensors", 1, "read model", []string{"inspect", notST}},
		{"eval random bytes", 1, "header length", []string{"eval", "--model", randomFile}},
		{"inspect random bytes", 1, "header length", []string{"inspect", randomFile}},
		{"compress random bytes", 1, "header length", []string{"compress", "--model", randomFile}},

		// Safetensors headers that lie.
		{"offsets beyond the file", 1, fmt.Sprintf(`"fc3/b": data_offsets [%d %d] exceed the %d-byte data section`, dataLen, dataLen+40, dataLen), []string{"inspect", beyond}},
		{"negative offset", 1, "-40 is not a non-negative", []string{"inspect", negOffset}},
		{"dtype I64", 1, `unsupported dtype "I64"`, []string{"eval", "--model", i64}},
		{"dtype XX", 1, `unsupported dtype "XX"`, []string{"inspect", xx}},
		{"shape disagrees with byte range", 1, `"fc1/W": shape [784 301] of F32 needs 943936 bytes`, []string{"inspect", badSize}},
		{"tensor claiming 10 GB", 1, `"fc1/W": data_offsets [0 10000000000] exceed`, []string{"compress", "--model", tenGB}},
		{"header length beyond the file", 1, fmt.Sprintf("header length %d exceeds the %d bytes after the length prefix", len(good), len(good)-8), []string{"inspect", longHeader}},
		{"header length over the limit", 1, "header length 1099511627776 exceeds", []string{"eval", "--model", hugeHeader}},
		{"header not JSON", 1, "header: invalid character", []string{"inspect", notJSONFile}},
		{"no spred.spec metadata", 1, "no spred.spec metadata", []string{"eval", "--model", noSpec}},

		// Model contents.
		{"NaN weight", 1, `tensor "fc1/W": value 5 is NaN`, []string{"eval", "--model", nanFile}},
		{"inspect NaN weight", 1, `"fc1/W": value 5 is NaN`, []string{"inspect", nanFile}},
		{"spec shapes do not chain", 1, "flatten", []string{"inspect", unchained}},
		{"weight shape disagrees", 1, "fc1/W", []string{"inspect", wrongShape}},
		{"compress weight shape disagrees", 1, `"fc1/W" has shape [784 300] in the file, the spec needs [784 301]`, []string{"compress", "--model", wrongShape}},
		{"absurd layer size", 1, `spred.spec metadata: layer "fc1" (dense) with input [784]: units must be in [1, 2147483647], got 1099511627776`, []string{"inspect", hugeSpec}},
		{"parameter missing from the file", 1, `parameter "fc3/b" (shape [10]) is missing`, []string{"inspect", missingParam}},
		{"tensor not in the spec", 1, `tensor "fc4/W" (shape [1]) is not a parameter`, []string{"eval", "--model", extraTensor}},
		{"model does not fit MNIST", 2, "takes inputs of shape [100]", []string{"compress", "--model", tabular, "--data-dir", mnistArg}},
		{"eval model that does not fit MNIST", 2, "takes inputs of shape [100]", []string{"eval", "--model", tabular, "--data-dir", mnistArg}},
		{"images of another shape with as many values", 2, "takes inputs of shape [1 14 56]", []string{"eval", "--model", wide, "--data-dir", mnistArg}},

		// Graph specs.
		{"spec with a cycle", 1, `layer 3 "c2" (conv2d): cycle c2 → sum → c2`, []string{"eval", "--model", cycle}},
		{"input that names no layer", 1, `layer 4 "sum" (add): input "r9" names no layer`, []string{"inspect", dangling}},
		{"add of two shapes", 1, `layer "sum" (add) with input [5 6 6] and [4 6 6]: adds inputs of shapes`, []string{"compress", "--model", addShapes}},
		{"batch norm channels disagree with the input", 1, `"bn0/scale" has shape [2] in the file, the spec needs [3]`, []string{"eval", "--model", bnChannels}},

		// Image folders.
		{"CIFAR-10 batch of the wrong length", 1, "data_batch_3.bin: 3072 bytes", []string{"train", "--model", "resnet-8", "--data-dir", cifarDir, "--out", filepath.Join(dir, "r.safetensors")}},
		{"idx folder with three of its four files", 1, "t10k-labels-idx1-ubyte", []string{"train", "--model", "resnet-8", "--data-dir", threeIDX, "--out", filepath.Join(dir, "r.safetensors")}},

		// CSV tables for lasso.
		{"lasso missing file", 1, "nope.csv", []string{"lasso", "--csv", filepath.Join(dir, "nope.csv"), "--lambda", "0.1"}},
		{"lasso empty file", 1, "no header row", []string{"lasso", "--csv", emptyCSV, "--lambda", "0.1"}},
		{"lasso ragged rows", 1, "row 2 (line 3): got 2 fields, want 3", []string{"lasso", "--csv", ragged, "--lambda", "0.1"}},
		{"lasso text cell", 1, `row 2 (line 3), column "a": cannot parse "foo"`, []string{"lasso", "--csv", textCell, "--lambda", "0.1"}},
		{"lasso NaN cell", 1, `row 2 (line 3), column "b": "NaN" is not a finite number`, []string{"lasso", "--csv", nanCell, "--lambda", "0.1"}},
		{"lasso empty label cell", 1, `row 2 (line 3), column "y": empty cell`, []string{"lasso", "--csv", emptyLabel, "--lambda", "0.1"}},
		{"lasso missing label column", 1, `no label column "target"`, []string{"lasso", "--csv", goodCSV, "--label", "target", "--lambda", "0.1"}},
		{"lasso no data rows", 1, "no data rows", []string{"lasso", "--csv", noRows, "--lambda", "0.1"}},
		{"lasso binomial labels", 1, "want 0 or 1", []string{"lasso", "--csv", labels, "--lambda", "0.1", "--family", "binomial"}},
		{"lasso duplicate column", 1, `duplicate column name "a" (columns 1 and 2)`, []string{"lasso", "--csv", dupColumn, "--lambda", "0.1"}},
		{"lasso no feature columns", 1, `no feature columns besides label "y"`, []string{"lasso", "--csv", noFeatures, "--lambda", "0.1"}},
		{"lasso unterminated quote", 1, "parse error on line 2", []string{"lasso", "--csv", badQuote, "--lambda", "0.1"}},
		{"lasso corrupt gzip", 1, "bad.csv.gz: flate: corrupt input", []string{"lasso", "--csv", badGzip, "--lambda", "0.1"}},

		// Flags out of range or unknown.
		{"zero batch", 2, "--batch", []string{"train", "--batch", "0"}},
		{"hexadecimal integer", 2, `"0x10" is not a decimal integer`, []string{"train", "--batch", "0x10"}},
		{"integer out of range", 2, "99999999999999999999 is out of range", []string{"compress", "--model", goodPath, "--seed", "99999999999999999999"}},
		{"eval zero batch", 2, "--batch must be positive", []string{"eval", "--model", goodPath, "--batch", "0"}},
		{"compress zero batch", 2, "--batch must be positive", []string{"compress", "--model", goodPath, "--batch", "0"}},
		{"compress unknown λ rule", 2, `--layer-lambda: unknown rule "sqrt"`, []string{"compress", "--model", goodPath, "--layer-lambda", "sqrt"}},
		{"compress λ multiplier of no weight", 2, `λ multiplier for "fc9/W": the model has no prunable weight of that name`, []string{"compress", "--model", goodPath, "--layer-lambda", "fc9/W=0.5", "--train-samples", "100", "--epochs", "1"}},
		{"compress threshold per layer without a λ per layer", 2, "a threshold per layer scales τ as the λ per layer", []string{"compress", "--model", goodPath, "--layer-threshold"}},
		{"compress hold norms without batch norm", 2, "has no prunable convolution that only a batch norm reads", []string{"compress", "--model", goodPath, "--hold-norms"}},
		{"compress hold norms with the lambda search", 2, "holding filter norms needs a given λ with a target", []string{"compress", "--model", goodPath, "--hold-norms", "--target-ratio", "10"}},
		{"compress hold norms with magnitude pruning", 2, "holding filter norms applies to the element-wise pass", []string{"compress", "--model", goodPath, "--hold-norms", "--method", "magnitude", "--target-ratio", "10"}},
		{"compress λ per layer on a structured pass", 2, "a λ per layer applies to the element-wise passes", []string{"compress", "--model", goodPath, "--layer-lambda", "size", "--structure", "neuron"}},
		{"zero epochs", 2, "--epochs", []string{"train", "--epochs", "0"}},
		{"compress zero epochs", 2, "--epochs must be positive", []string{"compress", "--model", goodPath, "--epochs", "0"}},
		{"negative lr", 2, "--lr", []string{"train", "--lr", "-1"}},
		{"NaN lr", 2, "learning rate must be ≥ 0 and finite, got NaN", []string{"train", "--lr", "NaN"}},
		{"momentum 1.5", 2, "momentum must be in [0, 1), got 1.5", []string{"train", "--momentum", "1.5"}},
		{"compress momentum 1.5", 2, "momentum must be in [0, 1), got 1.5", []string{"compress", "--model", goodPath, "--momentum", "1.5"}},
		{"negative lambda", 2, "lambda", []string{"compress", "--model", truncated, "--lambda", "-1"}},
		{"NaN lambda", 2, "lambda must be ≥ 0 and finite, got NaN", []string{"compress", "--model", goodPath, "--lambda", "NaN"}},
		{"zero lambda", 2, "lambda is 0: method spred then penalises nothing", []string{"compress", "--model", goodPath, "--lambda", "0"}},
		{"negative threshold", 2, "threshold", []string{"compress", "--model", truncated, "--threshold", "-1"}},
		{"NaN threshold", 2, "--threshold must be positive and finite, got NaN", []string{"compress", "--model", goodPath, "--threshold", "NaN"}},
		{"negative finetune epochs", 2, "--finetune-epochs must be ≥ 0, got -1", []string{"compress", "--model", goodPath, "--finetune-epochs", "-1"}},
		{"zero finetune lr", 2, "--finetune-lr must be positive", []string{"compress", "--model", goodPath, "--finetune-lr", "0"}},
		{"negative finetune decay", 2, "fine-tuning weight decay must be ≥ 0 and finite, got -0.1", []string{"compress", "--model", goodPath, "--finetune-decay", "-0.1"}},
		{"negative train samples", 2, "train-samples", []string{"train", "--train-samples", "-5"}},
		{"unknown schedule", 2, "schedule", []string{"train", "--schedule", "warp"}},
		{"unknown finetune schedule", 2, `unknown schedule "warp"`, []string{"compress", "--model", goodPath, "--finetune-schedule", "warp"}},
		{"target ratio 1", 2, "--target-ratio must be > 1 and finite, got 1", []string{"compress", "--model", goodPath, "--target-ratio", "1"}},
		{"target ratio NaN", 2, "--target-ratio must be > 1 and finite, got NaN", []string{"compress", "--model", goodPath, "--target-ratio", "NaN"}},
		{"target ratio and sparsity", 2, "give --target-ratio or --target-sparsity, not both", []string{"compress", "--model", goodPath, "--target-ratio", "10", "--target-sparsity", "0.9"}},
		{"target sparsity 1", 2, "--target-sparsity must be in (0, 1), got 1", []string{"compress", "--model", goodPath, "--target-sparsity", "1"}},
		{"validation fraction 1", 2, "--val-fraction must be in [0, 1), got 1", []string{"compress", "--model", goodPath, "--val-fraction", "1"}},
		{"negative validation fraction", 2, "--val-fraction must be in [0, 1), got -0.1", []string{"compress", "--model", goodPath, "--val-fraction", "-0.1"}},
		{"unknown dtype", 2, "dtype", []string{"train", "--dtype", "int8"}},
		{"eval unknown dtype", 2, `unknown --dtype "int8"`, []string{"eval", "--model", goodPath, "--dtype", "int8"}},
		{"unknown model name", 2, "unknown model", []string{"train", "--model", "resnet-9000"}},
		{"flag value does not parse", 2, `invalid value "ten" for flag -epochs`, []string{"train", "--epochs", "ten"}},
		{"flag without value", 2, "flag needs an argument: -epochs", []string{"train", "--epochs"}},
		{"eval without model", 2, "model", []string{"eval"}},
		{"compress without model", 2, "compress: --model is required", []string{"compress"}},
		{"lasso without csv", 2, "--csv is required", []string{"lasso", "--lambda", "0.1"}},
		{"lasso without lambda", 2, "--lambda is required", []string{"lasso", "--csv", goodCSV}},
		{"lasso negative lambda", 2, "--lambda must be", []string{"lasso", "--csv", goodCSV, "--lambda", "-1"}},
		{"lasso NaN lambda", 2, "--lambda must be a finite number ≥ 0, got NaN", []string{"lasso", "--csv", goodCSV, "--lambda", "NaN"}},
		{"lasso lambda does not parse", 2, `invalid value "abc" for flag -lambda`, []string{"lasso", "--csv", goodCSV, "--lambda", "abc"}},
		{"lasso unknown family", 2, `unknown --family "poisson"`, []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "--family", "poisson"}},
		{"lasso negative max-iter", 2, "--max-iter", []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "--max-iter", "-1"}},
		{"lasso negative tol", 2, "--tol", []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "--tol", "-1"}},

		// The command line itself.
		{"unknown flag", 2, "not defined", []string{"train", "--colour", "red"}},
		{"unknown command", 2, "unknown command", []string{"frobnicate"}},
		{"inspect without file", 2, "exactly one", []string{"inspect"}},
		{"inspect two files", 2, "exactly one model file, got 2", []string{"inspect", goodPath, goodPath}},
		{"train extra argument", 2, `train: unexpected argument "extra"`, []string{"train", "extra"}},
		{"lasso extra argument", 2, "unexpected argument", []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "extra"}},

		// Missing files and folders.
		{"missing MNIST files", 1, "train-images", []string{"train", "--data-dir", emptyDir, "--epochs", "1"}},
		{"eval MNIST folder empty", 1, "MNIST folder " + emptyDir + ": missing", []string{"eval", "--model", goodPath, "--data-dir", emptyDir}},
		{"MNIST files corrupt", 1, "train-images-idx3-ubyte.gz: idx images: bad magic number", []string{"eval", "--model", goodPath, "--data-dir", corruptDir}},
		{"MNIST folder not there", 1, "MNIST folder " + noDir + " does not exist", []string{"compress", "--model", goodPath, "--data-dir", noDir}},
		{"train --out into a missing folder", 1, filepath.Join(noDir, "m.safetensors"),
			append([]string{"train", "--out", filepath.Join(noDir, "m.safetensors")}, quick...)},
		// Output folders are checked before any training, so a typo costs
		// nothing.
		{"compress --out into a missing folder", 1, "folder " + noDir + " does not exist",
			append([]string{"compress", "--model", goodPath, "--out", filepath.Join(noDir, "p.safetensors"), "--finetune-epochs", "0"}, quick...)},
		{"compress --report into a missing folder", 1, "cannot write " + filepath.Join(noDir, "r.json"),
			append([]string{"compress", "--model", goodPath, "--report", filepath.Join(noDir, "r.json")}, quick...)},
		{"compress --markdown into a missing folder", 1, "cannot write " + filepath.Join(noDir, "r.md"),
			append([]string{"compress", "--model", goodPath, "--markdown", filepath.Join(noDir, "r.md")}, quick...)},
		{"train --checkpoint into a missing folder", 1, "cannot write " + filepath.Join(noDir, "c.ckpt"),
			append([]string{"train", "--checkpoint", filepath.Join(noDir, "c.ckpt")}, quick...)},
		{"resume without a checkpoint", 1, "no checkpoint at",
			append([]string{"train", "--out", filepath.Join(dir, "fresh.safetensors"), "--resume"}, quick...)},

		// checkpoints and sweeps
		{"checkpoint with 20 flipped bytes", 1, "read checkpoint " + flipped + ": corrupt: the checksum does not match", resume(flipped)},
		{"checkpoint without a checksum", 1, "read checkpoint " + oldCkpt + ": written by an older spred without a checksum", resume(oldCkpt)},
		{"checkpoint cut short", 1, "read checkpoint " + cutCkpt + ": corrupt: no checksum line", resume(cutCkpt)},
		{"checkpoint of an epoch beyond the run", 1, "--resume: " + lateCkpt + " (remove it or change --checkpoint): resume: field Epoch: 100 is outside 1..2", resume(lateCkpt)},
		{"checkpoint with a huge draw count", 1, "--resume: " + drawsCkpt + " (remove it or change --checkpoint): resume: field Draws", resume(drawsCkpt)},
		{"compress checkpoint of another run", 1, "--resume: " + foreignCkpt + " (remove it or change --checkpoint): it was written by a run with another configuration",
			append([]string{"compress", "--model", goodPath, "--out", filepath.Join(dir, "p.safetensors"), "--checkpoint", foreignCkpt, "--resume"}, quick...)},
		{"sweep over a report of another run", 1, pointReport + " was made from another model, other flags or other data", sweepArgs("1e-3")},
		{"sweep over a report that does not parse", 1, badReport + " is not a compression report", sweepArgs("2e-3")},

		// Arrays for predict.
		{"predict int64 array", 1, "int64.npy: dtype '<i8' is not read (want '<f4' (float32) or '<f8' (float64))", predict(goodPath, int64s)},
		{"predict big-endian array", 1, "dtype '>f4' is big-endian", predict(goodPath, bigEndian)},
		{"predict Fortran-order array", 1, "array of shape [2 784] is in Fortran order (want C order", predict(goodPath, fortran)},
		{"predict truncated array", 1, "truncated: shape [2 784] of '<f4' needs 6272 data bytes, the file has 3136", predict(goodPath, truncatedNPY)},
		{"predict array larger than its file", 1, "truncated: shape [1000000 784] of '<f4' needs 3136000000 data bytes, the file has 0", predict(goodPath, hugeNPY)},
		{"predict not an array", 1, `does not start with "\x93NUMPY"`, predict(goodPath, notNPY)},
		{"predict missing array", 1, "no such file", predict(goodPath, filepath.Join(dir, "nope.npy"))},
		{"predict wrong shape", 2, `wide.npy: array of shape [3 100] does not fit model "lenet-300-100", whose input is [784]: want [N 784], or any [N, ...] of 784 values per sample`, predict(goodPath, wrongWidth)},
		{"predict no sample dimension", 2, "array of shape [784] does not fit", predict(goodPath, oneSample)},
		{"predict no samples", 2, "array of shape [0 784] holds no samples", predict(goodPath, noSamples)},
		{"predict wrong image shape", 2, `array of shape [2 2 6 7] does not fit model "res", whose input is [2 6 6]: want [N 2 6 6] (see --help)`, predict(resPath, resWrong)},
		{"predict images for a conv model of another size", 2, "array of shape [2 1 28 28] does not fit", predict(resPath, images)},
		{"predict truncated model file", 1, "truncated", predict(truncated, images)},
		{"predict --out is --input", 2, "--out " + images + " is the same file as --input " + images, []string{"predict", "--model", goodPath, "--input", images, "--out", images}},
		{"predict --out links to --input", 2, "is the same file as --input", []string{"predict", "--model", goodPath, "--input", images, "--out", linkToInput}},
		{"predict --out is --model", 2, "is the same file as --model", []string{"predict", "--model", goodPath, "--input", images, "--out", goodPath}},
		{"predict --out into a missing folder", 1, "folder " + noDir + " does not exist", []string{"predict", "--model", goodPath, "--input", images, "--out", filepath.Join(noDir, "y.npy")}},
		{"predict zero batch", 2, "--batch must be positive, got 0", predict(goodPath, images, "--batch", "0")},
		{"predict unknown kernels", 2, `--kernels: unknown kernels "fast"`, predict(goodPath, images, "--kernels", "fast")},
		{"predict without input", 2, "predict: --input is required", []string{"predict", "--model", goodPath, "--out", predictOut}},
		{"predict without out", 2, "predict: --out is required", []string{"predict", "--model", goodPath, "--input", images}},
		{"predict extra argument", 2, `predict: unexpected argument "x.npy"`, append(predict(goodPath, images), "x.npy")},
		{"unknown finetune schedule names the flag", 2, "--finetune-schedule", []string{"compress", "--model", goodPath, "--finetune-schedule", "warp"}},

		// readers: size claims. Small files that claim far more than they
		// hold, refused before the claim is allocated; ONNX graphs with
		// empty input names.
		{"inspect ONNX sparse initializer claiming 236M values", 1, `sparse tensor "fc/W": dimensions [784 301614] hold 236465376 dense values`, []string{"inspect", hr.sparseONNX}},
		{"import ONNX sparse initializer claiming 236M values", 1, "models.MaxSparseExpansion", []string{"import", hr.sparseONNX, "--out", filepath.Join(dir, "imported.safetensors")}},
		{"inspect sparse index form of 8192 slots per value", 1, `sparse parameter "fc/W": index form with 64 stored values for 524288 slots`, []string{"inspect", hr.sparseIndex}},
		{"eval sparse index form of 8192 slots per value", 1, "models.MaxSparseExpansion", []string{"eval", "--model", hr.sparseIndex}},
		{"eval conv padded by 5000", 1, `layer "c" (conv2d) with input [1 28 28]: padding 5000 is not less than the kernel 3`, []string{"eval", "--model", hr.convPad}},
		{"inspect conv padded by 5000", 1, "padding 5000 is not less than the kernel 3", []string{"inspect", hr.convPad}},
		{"gzipped idx claiming 5.47M images", 1, "train-images-idx3-ubyte.gz: idx images: header claims 5470000 images of 28x28", []string{"eval", "--model", goodPath, "--data-dir", hr.idxDir}},
		{"lasso gzipped CSV row inflating to 20 MB", 1, "inflated.csv.gz: row 1: a row is longer than 16777216 bytes (dataset.MaxCSVRowBytes)", []string{"lasso", "--csv", hr.inflatedCSV, "--lambda", "0.1"}},
		{"inspect ONNX Gather of an empty name", 1, `"g" (Gather) needs 2 inputs (data and indices)`, []string{"inspect", hr.gatherEmpty}},
		{"import ONNX Add of a constant and an empty name", 1, `"a" (Add) needs 2 inputs`, []string{"import", hr.addConstEmpty, "--out", filepath.Join(dir, "imported.safetensors")}},

		// cmd: outputs, signals, messages
		{"import with a bare --out after two files", 2, "import: flag --out needs a value after it", []string{"import", goodONNX, goodPath, "--out"}},
		{"import with a bare -o after the file", 2, "import: flag -o needs a value after it", []string{"import", goodONNX, "-o"}},
		{"export to an output another run writes", 1, "--out " + locked + " is being written by another spred run (pid ", []string{"export", "--model", goodPath, "--format", "dense", "--out", locked}},
		{"compress to an output another run writes", 1, "--out " + locked + " is being written by another spred run", []string{"compress", "--model", goodPath, "--out", locked}},
		{"train --out into a read-only folder", 1, " is not writable", append([]string{"train", "--out", readOnlyArg + "/m.safetensors"}, quick...)},
		{"compress --report into a read-only folder", 1, " is not writable", append([]string{"compress", "--model", goodPath, "--report", readOnlyArg + "/r.json"}, quick...)},
		{"compress over an earlier run's checkpoint", 1, "--checkpoint " + earlier + ".ckpt holds the checkpoint of an earlier run: pass --resume to continue it or --force to start over", append([]string{"compress", "--model", goodPath, "--out", earlier}, quick...)},
		{"train over an earlier run's checkpoint", 1, "holds the checkpoint of an earlier run", append([]string{"train", "--out", earlier}, quick...)},
		{"--resume with --force", 2, "compress: give --resume or --force, not both", []string{"compress", "--model", goodPath, "--resume", "--force"}},
		{"λ far too large for the learning rate", 1, "λ = 1e+09 is large for lr 0.3 (λ·lr = 3e+08 ≥ 1", append([]string{"compress", "--model", goodPath, "--lambda", "1e9", "--out", filepath.Join(dir, "l.safetensors")}, quick...)},
		{"train --lr 1000 explodes", 1, "training diverged: the final test loss is", append([]string{"train", "--lr", "1000", "--out", filepath.Join(dir, "x.safetensors")}, quick...)},
		{"compress an ONNX file", 1, goodONNX + " is an ONNX model, not a spred model file: convert it first with spred import", []string{"compress", "--model", goodONNX}},
		{"export an ONNX file", 1, "is an ONNX model, not a spred model file", []string{"export", "--model", goodONNX, "--out", filepath.Join(dir, "e.onnx")}},
		{"import a tensor of rank 100000", 1, `tensor "fc1/W": rank 100000 is more than 64`, []string{"import", hugeRank, "--out", filepath.Join(dir, "r.safetensors")}},
		{"inspect a tensor of rank 100000", 1, "rank 100000 is more than 64", []string{"inspect", hugeRank}},
		{"provenance accuracy in percent", 1, "spred.provenance metadata: accuracy 50 is not a fraction in [0, 1]", []string{"inspect", percent}},
		{"lasso CSV with CR line endings", 1, "the lines end with a carriage return (CR) alone", []string{"lasso", "--csv", crCSV, "--lambda", "0.1"}},
		{"select CSV with CR line endings", 1, "the lines end with a carriage return (CR) alone", []string{"select", "--csv", crCSV, "--label", "y", "--lambda", "0.1"}},
		{"lasso --tol 1e308", 2, "lasso: --tol must be in [0, 1)", []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "--tol", "1e308"}},
		{"lasso --tol 1", 2, "--tol must be in [0, 1)", []string{"lasso", "--csv", goodCSV, "--lambda", "0.1", "--tol", "1"}},
		{"select --out is --csv", 2, "--out " + goodCSV + " is --csv " + goodCSV + ": refusing to overwrite", []string{"select", "--csv", goodCSV, "--label", "y", "--lambda", "0.1", "--out", goodCSV}},
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]string{dir: listDir(t, dir), cwd: listDir(t, cwd)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				for d, was := range before {
					if now := listDir(t, d); strings.Join(now, "\n") != strings.Join(was, "\n") {
						t.Errorf("%s changed: %q, was %q", d, now, was)
					}
				}
			}()
			args := append([]string(nil), c.args...)
			for i, a := range args {
				if a == mnistArg {
					args[i] = mnistDir(t)
				}
				if rest, ok := strings.CutPrefix(a, readOnlyArg); ok {
					if roDir == "" {
						t.Skip("cannot make a read-only folder here")
					}
					args[i] = roDir + rest
				}
			}
			code, out, errs := runCapped(t, args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, errs)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "spred: ") {
				t.Errorf("want one line on stderr starting with \"spred: \", got %q", errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr %q does not mention %q", errs, c.want)
			}
		})
	}
}

// The bounds of every TestBadInput case.
const (
	badInputMemoryCap = 3 << 30 // bytes of address space
	badInputTimeLimit = 3 * time.Minute
)

// runCapped runs spred with args in a child process under
// badInputMemoryCap and badInputTimeLimit, and returns its exit code,
// stdout and stderr. A child killed for its time, or one that printed a
// panic, fails the test.
func runCapped(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), badInputTimeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SPRED_RUN_MAIN=1", memoryCapEnv+"="+strconv.Itoa(badInputMemoryCap))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("spred %q still running after %v (stderr %q)", args, badInputTimeLimit, errb.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run spred %q: %v", args, err)
	}
	if s := errb.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") || strings.Contains(s, "fatal error") {
		t.Fatalf("spred %q crashed under a %d GiB memory cap:\n%s", args, badInputMemoryCap>>30, s)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// npyFile builds a .npy file (version 1.0) around a header and data.
func npyFile(descr, fortran, shape string, data []byte) []byte {
	dict := "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	hlen := (10+len(dict)+1+63)/64*64 - 10
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(hlen))
	b = append(b, dict+strings.Repeat(" ", hlen-len(dict)-1)+"\n"...)
	return append(b, data...)
}

// listDir lists the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
