package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// sgdDefaults are the defaults of the SGD flags of one command.
type sgdDefaults struct {
	epochs, batch int
	lr, momentum  float64
	nesterov      bool
	schedule      string
	stepEvery     int
	gamma         float64
	seed          int64
	dtype         string
}

// trainDefaults apply to `spred train`, which replaces the epochs and the
// learning rate by the zoo model's recipe unless they are given.
var trainDefaults = sgdDefaults{epochs: 15, batch: 100, lr: 0.05, momentum: 0.9, schedule: train.Cosine, gamma: 0.1, seed: 1, dtype: "float32"}

func sgdFlags(d sgdDefaults, note string) []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "epochs", Value: d.epochs, Usage: "passes over the training data" + note},
		&cli.IntFlag{Name: "batch", Value: d.batch, Usage: "samples per SGD step"},
		&cli.Float64Flag{Name: "lr", Value: d.lr, Usage: "base learning rate" + note},
		&cli.Float64Flag{Name: "momentum", Value: d.momentum, Usage: "SGD momentum (0 for none)"},
		&cli.BoolFlag{Name: "nesterov", Value: d.nesterov, Usage: "Nesterov momentum"},
		&cli.StringFlag{Name: "schedule", Value: d.schedule, Usage: "learning-rate schedule: constant, step or cosine"},
		&cli.IntFlag{Name: "step-every", Value: d.stepEvery, Usage: "step schedule: epochs between decays (0: a third of the run)"},
		&cli.Float64Flag{Name: "gamma", Value: d.gamma, Usage: "step schedule: decay factor"},
		&cli.Int64Flag{Name: "seed", Value: d.seed, Usage: "seed of initial values, shuffling and dropout"},
		&cli.StringFlag{Name: "dtype", Value: d.dtype, Usage: "float32 or float64 arithmetic"},
	}
}

// sgdConfig maps the SGD flags onto train.Config, rejecting values out of
// range as usage errors.
func sgdConfig(c *cli.Context, decayFlag string) (train.Config, error) {
	dt, err := parseDtype(c.String("dtype"))
	if err != nil {
		return train.Config{}, err
	}
	if err := checkSchedule("schedule", c.String("schedule")); err != nil {
		return train.Config{}, err
	}
	cfg := train.Config{
		Epochs: c.Int("epochs"), Batch: c.Int("batch"), LR: c.Float64("lr"),
		Momentum: c.Float64("momentum"), Nesterov: c.Bool("nesterov"),
		Schedule: train.Schedule{Kind: c.String("schedule"), StepEvery: c.Int("step-every"), Gamma: c.Float64("gamma")},
		Seed:     c.Int64("seed"), Dtype: dt,
	}
	if decayFlag != "" {
		cfg.WeightDecay = c.Float64(decayFlag)
	}
	switch {
	case cfg.Epochs <= 0:
		return cfg, usagef("--epochs must be positive, got %d", cfg.Epochs)
	case cfg.Batch <= 0:
		return cfg, usagef("--batch must be positive, got %d", cfg.Batch)
	case cfg.LR <= 0:
		return cfg, usagef("--lr must be positive, got %v", cfg.LR)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func trainCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Value: "lenet-300-100", Usage: "zoo architecture (see `spred models`)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "model file to write (default: MODEL.safetensors)"},
		&cli.Float64Flag{Name: "weight-decay", Value: 5e-4, Usage: "L2 weight decay on the weights (biases and batch-norm scales and shifts are not decayed)"},
		plotFlag,
		valFractionFlag,
		&cli.StringFlag{Name: "augment", Value: "auto", Usage: "training augmentation: auto (the data set's when the zoo recipe augments: crops and flips for Fashion-MNIST and CIFAR-10 with the ResNets, none for MNIST), off, or pad=N,flip"},
		dataDirFlag, samplesFlag, quietFlag,
	}, append(checkpointFlags(), sgdFlags(trainDefaults, " (default: the zoo model's recipe)")...)...)
	return &cli.Command{
		Name:  "train",
		Usage: "train a zoo model on an image data set (MNIST by default) and write it as a model file",
		Description: "Trains from seeded initial values with SGD, evaluates on the whole test set after\n" +
			"every epoch, and writes a safetensors file with the spec and provenance. The ResNets\n" +
			"take the shape of the images in --data-dir (1×28×28 for MNIST and Fashion-MNIST,\n" +
			"3×32×32 for CIFAR-10). The same seed and flags give a bit-identical file.",
		Flags: flags,
		Action: func(c *cli.Context) error {
			entry, err := models.LookupEntry(c.String("model"))
			if err != nil {
				return usageError{err}
			}
			cfg, err := sgdConfig(c, "weight-decay")
			if err != nil {
				return err
			}
			if !c.IsSet("epochs") && entry.Recipe.Epochs > 0 {
				cfg.Epochs = entry.Recipe.Epochs
			}
			if !c.IsSet("lr") && entry.Recipe.LR > 0 {
				cfg.LR = entry.Recipe.LR
			}
			out := c.String("out")
			if out == "" {
				out = entry.Name + ".safetensors"
			}
			resume, force, err := checkpointMode(c)
			if err != nil {
				return err
			}
			ckPath := checkpointPath(c, out)
			release, err := claimOutputs(nil, path{"--out", out}, path{"--checkpoint", ckPath}, path{"--plot", c.String("plot")})
			defer release()
			if err != nil {
				return err
			}
			if err := checkNoCheckpoint("--checkpoint", ckPath, resume, force); err != nil {
				return err
			}
			spec, trainSet, testSet, info, err := loadDataFor(c.String("data-dir"), c.Int("train-samples"), entry)
			if err != nil {
				return err
			}
			if cfg.Augment, err = parseAugment(c.String("augment"), entry.Recipe, info); err != nil {
				return err
			}
			var val *dataset.Dataset
			if f := c.Float64("val-fraction"); f != 0 {
				if !(f > 0 && f < 1) {
					return usagef("--val-fraction must be in [0, 1), got %v", f)
				}
				if trainSet, val, err = compress.HoldOut(trainSet, f, cfg.Seed); err != nil {
					return usageError{err}
				}
			}
			m, err := models.New(spec, cfg.Dtype, rand.New(rand.NewSource(cfg.Seed)))
			if err != nil {
				return err
			}
			p := newProgress(c.App.ErrWriter, c.Bool("quiet"), spec.Name)
			counts, err := spec.Counts()
			if err != nil {
				return err
			}
			p.logf("training %s (%d parameters) on %s %v: %d epochs, batch %d, lr %g (%s), momentum %g, weight decay %g, augment %s, seed %d",
				spec.Name, counts.Params, info.Name, trainSet.Shape, cfg.Epochs, cfg.Batch, cfg.LR, cfg.Schedule.Kind, cfg.Momentum, cfg.WeightDecay, augmentString(cfg.Augment), cfg.Seed)
			key := trainKey(spec.Name, cfg, trainSet.N())
			if resume {
				var ck trainCheckpoint
				if err := loadCheckpoint(ckPath, &ck); err != nil {
					return err
				}
				if ck.Tool != spred.Tool || ck.Key != key || ck.State == nil {
					return errors.Errorf("--resume: %s was written by another run (other tool version, model, flags or data); remove it or change --checkpoint", ckPath)
				}
				cfg.Resume = ck.State
				p.logf("resuming from %s at epoch %d step %d", ckPath, ck.State.Epoch, ck.State.Step)
			}
			hooks := train.Hooks{
				AfterStep: func(epoch, step, steps int) error {
					p.step(epoch, cfg.Epochs, step, steps)
					return nil
				},
				Checkpoint: func(s *train.State) error {
					return saveCheckpoint(ckPath, trainCheckpoint{Tool: spred.Tool, Key: key, State: s})
				},
			}
			hist, err := train.Fit(c.Context, m, train.Data{Train: trainSet, Test: testSet}, cfg, nil, hooks, p)
			if err != nil {
				if badResume(err) {
					return errors.Wrapf(err, "--resume: %s (remove it or change --checkpoint)", ckPath)
				}
				return interrupted(err, c, ckPath)
			}
			last := hist[len(hist)-1]
			if err := checkFinalLoss(last.TestLoss, spec.Classes(), "--lr"); err != nil {
				os.Remove(ckPath) // the run is over: nothing to resume
				return err
			}
			m.Meta = models.Provenance{
				Tool: spred.Tool, Seed: cfg.Seed, Data: info.Name,
				Accuracy: ptr(last.TestAcc), Loss: ptr(last.TestLoss),
				Extra: map[string]string{"command": commandLine(c), "train": trainSummary(cfg), "blas": graph.BLASBackend, "conv": graph.ConvBackend,
					"recipe": recipeJSON(recipeOf(c, false))},
			}
			if cfg.Dtype != tensor.Float32 {
				m.Meta.Extra["dtype"] = cfg.Dtype.String()
			}
			valNote := ""
			if val != nil {
				mt, err := train.Evaluate(m, nil, val, cfg.EvalBatch)
				if err != nil {
					return errors.Wrap(err, "evaluating on the validation split")
				}
				m.Meta.Extra["validation_accuracy"] = strconv.FormatFloat(mt.Accuracy, 'g', -1, 64)
				valNote = fmt.Sprintf(", validation accuracy %.2f%% on %d held-out training images", 100*mt.Accuracy, val.N())
			}
			if err := models.WriteFile(out, m); err != nil {
				return err
			}
			if path := c.String("plot"); path != "" {
				if err := writePlot(path, trainFigure(fmt.Sprintf("%s: training on %s", spec.Name, info.Name), hist)); err != nil {
					return err
				}
			}
			os.Remove(ckPath) // done: the checkpoint is of no further use
			fmt.Fprintf(c.App.Writer, "wrote %s: %s, test accuracy %.2f%% (loss %.4f) on %d images%s\n",
				out, spec.Name, 100*last.TestAcc, last.TestLoss, testSet.N(), valNote)
			return nil
		},
	}
}

// checkFinalLoss fails a run whose final test loss is not finite or has
// exploded: over a hundred times ln K, the loss of a model that gives the
// same probability to each of K classes (230 for 10). Such a model is not
// written; hint names the flags to lower.
func checkFinalLoss(loss float64, classes int, hint string) error {
	guess := math.Log(float64(max(classes, 2)))
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) && loss <= 100*guess {
		return nil
	}
	return errors.Errorf("training diverged: the final test loss is %.4g, over 100 × ln %d = %.4g (a model that guesses scores ln %d = %.3g); nothing written: try a smaller %s",
		loss, max(classes, 2), 100*guess, max(classes, 2), guess, hint)
}

func trainSummary(cfg train.Config) string {
	s := fmt.Sprintf("epochs=%d batch=%d lr=%g schedule=%s momentum=%g nesterov=%v weight_decay=%g",
		cfg.Epochs, cfg.Batch, cfg.LR, cfg.Schedule.Kind, cfg.Momentum, cfg.Nesterov, cfg.WeightDecay)
	if !cfg.Augment.IsZero() {
		s += " augment=" + augmentString(cfg.Augment)
	}
	return s
}

// commandLine reconstructs the command and the flags that were set, for
// provenance.
func commandLine(c *cli.Context) string {
	return strings.Join(append([]string{"spred", c.Command.Name}, flagArgs(c)...), " ")
}

// notProvenance lists flags that do not change the result and so stay out
// of the recorded command (a file must not depend on where it was written).
var notProvenance = map[string]bool{"quiet": true, "out": true, "data-dir": true, "report": true, "markdown": true,
	"checkpoint": true, "resume": true, "force": true, "recipe": true, "plot": true}

func flagArgs(c *cli.Context) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if c.IsSet(name) && !seen[name] && !notProvenance[name] {
			seen[name] = true
			out = append(out, fmt.Sprintf("--%s=%v", name, c.Value(name)))
		}
	}
	return out
}
