package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/featsel"
	"github.com/spred-go/spred/internal/atomicfile"
)

func selectCommand() *cli.Command {
	return &cli.Command{
		Name:  "select",
		Usage: "select the few relevant features of a wide CSV table with a spred input gate, cross-validated",
		Description: "Puts a gate s (one entry per feature) in front of a linear or MLP softmax head,\n" +
			"x → (s⊙x) → head, and decays s and the first layer: a group lasso over the input\n" +
			"features. Features whose gate reaches 0 are dropped, the rest ranked by |s_j|, and\n" +
			"the head is refitted on them. --method l1-logistic selects with L1-penalised\n" +
			"logistic regression (the `spred lasso` solver) instead, for comparison.\n\n" +
			"With --lambda the penalty is given; with --features K, λ is searched by bisection\n" +
			"on the log scale until at most K features survive. Both take a comma-separated\n" +
			"list. The accuracy is cross-validated (stratified k-fold, --repeats times): the\n" +
			"standardisation and the whole selection are redone on the training rows of every\n" +
			"fold. Then the selection is run once on all samples. Every feature cell must be a\n" +
			"finite number (NaN is refused, naming row and column); a feature constant on the\n" +
			"training rows is standardised to 0 and never selected; every class needs at least\n" +
			"--folds samples.\n\n" +
			"Prints one line per point on stdout; --out writes the JSON report (accuracies,\n" +
			"each fold's features, how often each feature was selected, the overlap of the\n" +
			"folds' selections, the selection on all samples), --plot a PNG of accuracy\n" +
			"against the number of features and --markdown a table; --compare adds earlier\n" +
			"reports to both.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "csv", Usage: "input table, plain or gzip-compressed: one row per sample (required)"},
			&cli.StringFlag{Name: "label", Usage: "column holding the class labels (required)"},
			&cli.StringFlag{Name: "ignore", Usage: "comma-separated columns to drop (e.g. other label columns)"},
			&cli.StringFlag{Name: "classes", Usage: "comma-separated labels to keep (other rows are dropped), in class order"},
			&cli.StringFlag{Name: "method", Value: string(featsel.MethodSpred), Usage: "spred (input gate) or l1-logistic (baseline, 2 classes)"},
			&cli.StringFlag{Name: "head", Value: string(featsel.HeadLinear), Usage: "model behind the gate: linear or mlp"},
			&cli.IntFlag{Name: "hidden", Value: featsel.DefaultHidden, Usage: "hidden width of the mlp head"},
			&cli.StringFlag{Name: "lambda", Usage: "penalty λ > 0 on the mean cross-entropy, or a comma-separated list"},
			&cli.StringFlag{Name: "features", Usage: "at most K features: search λ for each K of a comma-separated list"},
			&cli.IntFlag{Name: "folds", Value: 5, Usage: "number of stratified cross-validation folds"},
			&cli.IntFlag{Name: "repeats", Value: 1, Usage: "repeat the k-fold split with seeds seed, seed+1, ..."},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the folds (and of the mlp's initial values)"},
			&cli.Float64Flag{Name: "threshold", Usage: fmt.Sprintf("drop features whose ‖s_j·W1_j‖ is below this times the largest (0: %g)", featsel.DefaultThreshold)},
			&cli.Float64Flag{Name: "refit-decay", Usage: fmt.Sprintf("ridge decay of the refit on the selected features (0: %g, negative: none)", featsel.DefaultRefitDecay)},
			&cli.IntFlag{Name: "max-iter", Usage: fmt.Sprintf("L-BFGS iterations per fit (0: %d, mlp %d)", featsel.DefaultMaxIter, featsel.DefaultMaxIterMLP)},
			&cli.StringFlag{Name: "out", Usage: "write the JSON report here"},
			&cli.StringFlag{Name: "plot", Usage: "write the PNG of accuracy against the number of features here"},
			&cli.StringFlag{Name: "markdown", Usage: "write a Markdown table of accuracy against target here"},
			&cli.StringFlag{Name: "compare", Usage: "comma-separated JSON reports of earlier runs to add to the plot and the table"},
			quietFlag,
		},
		Action: runSelect,
	}
}

func runSelect(c *cli.Context) error {
	csvPath := c.String("csv")
	if csvPath == "" {
		return usagef("select: --csv is required")
	}
	label := strings.TrimSpace(c.String("label"))
	if label == "" {
		return usagef("select: --label is required")
	}
	cfg := featsel.Config{
		Method:     featsel.Method(c.String("method")),
		Head:       featsel.Head(c.String("head")),
		Hidden:     c.Int("hidden"),
		Threshold:  c.Float64("threshold"),
		RefitDecay: c.Float64("refit-decay"),
		MaxIter:    c.Int("max-iter"),
		Seed:       c.Int64("seed"),
	}
	if c.IsSet("head") && cfg.Method == featsel.MethodL1Logistic {
		return usagef("select: --head does not apply to --method l1-logistic (a linear model)")
	}
	if cfg.Method == featsel.MethodL1Logistic {
		cfg.Head = ""
	}
	switch {
	case cfg.Method != featsel.MethodSpred && cfg.Method != featsel.MethodL1Logistic:
		return usagef("select: unknown --method %q (want spred or l1-logistic)", string(cfg.Method))
	case cfg.Head != "" && cfg.Head != featsel.HeadLinear && cfg.Head != featsel.HeadMLP:
		return usagef("select: unknown --head %q (want linear or mlp)", string(cfg.Head))
	case cfg.Hidden < 1 || cfg.Hidden > 4096:
		return usagef("select: --hidden must be in [1, 4096], got %d", cfg.Hidden)
	case !(cfg.Threshold >= 0 && cfg.Threshold < 1):
		return usagef("select: --threshold must be in [0, 1), got %v", cfg.Threshold)
	case math.IsNaN(cfg.RefitDecay) || math.IsInf(cfg.RefitDecay, 0):
		return usagef("select: --refit-decay must be finite, got %v", cfg.RefitDecay)
	case cfg.MaxIter < 0:
		return usagef("select: --max-iter must be ≥ 0, got %d", cfg.MaxIter)
	}
	targets, err := selectTargets(c.String("lambda"), c.String("features"))
	if err != nil {
		return err
	}
	cv := featsel.CVConfig{Folds: c.Int("folds"), Repeats: c.Int("repeats"), Seed: c.Int64("seed")}
	if cv.Folds < 2 || cv.Folds > 1000 {
		return usagef("select: --folds must be in [2, 1000], got %d", cv.Folds)
	}
	if cv.Repeats < 1 || cv.Repeats > 1000 {
		return usagef("select: --repeats must be in [1, 1000], got %d", cv.Repeats)
	}
	if err := cfg.Validate(); err != nil && !strings.Contains(err.Error(), "lambda") {
		return usageError{err}
	}
	out, plotPath, mdPath := c.String("out"), c.String("plot"), c.String("markdown")
	inputs := []path{{"--csv", csvPath}}
	for _, p := range splitList(c.String("compare")) {
		inputs = append(inputs, path{"--compare", p})
	}
	// Outputs are replaced by renaming a new file over them: never an
	// input, a device or a folder.
	release, err := claimOutputs(inputs, path{"--out", out}, path{"--plot", plotPath}, path{"--markdown", mdPath})
	defer release()
	if err != nil {
		return err
	}
	var others []*featsel.Report
	for _, p := range splitList(c.String("compare")) {
		r, err := readSelectReport(p)
		if err != nil {
			return err
		}
		others = append(others, r)
	}

	data, err := dataset.ReadCSVWith(csvPath, dataset.CSVOptions{
		Label: label, Ignore: splitList(c.String("ignore")), Classes: splitList(c.String("classes")),
	})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.Features > data.Size() {
			return usagef("select: --features %d is more than the %d features of %s", t.Features, data.Size(), csvPath)
		}
	}
	if cfg.Method == featsel.MethodL1Logistic && data.Classes != 2 {
		return usagef("select: l1-logistic needs 2 classes, %s has %d in column %q (choose two with --classes)", csvPath, data.Classes, label)
	}
	var progress func(string)
	if !c.Bool("quiet") {
		progress = func(s string) { fmt.Fprintf(c.App.ErrWriter, "spred select: %s\n", s) }
	}
	rep, err := featsel.CrossValidate(c.Context, data, cfg, targets, cv, progress)
	if err != nil {
		return err
	}
	if err := rep.WriteText(c.App.Writer); err != nil {
		return err
	}
	all := append(others, rep)
	if out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(out, append(b, '\n')); err != nil {
			return err
		}
	}
	if plotPath != "" {
		var buf bytes.Buffer
		title := fmt.Sprintf("%s, label %s: %d-fold CV × %d", data.Name, label, cv.Folds, cv.Repeats)
		if err := featsel.Plot(all, title, &buf); err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(plotPath, buf.Bytes()); err != nil {
			return err
		}
	}
	if mdPath != "" {
		if err := atomicfile.WriteBytes(mdPath, featsel.Table(all)); err != nil {
			return err
		}
	}
	return nil
}

// selectTargets parses --lambda and --features: exactly one is given.
func selectTargets(lambdas, features string) ([]featsel.Target, error) {
	if (lambdas == "") == (features == "") {
		return nil, usagef("select: give exactly one of --lambda and --features")
	}
	var ts []featsel.Target
	for _, s := range splitList(lambdas) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, usagef("select: --lambda %q is not a finite number > 0", s)
		}
		ts = append(ts, featsel.Target{Lambda: v})
	}
	for _, s := range splitList(features) {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			return nil, usagef("select: --features %q is not a whole number ≥ 1", s)
		}
		ts = append(ts, featsel.Target{Features: k})
	}
	if len(ts) == 0 {
		return nil, usagef("select: empty --lambda or --features list")
	}
	return ts, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func readSelectReport(path string) (*featsel.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.WithStack(err)
	}
	var r featsel.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, errors.Wrapf(err, "--compare %s: not a select report", path)
	}
	if len(r.Points) == 0 {
		return nil, errors.Errorf("--compare %s: not a select report (no points)", path)
	}
	return &r, nil
}
