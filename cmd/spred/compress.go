package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// compressDefaults are the flag defaults of `spred compress` and
// `spred sweep`: the library's recipe (compress.DefaultConfig).
var compressDefaults = compress.DefaultConfig()

// structuredLR is the default learning rate of --structure neuron, filter
// and mixed.
var structuredLR = compress.DefaultConfigFor("", compress.StructureNeuron).LR

// compressSGDDefaults are the SGD flags' defaults, read from compressDefaults.
func compressSGDDefaults() sgdDefaults {
	d := compressDefaults
	return sgdDefaults{epochs: d.Epochs, batch: d.Batch, lr: d.LR, momentum: d.Momentum, nesterov: d.Nesterov,
		schedule: d.Schedule.Kind, stepEvery: d.Schedule.StepEvery, gamma: d.Schedule.Gamma, seed: d.Seed, dtype: d.Dtype.String()}
}

func compressCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "dense model file to compress (.safetensors); required"},
		&cli.StringFlag{Name: "method", Value: compress.MethodSpred, Usage: "compression method, one of " + methodUsage() + "; all run the same epochs on the same data; each has its default --lr (`spred recipe --method M`)"},
		&cli.Float64Flag{Name: "target-ratio", Usage: "ask for this compression ratio (prunable weights / non-zero prunable weights, > 1) instead of a λ: λ is found during the run (raised from 1e-6 while the projected sparsity is below the target, then held, lowered while the projection overshoots 2×) and the final τ is set so that the ratio is hit; with --lambda, that λ is held instead and only the final τ is set; not with --target-sparsity"},
		&cli.Float64Flag{Name: "target-sparsity", Usage: "ask for this final fraction of prunable weights set to zero, in (0, 1), like --target-ratio 1/(1−S); --method magnitude needs it or --target-ratio"},
		&cli.IntFlag{Name: "rounds", Value: compress.DefaultConfigFor(compress.MethodMagnitude, "").Rounds, Usage: "--method magnitude: prune-and-retrain rounds sharing the --epochs budget"},
		&cli.Float64Flag{Name: "retrain-decay", Value: compressDefaults.RetrainDecay, Usage: "--method magnitude: weight decay on the prunable weights while retraining"},
		&cli.StringFlag{Name: "structure", Value: compress.StructureElement, Usage: "what λ removes: element (u⊙v, L1 on every weight), neuron (one scale per output neuron of dense layers: group lasso, then the dead neurons are removed), filter (the same per conv filter), mixed (neurons and filters); on residual networks, coupled channels (see the description); --method spred only"},
		&cli.StringFlag{Name: "speed-batches", Value: "1,100", Usage: "--structure neuron/filter/mixed: batch sizes at which to time the forward pass of the dense and the thinned model (empty: none)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "pruned model file to write (default: MODEL-pruned.safetensors)"},
		&cli.StringFlag{Name: "report", Usage: "write the JSON report to this file"},
		&cli.StringFlag{Name: "markdown", Usage: "write the Markdown report to this file (with a link to --plot when given)"},
		plotFlag,
		&cli.Float64Flag{Name: "lambda", Value: compressDefaults.Lambda, Usage: "L1 coefficient λ = weight decay on u and v (--method l1: the coefficient of λ·sign(w))"},
		&cli.StringFlag{Name: "layer-lambda", Value: compressDefaults.LayerScale, Usage: "λ per layer: uniform (the same λ on every prunable weight), size (λ·√(n/n_max) for a weight of n entries: the small layers are penalised less), and/or NAME=F items multiplying λ by F on the prunable weight NAME, comma-separated (e.g. size,fc3/W=0.05); --method spred (element-wise) and l1"},
		&cli.BoolFlag{Name: "layer-threshold", Usage: "scale τ per weight as --layer-lambda scales λ (τ·F where λ·F): a layer penalised less is also cut less, at every thresholding and by --target-ratio's final τ; needs a λ per layer; --method spred (element-wise)"},
		&cli.BoolFlag{Name: "hold-norms", Usage: "after every step, rescale each filter of a convolution that only a batch norm reads back to its starting norm: the batch norm makes its scale free, and the penalty would shrink it instead of making it sparse; --method spred (element-wise), models with batch norm; with --target-ratio or --target-sparsity give --lambda too (the λ search cannot reach a target while the norms are held)"},
		&cli.Float64Flag{Name: "threshold", Value: compressDefaults.Threshold, Usage: "τ: weights with |u⊙v| < τ become exactly 0"},
		&cli.BoolFlag{Name: "epoch-threshold", Value: compressDefaults.EpochThreshold, Usage: "also threshold at the start of every epoch"},
		&cli.BoolFlag{Name: "from-scratch", Value: compressDefaults.FromScratch, Usage: "draw u and v from the seed instead of splitting the model's weights"},
		&cli.IntFlag{Name: "finetune-epochs", Value: compressDefaults.FinetuneEpochs, Usage: "epochs of masked fine-tuning without penalty (0: none)"},
		&cli.Float64Flag{Name: "finetune-lr", Value: compressDefaults.FinetuneLR, Usage: "fine-tuning learning rate"},
		&cli.Float64Flag{Name: "finetune-decay", Value: compressDefaults.FinetuneDecay, Usage: "weight decay on the surviving prunable weights while fine-tuning (pruned weights stay zero; biases and batch norm not decayed)"},
		&cli.IntFlag{Name: "recalibrate", Value: compressDefaults.Recalibrate, Usage: "batch norm: re-estimate the running statistics on this many training batches once the weights are pruned, before evaluating and fine-tuning the pruned model (0: keep those gathered during training); ignored without batch norm"},
		&cli.StringFlag{Name: "finetune-schedule", Value: compressDefaults.FinetuneSchedule.Kind, Usage: "fine-tuning learning-rate schedule: constant, step or cosine"},
		valFractionFlag,
		dataDirFlag, samplesFlag, quietFlag,
	}, append(checkpointFlags(), sgdFlags(compressSGDDefaults(), "")...)...)
	return &cli.Command{
		Name:  "compress",
		Usage: "make a trained model sparse with spred and write the pruned model and its report",
		Description: "Rewrites every prunable weight w as u⊙v (balanced split, same function), trains on the\n" +
			"images of --data-dir (MNIST by default) with weight decay λ on u and v only (= λ‖w‖₁\n" +
			"on the mean loss; biases and batch-norm scales and shifts are not decayed),\n" +
			"thresholds |u⊙v| < τ to exact zeros, collapses the pairs back to dense weights,\n" +
			"optionally fine-tunes the survivors with the zeros held, and reports non-zeros,\n" +
			"compression ratios and accuracy at every stage. The text report goes to stderr.\n" +
			"--target-ratio R (or --target-sparsity S) asks for the result instead of λ: λ starts at 1e-6\n" +
			"and grows geometrically every 1% of the steps while the projected sparsity (the weights that\n" +
			"would fall below τ by the end at their current shrink rate) is below the target, then held\n" +
			"(and lowered while the projection overshoots the target by 20%);\n" +
			"per-epoch thresholding never zeroes more than the target's share, and the final τ is the one at\n" +
			"which the ratio is R (for --structure, after thinning). The report records the target, the λ\n" +
			"schedule and the final τ. It works for spred (any --structure), l1 and magnitude.\n" +
			"--val-fraction F holds out a seeded fraction of the training images: the report gives the\n" +
			"dense and final accuracy on it next to the test figures (no choice reads the test set).\n" +
			"--method magnitude (with --target-sparsity or --target-ratio, --rounds) or --method l1 (with --lambda, --threshold)\n" +
			"runs a baseline instead under the same epochs and data.\n" +
			"--structure neuron, filter or mixed (default --lr " + fmt.Sprint(structuredLR) + ") puts one factor on each output neuron or filter (group\n" +
			"lasso λ Σ‖w_unit‖₂), zeroes units with ‖w_unit‖₂ < τ, removes them (a smaller dense model\n" +
			"computing the same function), fine-tunes it, and reports the units, FLOPs and forward-pass\n" +
			"times before and after. On residual networks a unit is a coupled\n" +
			"channel: filter c of every conv whose output meets at an add, with the scale and shift c of\n" +
			"their batch norms; that group lasso goes through the same rewrite, g·V with one scale g per\n" +
			"channel and a factor V of every filter, bias, scale and shift of the group (all decayed by λ),\n" +
			"and whole channels are removed together.\n" +
			"Every method and structure writes --checkpoint after every epoch of every phase and on\n" +
			"SIGINT/SIGTERM; --resume continues it bit-identically. A checkpoint carries a SHA-256 of its\n" +
			"content and is refused, naming the file and the field, when it is damaged, comes from other\n" +
			"flags or another model, or holds values the flags do not allow.",
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.String("model") == "" {
				return usagef("%s: --model is required", c.Command.Name)
			}
			cfg, err := compressConfig(c, nil)
			if err != nil {
				return err
			}
			resume, force, err := checkpointMode(c)
			if err != nil {
				return err
			}
			structured := cfg.Structure != ""
			speedBatches, err := parseBatches(c.String("speed-batches"))
			if err != nil {
				return err
			}
			in := c.String("model")
			m, err := readModelFile(in)
			if err != nil {
				return err
			}
			if err := checkLayerLambda(c, m); err != nil {
				return err
			}
			out := c.String("out")
			if out == "" {
				out = trimExt(in) + "-pruned.safetensors"
			}
			ckPath := checkpointPath(c, out)
			ckOut := path{"--checkpoint", ckPath}
			outs := []path{{"--out", out}, {"--report", c.String("report")}, {"--markdown", c.String("markdown")}, {"--plot", c.String("plot")}}
			if err := checkPaths([]path{{"--model", in}}, append(outs, path{"--checkpoint", ckPath})...); err != nil {
				return err
			}
			release, err := claimOutputs([]path{{"--model", in}}, append(outs, ckOut)...)
			defer release()
			if err != nil {
				return err
			}
			if err := checkNoCheckpoint("--checkpoint", ckPath, resume, force); err != nil {
				return err
			}
			trainSet, testSet, err := loadMNIST(c.String("data-dir"), c.Int("train-samples"), m.Spec)
			if err != nil {
				return err
			}
			p := newProgress(c.App.ErrWriter, c.Bool("quiet"), m.Spec.Name)
			p.logf("compressing %s (%d prunable weights) with %s: %s, %d epochs + %d fine-tuning, lr %g (%s), seed %d",
				in, countPrunable(m), cfg.Method, methodSettings(cfg), cfg.Epochs, cfg.FinetuneEpochs, cfg.LR, cfg.Schedule.Kind, cfg.Seed)
			if resume {
				var ck compress.Checkpoint
				if err := loadCheckpoint(ckPath, &ck); err != nil {
					return err
				}
				cfg.Resume = &ck
				p.logf("resuming from %s: %s", ckPath, resumePoint(&ck))
			}
			rec := compressProgress{p: p, path: ckPath}
			var dense *models.Model // the input, to time against the thinned model
			if structured {
				dense = &models.Model{Spec: m.Spec, Params: m.Params.Clone()}
			}
			var before compress.Report // the input's non-zeros, for --plot
			before.Count(m)
			rep, err := compress.Run(c.Context, m, compress.Data{Train: trainSet, Test: testSet}, cfg, rec)
			if err != nil {
				if badResume(err) {
					return errors.Wrapf(err, "--resume: %s (remove it or change --checkpoint)", ckPath)
				}
				return interrupted(err, c, ckPath)
			}
			if structured && len(speedBatches) > 0 {
				p.logf("timing the forward pass of the dense and the thinned model at batch %s", c.String("speed-batches"))
				if rep.Speed, err = compress.MeasureSpeed(dense, m, speedBatches, speedBudget); err != nil {
					return errors.Wrap(err, "timing the forward pass")
				}
			}
			if l := rep.Loss.Final(); l != nil {
				if err := checkFinalLoss(*l, m.Spec.Classes(), "--lr or --lambda"); err != nil {
					os.Remove(ckPath) // the run is over: nothing to resume
					return err
				}
			}
			stampCompressed(m, cfg, rep, commandLine(c), in, trainSet)
			m.Meta.Extra["recipe"] = recipeJSON(recipeOf(c, false))
			rep.Recipe = recipeOf(c, true)
			if err := models.WriteFile(out, m); err != nil {
				return err
			}
			if st, err := os.Stat(out); err == nil {
				rep.OutputFile, rep.OutputBytes = out, st.Size()
			}
			if !c.Bool("quiet") {
				if err := rep.WriteText(c.App.ErrWriter); err != nil {
					return err
				}
			}
			os.Remove(ckPath) // done: the checkpoint is of no further use
			if path := c.String("report"); path != "" {
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				if err := atomicfile.WriteBytes(path, append(b, '\n')); err != nil {
					return errors.Wrapf(err, "write report %s", path)
				}
			}
			if path := c.String("plot"); path != "" {
				if err := writePlot(path, compressFigure(fmt.Sprintf("%s: %s compression", m.Spec.Name, cfg.Method), rep, before.Layers)); err != nil {
					return err
				}
			}
			if path := c.String("markdown"); path != "" {
				write := rep.WriteMarkdown
				if plot := c.String("plot"); plot != "" {
					write = withPlotLink(write, path, plot)
				}
				if err := atomicfile.Write(path, write); err != nil {
					return errors.Wrapf(err, "write report %s", path)
				}
			}
			ratio := "∞"
			if r := rep.Totals.CompressionRatio; r != nil {
				ratio = fmt.Sprintf("%.1f×", *r)
			}
			val := ""
			if v := rep.Validation; v != nil {
				val = fmt.Sprintf(", validation accuracy %s", pct(v.FinalAccuracy))
			}
			fmt.Fprintf(c.App.Writer, "wrote %s: %d of %d prunable weights non-zero (%s), test accuracy %s%s\n",
				out, rep.Totals.PrunableNonZero, rep.Totals.PrunableParams, ratio, pct(rep.Accuracy.Final()), val)
			return nil
		},
	}
}

// compressConfig maps the flags of `spred compress` (also those of
// `spred sweep`) onto compress.Config, rejecting values out of range as
// usage errors. set, if not nil, adjusts the config before it is checked
// (`spred sweep` puts a swept value in).
func compressConfig(c *cli.Context, set func(*compress.Config)) (compress.Config, error) {
	return compressConfigFor(c, c.String("method"), set)
}

// compressConfigFor is compressConfig for the given method instead of
// --method's (a sweep over several methods).
func compressConfigFor(c *cli.Context, method string, set func(*compress.Config)) (compress.Config, error) {
	tcfg, err := sgdConfig(c, "")
	if err != nil {
		return compress.Config{}, err
	}
	cfg := compress.Config{
		Lambda: c.Float64("lambda"), Threshold: c.Float64("threshold"), EpochThreshold: c.Bool("epoch-threshold"),
		FromScratch: c.Bool("from-scratch"), Epochs: tcfg.Epochs, Batch: tcfg.Batch, LR: tcfg.LR,
		Momentum: tcfg.Momentum, Nesterov: tcfg.Nesterov, Schedule: tcfg.Schedule,
		FinetuneEpochs: c.Int("finetune-epochs"), FinetuneLR: c.Float64("finetune-lr"), FinetuneDecay: c.Float64("finetune-decay"), Recalibrate: c.Int("recalibrate"), FinetuneSchedule: train.Schedule{Kind: c.String("finetune-schedule")},
		Seed: tcfg.Seed, Dtype: tcfg.Dtype,
		Structure: c.String("structure"),
		Method:    method, TargetSparsity: c.Float64("target-sparsity"), Rounds: c.Int("rounds"), RetrainDecay: c.Float64("retrain-decay"),
		TargetRatio: c.Float64("target-ratio"), ValFraction: c.Float64("val-fraction"),
	}
	if cfg.Structure == compress.StructureElement {
		cfg.Structure = "" // the element-wise pass, exactly as before structures existed
	}
	if cfg.LayerScale, cfg.LayerLambda, err = parseLayerLambda(c.String("layer-lambda")); err != nil {
		return cfg, err
	}
	cfg.LayerThreshold = c.Bool("layer-threshold")
	cfg.HoldNorms = c.Bool("hold-norms")
	meth, err := lookupMethod("method", cfg.Method)
	if err != nil {
		return cfg, err
	}
	info := meth.Info()
	if !c.IsSet("lr") {
		// The baselines and the grouped structures have their own rate.
		cfg.LR = compress.DefaultConfigFor(cfg.Method, cfg.Structure).LR // structuredLR for a grouped structure
	}
	if !info.Rounds {
		// --rounds and --retrain-decay have defaults; they only matter to a method in rounds (magnitude).
		cfg.Rounds, cfg.RetrainDecay = 0, 0
	} else if cfg.Rounds < 1 {
		return cfg, usagef("--rounds must be ≥ 1, got %d", cfg.Rounds)
	}
	if c.IsSet("target-ratio") && c.IsSet("target-sparsity") {
		return cfg, usagef("give --target-ratio or --target-sparsity, not both")
	}
	if c.IsSet("target-ratio") && !(cfg.TargetRatio > 1 && !math.IsInf(cfg.TargetRatio, 0)) {
		return cfg, usagef("--target-ratio must be > 1 and finite, got %v", cfg.TargetRatio)
	}
	if c.IsSet("target-sparsity") && !(cfg.TargetSparsity > 0 && cfg.TargetSparsity < 1) {
		return cfg, usagef("--target-sparsity must be in (0, 1), got %v", cfg.TargetSparsity)
	}
	if (cfg.TargetRatio != 0 || cfg.TargetSparsity != 0) && !(c.IsSet("lambda") && info.Lambda) {
		cfg.Lambda = 0 // the target finds λ; with --lambda given it is held and only the final τ is set
	}
	if !(cfg.ValFraction >= 0 && cfg.ValFraction < 1) {
		return cfg, usagef("--val-fraction must be in [0, 1), got %v", cfg.ValFraction)
	}
	if set != nil {
		set(&cfg)
	}
	if !(cfg.Lambda >= 0) || math.IsInf(cfg.Lambda, 0) {
		return cfg, usagef("--lambda must be ≥ 0 and finite, got %v", cfg.Lambda)
	}
	if !(cfg.Threshold > 0) || math.IsInf(cfg.Threshold, 0) {
		return cfg, usagef("--threshold must be positive and finite, got %v", cfg.Threshold)
	}
	if err := checkSchedule("finetune-schedule", c.String("finetune-schedule")); err != nil {
		return cfg, err
	}
	if cfg.FinetuneEpochs < 0 {
		return cfg, usagef("--finetune-epochs must be ≥ 0, got %d", cfg.FinetuneEpochs)
	}
	if cfg.Recalibrate < 0 {
		return cfg, usagef("--recalibrate must be ≥ 0, got %d", cfg.Recalibrate)
	}
	if cfg.FinetuneLR <= 0 {
		return cfg, usagef("--finetune-lr must be positive, got %v", cfg.FinetuneLR)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// speedBudget is about how long the forward pass of each model is timed at
// each batch size.
const speedBudget = 2 * time.Second

// parseBatches reads a comma-separated list of batch sizes ("" is none).
func parseBatches(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		b, err := strconv.Atoi(f)
		if err != nil || b < 1 || b > 100000 {
			return nil, usagef("--speed-batches: %q is not a batch size in [1, 100000]", f)
		}
		out = append(out, b)
	}
	return out, nil
}

// lookupMethod is compress.Lookup of the value of --flag, as a usage error
// that lists the registered methods.
func lookupMethod(flag, name string) (compress.Method, error) {
	m, err := compress.Lookup(name)
	if err != nil {
		return nil, usagef("--%s: %v", flag, err)
	}
	return m, nil
}

// methodUsage lists the registered methods with their summaries, for the
// help of --method.
func methodUsage() string {
	var parts []string
	for _, n := range compress.MethodNames() {
		if m, err := compress.Lookup(n); err == nil {
			parts = append(parts, n+" ("+m.Info().Summary+")")
		}
	}
	return strings.Join(parts, ", ")
}

// methodSettings describes the settings specific to cfg's method, for logs
// (compress.Method.Describe).
func methodSettings(cfg compress.Config) string {
	m, err := compress.Lookup(cfg.Method)
	if err != nil {
		return err.Error()
	}
	return m.Describe(cfg)
}

// compressProgress adapts progress to compress.Recorder, StepRecorder and
// Checkpointer.
type compressProgress struct {
	p    *progress
	path string
}

func (cp compressProgress) Checkpoint(ck *compress.Checkpoint) error {
	return saveCheckpoint(cp.path, ck)
}

func (cp compressProgress) Record(s *compress.Stats) {
	st := s.EpochStats
	st.Extra = map[string]float64{"sparsity": s.Sparsity}
	if s.Phase == compress.PhaseSpred {
		st.Extra["imbalance"] = s.Imbalance
	}
	label := cp.p.label
	cp.p.label = label + " " + s.Phase
	cp.p.Record(&st)
	cp.p.label = label
}

func (cp compressProgress) Step(phase string, epoch, epochs, step, steps int) {
	cp.p.step(epoch, epochs, step, steps)
}

var _ train.Recorder = (*progress)(nil)

func pct(v *float64) string {
	if v == nil {
		return "not measured"
	}
	return fmt.Sprintf("%.2f%%", 100**v)
}

func countPrunable(m *models.Model) int {
	n := 0
	for _, p := range m.Params.Prunable() {
		n += p.Len()
	}
	return n
}

// stampCompressed records in m's provenance how the compressed model was
// made: tool, seed, data, final accuracy and loss, command and input file.
func stampCompressed(m *models.Model, cfg compress.Config, rep *compress.Report, command, in string, data *dataset.Dataset) {
	m.Meta.Tool = spred.Tool
	m.Meta.Seed = cfg.Seed
	m.Meta.Data = dataName(data)
	m.Meta.Accuracy = rep.Accuracy.Final()
	m.Meta.Loss = rep.Loss.Final()
	if m.Meta.Extra == nil {
		m.Meta.Extra = map[string]string{}
	}
	m.Meta.Extra["command"] = command
	m.Meta.Extra["compressed_from"] = in
	m.Meta.Extra["blas"] = graph.BLASBackend
	m.Meta.Extra["conv"] = graph.ConvBackend
}

// parseLayerLambda reads --layer-lambda: at most one rule (uniform or
// size; "" is uniform) and NAME=F items, comma-separated.
func parseLayerLambda(s string) (string, map[string]float64, error) {
	rule := ""
	var named map[string]float64
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		name, val, isNamed := strings.Cut(item, "=")
		switch {
		case item == "":
			continue
		case !isNamed && rule != "":
			return "", nil, usagef("--layer-lambda: two rules, %s and %s", rule, item)
		case !isNamed && item != compress.LayerScaleUniform && item != compress.LayerScaleSize:
			return "", nil, usagef("--layer-lambda: unknown rule %q (want %s or %s, or NAME=F)", item, compress.LayerScaleUniform, compress.LayerScaleSize)
		case !isNamed:
			rule = item
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || strings.TrimSpace(name) == "" {
			return "", nil, usagef("--layer-lambda: %q is not NAME=F with F ≥ 0 and finite", item)
		}
		if named == nil {
			named = map[string]float64{}
		}
		if _, dup := named[strings.TrimSpace(name)]; dup {
			return "", nil, usagef("--layer-lambda: %s given twice", strings.TrimSpace(name))
		}
		named[strings.TrimSpace(name)] = f
	}
	if rule == compress.LayerScaleUniform {
		rule = ""
	}
	return rule, named, nil
}

// checkLayerLambda refuses --layer-lambda items that name no prunable
// weight of m, and --hold-norms for a model with nothing to hold, before
// anything is loaded or written.
func checkLayerLambda(c *cli.Context, m *models.Model) error {
	_, named, err := parseLayerLambda(c.String("layer-lambda"))
	if err != nil {
		return err
	}
	if _, err := (compress.Config{LayerLambda: named}).ResolveLayers(m); err != nil {
		return usagef("--layer-lambda: %s", strings.TrimSuffix(err.Error(), ": "+compress.ErrConfig.Error()))
	}
	if c.Bool("hold-norms") {
		if _, err := (compress.Config{HoldNorms: true}).ResolveLayers(m); err != nil {
			return usagef("--hold-norms: %s", strings.TrimSuffix(err.Error(), ": "+compress.ErrConfig.Error()))
		}
	}
	return nil
}
