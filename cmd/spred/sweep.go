package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/sweep"
)

// sweepOnly are the flags of `spred sweep` that `spred compress` lacks; the
// compress flags it leaves out are per point (sweepDropped).
var (
	sweepOnly = map[string]bool{"lambdas": true, "lambda-range": true, "thresholds": true, "target-sparsities": true, "target-ratios": true,
		"seeds": true, "dir": true, "list-jobs": true, "format": true}
	sweepDropped = map[string]bool{"out": true, "report": true, "markdown": true, "lambda": true, "target-sparsity": true, "target-ratio": true,
		"checkpoint": true, "resume": true, "force": true, "plot": true}
)

func sweepCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "lambdas", Usage: "comma-separated λ values, e.g. 1e-4,2e-4 (with --target-ratios: each held at every ratio)"},
		&cli.StringFlag{Name: "lambda-range", Usage: "LO:HI:N: N log-spaced λ values from LO to HI, both included (3 significant digits), e.g. 1e-5:1e-3:8"},
		&cli.StringFlag{Name: "thresholds", Usage: "comma-separated τ values, each run with every λ (default: --threshold)"},
		&cli.StringFlag{Name: "target-sparsities", Usage: "--method magnitude: comma-separated target sparsities in (0, 1), e.g. 0.8,0.9,0.95 (replace the λ values)"},
		&cli.StringFlag{Name: "target-ratios", Usage: "comma-separated compression ratios > 1 to ask for instead of λ values, e.g. 10,30,100,300 (each point as `spred compress --target-ratio`); --method may then list several methods, e.g. spred,magnitude,l1"},
		&cli.StringFlag{Name: "seeds", Usage: "comma-separated seeds, e.g. 1,2,3: every point runs once per seed (replaces --seed); the tables and the plot show the mean ± std per point"},
		&cli.StringFlag{Name: "dir", Usage: "sweep folder: per point ID.json (report), ID.safetensors (pruned model), ID.ckpt while running; then sweep.csv, sweep.md, sweep.png; required (created if its parent exists)"},
		&cli.BoolFlag{Name: "list-jobs", Usage: "print one spred compress command line per pending point (files inside --dir) instead of running: `spred sweep ... --list-jobs | parallel -j 4`, then `spred sweep merge DIR`; a point whose checkpoint exists gets --resume, so after an interruption list the jobs again and run them"},
		&cli.StringFlag{Name: "format", Value: "lines", Usage: "--list-jobs: lines (one shell command per point, for GNU parallel or xargs) or slurm (a job-array script for sbatch: one task per point)"},
	}
	for _, f := range compressCommand().Flags {
		if !sweepDropped[f.Names()[0]] {
			flags = append(flags, f)
		}
	}
	merge := &cli.Command{
		Name:      "merge",
		Usage:     "rebuild sweep.csv, sweep.md and sweep.png of DIR from the reports in it, however they were produced",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "title", Usage: "title of the plot (default: from the model name)"},
			&cli.StringFlag{Name: "model-name", Usage: "zoo model name whose published results to add to sweep.md (" + strings.Join(sortedKeys(sweep.Published), ", ") + ")"},
		},
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error { return usageError{err} },
		Action:       sweepMerge,
	}
	return &cli.Command{
		Name:  "sweep",
		Usage: "compress one dense model at every λ (and τ) of a list or log range, resumably, and tabulate and plot the results",
		Description: "Runs the pass of `spred compress` (same flags, except that --lambdas or --lambda-range and\n" +
			"--thresholds replace --lambda and --threshold, and --dir the output files) once per point on a\n" +
			"fresh copy of the model. Each point writes DIR/ID.json (its report, last and atomically),\n" +
			"DIR/ID.safetensors and, while it runs, the checkpoint DIR/ID.ckpt. A point whose report exists\n" +
			"and was made from the same model, flags and data (its key) is skipped; a report from another\n" +
			"run stops the sweep before anything runs (use another --dir). A point with a checkpoint resumes\n" +
			"from it: rerun the same command after an interruption. The ID names the method, the structure\n" +
			"(spred-neuron_...) and from-scratch (spred-from-scratch_...); a structured point is timed at\n" +
			"--speed-batches. Then DIR/sweep.csv, sweep.md (with published results for the zoo model) and\n" +
			"sweep.png (accuracy against compression ratio, Pareto front marked) are written from all the\n" +
			"reports in DIR. A failing point does not stop the others; the exit code is 1 then.\n" +
			"--target-ratios R1,R2,... asks every point for a compression ratio instead of a λ (the λ is\n" +
			"found during each run, see `spred compress --target-ratio`), for every method listed in\n" +
			"--method (e.g. spred,magnitude,l1), so the methods compare at the same ratios; with --lambdas\n" +
			"(or --lambda-range) too, the methods with a λ run once per ratio and λ, that λ held and only\n" +
			"the final τ set to the ratio (`spred compress --lambda L --target-ratio R`). --seeds runs\n" +
			"every point once per seed: sweep.csv has one row per run (with its seed), sweep.md and\n" +
			"sweep.png the mean ± std of the ratio and of the error per point.\n" +
			"`spred sweep merge [--title T] [--model-name NAME] DIR` rebuilds the three from the reports.",
		Flags:           flags,
		HideHelpCommand: true,
		Subcommands:     []*cli.Command{merge},
		Before: func(c *cli.Context) error {
			if c.Args().Len() > 0 && c.Args().First() != "merge" {
				return usagef("sweep: unexpected argument %q (the only subcommand is merge)", c.Args().First())
			}
			return nil
		},
		Action: runSweep,
	}
}

func runSweep(c *cli.Context) error {
	in, dir := c.String("model"), c.String("dir")
	if in == "" {
		return usagef("sweep: --model is required")
	}
	if dir == "" {
		return usagef("sweep: --dir is required")
	}
	method := c.String("method")
	if c.IsSet("target-ratios") {
		return runRatioSweep(c, in, dir, method)
	}
	if strings.Contains(method, ",") {
		return usagef("sweep: several methods (--method %s) need --target-ratios, the values they share", method)
	}
	meth, err := lookupMethod("method", method)
	if err != nil {
		return err
	}
	if !meth.Info().Lambda {
		return runSweepPoints(c, in, dir, meth)
	}
	if c.IsSet("target-sparsities") {
		return usagef("sweep: --target-sparsities needs a method without λ (%s), not %s", strings.Join(methodsWithout(func(i compress.MethodInfo) bool { return i.Lambda }), ", "), method)
	}
	lambdas, err := sweptLambdas(c)
	if err != nil {
		return err
	}
	if lambdas == nil {
		return usagef("sweep: give the λ values with --lambdas or --lambda-range")
	}
	// The swept λ, not a --lambda flag (sweep has none), is what the
	// config is checked with; every point is checked again below.
	cfg, err := compressConfig(c, func(cfg *compress.Config) {
		if len(lambdas) > 0 {
			cfg.Lambda = lambdas[0]
		}
	})
	if err != nil {
		return err
	}
	taus := []float64{cfg.Threshold}
	if c.IsSet("thresholds") {
		if taus, err = sweep.ParseList(c.String("thresholds")); err != nil {
			return usagef("--thresholds: %v", err)
		}
		for _, t := range taus {
			if !(t > 0) {
				return usagef("--thresholds: every τ must be positive, got %v", t)
			}
		}
	}
	points := sweep.Points(cfg.Method, lambdas, taus)
	for i := range points {
		points[i].Structure, points[i].FromScratch, points[i].LayerScale = cfg.Structure, cfg.FromScratch, cfg.LayerScale
		points[i].LayerLambda = compress.LayerList(cfg.LayerLambda)
		points[i].LayerThreshold, points[i].HoldNorms = cfg.LayerThreshold, cfg.HoldNorms
	}
	if points, err = seeded(c, points); err != nil {
		return err
	}
	for _, p := range points {
		if err := p.Config(cfg).Validate(); err != nil {
			return usageError{err}
		}
	}
	return runPoints(c, in, dir, meth.Info().Title+" λ sweep of ", points, func(sweep.Point) compress.Config { return cfg })
}

// sweptLambdas is the λ list of --lambdas or --lambda-range (nil when
// neither is given).
func sweptLambdas(c *cli.Context) ([]float64, error) {
	switch {
	case c.IsSet("lambdas") && c.IsSet("lambda-range"):
		return nil, usagef("sweep: give --lambdas or --lambda-range, not both")
	case c.IsSet("lambdas"):
		l, err := sweep.ParseList(c.String("lambdas"))
		if err != nil {
			return nil, usagef("--lambdas: %v", err)
		}
		return l, nil
	case c.IsSet("lambda-range"):
		l, err := sweep.ParseRange(c.String("lambda-range"))
		if err != nil {
			return nil, usagef("--lambda-range: %v", err)
		}
		return l, nil
	}
	return nil, nil
}

// seeded is points once per seed of --seeds (points as they are without
// it).
func seeded(c *cli.Context, points []sweep.Point) ([]sweep.Point, error) {
	if !c.IsSet("seeds") {
		return points, nil
	}
	seeds, err := sweep.ParseSeeds(c.String("seeds"))
	if err != nil {
		return nil, usagef("--seeds: %v", err)
	}
	if c.IsSet("seed") {
		return nil, usagef("sweep: give --seed or --seeds, not both")
	}
	return sweep.WithSeeds(points, seeds), nil
}

// runRatioSweep sweeps target compression ratios, for every method of
// the comma-separated list methods.
func runRatioSweep(c *cli.Context, in, dir, methods string) error {
	for _, name := range []string{"thresholds", "target-sparsities"} {
		if c.IsSet(name) {
			return usagef("sweep: --%s does not apply with --target-ratios (the points ask for ratios)", name)
		}
	}
	lambdas, err := sweptLambdas(c)
	if err != nil {
		return err
	}
	for _, l := range lambdas {
		if !(l > 0) || math.IsInf(l, 0) {
			return usagef("sweep: a λ held with --target-ratios must be > 0 and finite, got %v", l)
		}
	}
	ratios, err := sweep.ParseList(c.String("target-ratios"))
	if err != nil {
		return usagef("--target-ratios: %v", err)
	}
	for _, r := range ratios {
		if !(r > 1) {
			return usagef("--target-ratios: every ratio must be > 1, got %v", r)
		}
	}
	cfgs := map[string]compress.Config{}
	var points []sweep.Point
	var names []string
	for _, m := range strings.Split(methods, ",") {
		m = strings.TrimSpace(m)
		if _, dup := cfgs[m]; dup {
			continue
		}
		cfg, err := compressConfigFor(c, m, func(cfg *compress.Config) { cfg.TargetRatio, cfg.Lambda = ratios[0], 0 })
		if err != nil {
			return err
		}
		cfgs[m] = cfg
		names = append(names, m)
		ps := sweep.RatioPoints(m, ratios, lambdas, cfg.Threshold) // no τ for a method without one, λ held for one with
		for i := range ps {
			ps[i].Structure, ps[i].FromScratch, ps[i].LayerScale = cfg.Structure, cfg.FromScratch, cfg.LayerScale
			ps[i].LayerLambda = compress.LayerList(cfg.LayerLambda)
			ps[i].LayerThreshold, ps[i].HoldNorms = cfg.LayerThreshold, cfg.HoldNorms
		}
		points = append(points, ps...)
	}
	if points, err = seeded(c, points); err != nil {
		return err
	}
	configOf := func(p sweep.Point) compress.Config { return cfgs[p.Method] }
	for _, p := range points {
		if err := p.Config(configOf(p)).Validate(); err != nil {
			return usageError{err}
		}
	}
	return runPoints(c, in, dir, strings.Join(names, ", ")+" at target ratios: ", points, configOf)
}

// runSweepPoints sweeps the target sparsity of a method without λ
// (magnitude pruning).
func runSweepPoints(c *cli.Context, in, dir string, meth compress.Method) error {
	method := meth.Name()
	for _, name := range []string{"lambdas", "lambda-range", "thresholds"} {
		if c.IsSet(name) {
			return usagef("sweep: --%s does not apply to --method %s (sweep --target-sparsities)", name, method)
		}
	}
	if !c.IsSet("target-sparsities") {
		return usagef("sweep: --method %s needs --target-sparsities, e.g. 0.8,0.9,0.95", method)
	}
	targets, err := sweep.ParseList(c.String("target-sparsities"))
	if err != nil {
		return usagef("--target-sparsities: %v", err)
	}
	for _, t := range targets {
		if !(t > 0 && t < 1) {
			return usagef("--target-sparsities: every target must be in (0, 1), got %v", t)
		}
	}
	cfg, err := compressConfig(c, func(cfg *compress.Config) { cfg.TargetSparsity = targets[0] })
	if err != nil {
		return err
	}
	points, err := seeded(c, sweep.TargetPoints(method, targets))
	if err != nil {
		return err
	}
	for _, p := range points {
		if err := p.Config(cfg).Validate(); err != nil {
			return usageError{err}
		}
	}
	return runPoints(c, in, dir, strings.ReplaceAll(meth.Info().Title, " ", "-")+" sweep of ", points, func(sweep.Point) compress.Config { return cfg })
}

// runPoints runs the pending points of a sweep (sweep.Run), each with the
// config configOf gives its method, and merges the results under a title
// that ends with the model's name. A point is done when its report exists
// and carries the point's key (its whole configuration, the input model and
// the data; see compress.Key) and the speed batches asked for; a report
// with another key stops the sweep before anything runs.
func runPoints(c *cli.Context, in, dir, title string, points []sweep.Point, configOf func(sweep.Point) compress.Config) error {
	switch f := c.String("format"); {
	case f != "lines" && f != "slurm":
		return usagef("sweep: --format must be lines or slurm, got %q", f)
	case c.IsSet("format") && !c.Bool("list-jobs"):
		return usagef("sweep: --format applies to --list-jobs")
	}
	speedBatches, err := parseBatches(c.String("speed-batches"))
	if err != nil {
		return err
	}
	dense, err := readModelFile(in)
	if err != nil {
		return err
	}
	if err := checkLayerLambda(c, dense); err != nil {
		return err
	}
	if err := makeSweepDir(dir); err != nil {
		return err
	}
	// The sweep's own files: held for the whole sweep, so that a second
	// sweep of the same folder stops at once, before any work (listing the
	// jobs writes nothing and takes no lock).
	if !c.Bool("list-jobs") {
		release, err := claimOutputs([]path{{"--model", in}}, path{"--dir", filepath.Join(dir, "sweep.csv")})
		defer release()
		if err != nil {
			return err
		}
	}
	trainSet, testSet, err := loadMNIST(c.String("data-dir"), c.Int("train-samples"), dense.Spec)
	if err != nil {
		return err
	}
	data := compress.Data{Train: trainSet, Test: testSet}
	opts := sweep.Options{Dir: dir, Model: dense, Data: data, Points: points, Config: configOf, SpeedBatches: speedBatches, Checkpoints: true}
	var cur *progress // the running point's
	var curPoint sweep.Point
	opts.Progress = func(e sweep.Event) {
		id := e.Point.ID()
		counter := fmt.Sprintf("[%d/%d]", e.N, e.Of)
		switch e.Kind {
		case sweep.Skipped:
			fmt.Fprintf(c.App.ErrWriter, "skipping %s: done\n", id)
		case sweep.Started:
			cfg := e.Config
			cur, curPoint = newProgress(c.App.ErrWriter, c.Bool("quiet"), counter+" "+dense.Spec.Name), e.Point
			cur.logf("%s %s: %s, %d epochs + %d fine-tuning, lr %g (%s), seed %d",
				counter, id, methodSettings(cfg), cfg.Epochs, cfg.FinetuneEpochs, cfg.LR, cfg.Schedule.Kind, cfg.Seed)
		case sweep.Resumed:
			_, _, ck := sweep.Files(dir, e.Point)
			cur.logf("resuming from %s: %s", ck, resumePoint(e.Checkpoint))
		case sweep.Timing:
			cur.logf("timing the forward pass of the dense and the thinned model at batch %s", c.String("speed-batches"))
		case sweep.Finished:
			rep := e.Report
			ratio := "∞"
			if r := rep.Totals.CompressionRatio; r != nil {
				ratio = fmt.Sprintf("%.1f×", *r)
			}
			fmt.Fprintf(c.App.Writer, "%s %s: %d of %d prunable weights non-zero (%s), test accuracy %s, %.1f s\n",
				counter, id, rep.Totals.PrunableNonZero, rep.Totals.PrunableParams, ratio, pct(rep.Accuracy.Final()), rep.WallSeconds)
		case sweep.Failed:
			fmt.Fprintf(c.App.ErrWriter, "spred: sweep point %s failed: %s\n", id, oneLine(e.Err.Error()))
		}
	}
	pending, err := sweep.Pending(opts)
	if err != nil {
		return otherRun(err)
	}
	if c.Bool("list-jobs") {
		jobs := make([]string, len(pending))
		for i, p := range pending {
			args := jobArgs(c, p, dir, true)
			if _, _, ck := sweep.Files(dir, p); fileExists(ck) {
				args = append(args, "--resume") // an interrupted point continues
			}
			jobs[i] = strings.Join(args, " ")
		}
		if c.String("format") == "slurm" {
			return writeSlurm(c.App.Writer, dir, jobs)
		}
		for _, j := range jobs {
			fmt.Fprintln(c.App.Writer, j)
		}
		return nil
	}
	for _, p := range pending {
		model, report, ck := sweep.Files(dir, p)
		if err := checkPaths([]path{{"--model", in}}, path{"the point's model", model}, path{"the point's report", report}, path{"the point's checkpoint", ck}); err != nil {
			return err
		}
	}
	opts.Points = pending
	opts.Recorder = func(sweep.Point) compress.Recorder { return compressProgress{p: cur} }
	opts.Finish = func(p sweep.Point, m *models.Model, cfg compress.Config, rep *compress.Report) error {
		if l := rep.Loss.Final(); l != nil {
			if err := checkFinalLoss(*l, m.Spec.Classes(), "--lr or λ"); err != nil {
				return err
			}
		}
		stampCompressed(m, cfg, rep, strings.Join(jobArgs(c, p, "", false), " "), in, data.Train)
		return nil
	}
	_, err = sweep.Run(c.Context, opts)
	var failed *sweep.FailedError
	if err != nil && !errors.As(err, &failed) {
		if c.Context.Err() != nil && cur != nil {
			_, _, ck := sweep.Files(dir, curPoint)
			return errors.Errorf("interrupted; the state of %s is saved in %s: run the same command to continue", curPoint.ID(), ck)
		}
		return otherRun(err)
	}
	if err := mergeSweep(c.App.Writer, dir, title+dense.Spec.Name, sweep.Published[dense.Spec.Name]); err != nil {
		return err
	}
	if failed != nil {
		var ids []string
		for _, p := range failed.Points {
			ids = append(ids, p.ID())
		}
		return errors.Errorf("%d of %d points failed (%s); rerun the same command to retry them", len(ids), len(points), strings.Join(ids, ", "))
	}
	return nil
}

// otherRun words a report of another run in the sweep folder
// (sweep.OtherRunError) for the command line; other errors are returned
// as they are.
func otherRun(err error) error {
	var oe *sweep.OtherRunError
	switch {
	case !errors.As(err, &oe):
		return err
	case oe.Err != nil:
		return errors.Errorf("sweep: %s is not a compression report (%v); remove it or use another --dir", oe.Path, oe.Err)
	}
	return errors.Errorf("sweep: %s was made from another model, other flags or other data (or by another spred version): remove it or use another --dir", oe.Path)
}

// makeSweepDir creates the sweep folder if needed; its parent must exist
// (as for any output file).
func makeSweepDir(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return errors.Errorf("--dir %s is not a folder", dir)
		}
		return nil
	}
	if err := checkOutputs(dir); err != nil {
		return err
	}
	return errors.Wrap(os.Mkdir(dir, 0o755), "create the sweep folder")
}

func sweepMerge(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usagef("sweep merge: want exactly one argument, the sweep folder (flags go before it), got %d", c.Args().Len())
	}
	dir := c.Args().First()
	var refs []sweep.Reference
	if name := c.String("model-name"); name != "" {
		var ok bool
		if refs, ok = sweep.Published[name]; !ok {
			return usagef("sweep merge: no published results for --model-name %q (known: %s)", name, strings.Join(sortedKeys(sweep.Published), ", "))
		}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return errors.Errorf("sweep merge: %s is not a folder", dir)
	}
	title := c.String("title")
	if title == "" {
		rs, err := sweep.Load(dir)
		if err != nil {
			return err
		}
		names := map[string]bool{}
		for _, r := range rs {
			names[r.Model] = true
		}
		title = "spred λ sweep: " + filepath.Base(filepath.Clean(dir))
		if len(names) == 1 {
			title = "spred λ sweep of " + sortedKeys(names)[0]
		}
	}
	return mergeSweep(c.App.Writer, dir, title, refs)
}

// mergeSweep writes DIR/sweep.csv, sweep.md and sweep.png from the reports
// in dir (sweep.Merge).
func mergeSweep(w io.Writer, dir, title string, refs []sweep.Reference) error {
	rs, err := sweep.Merge(dir, title, refs)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d points", len(rs))
	if n := len(sweep.Summarise(rs)); n < len(rs) {
		what = fmt.Sprintf("%d runs of %d points", len(rs), n)
	}
	fmt.Fprintf(w, "wrote %s, %s and %s (%s, %d on the Pareto front)\n",
		filepath.Join(dir, "sweep.csv"), filepath.Join(dir, "sweep.md"), filepath.Join(dir, "sweep.png"), what, len(sweep.Front(rs)))
	return nil
}

// methodsWithout returns the sorted names of the registered methods whose
// Info does not satisfy has.
func methodsWithout(has func(compress.MethodInfo) bool) []string {
	var out []string
	for _, n := range compress.MethodNames() {
		if m, err := compress.Lookup(n); err == nil && !has(m.Info()) {
			out = append(out, n)
		}
	}
	return out
}
