package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/sweep"
)

// TestCompressTargetRatio: --target-ratio lands within 15% of the ratio
// asked, the report records the target and how λ was found, and
// --val-fraction adds the validation figures.
func TestCompressTargetRatio(t *testing.T) {
	in := trainedModel(t)
	dir := t.TempDir()
	out, rep := filepath.Join(dir, "p.safetensors"), filepath.Join(dir, "p.json")
	code, stdout, errs := runApp(t, "compress", "--model", in, "--target-ratio", "12", "--epochs", "2", "--finetune-epochs", "1",
		"--train-samples", "600", "--batch", "50", "--val-fraction", "0.2", "--data-dir", mnistDir(t), "--out", out, "--report", rep, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := readReport(t, rep)
	got := r.Totals.CompressionRatio
	if got == nil || math.Abs(*got-12) > 0.15*12 || r.Target == nil || r.Target.Ratio != 12 || r.Target.Search != compress.TargetContinuation ||
		r.Target.Reached == nil || *r.Target.Reached != *got || r.Settings.Lambda != r.Target.Lambda {
		t.Fatalf("ratio %v, target %+v", got, r.Target)
	}
	if v := r.Validation; v == nil || v.Samples != 120 || v.TrainSamples != 480 || v.FinalAccuracy == nil {
		t.Errorf("validation %+v", v)
	}
	if !strings.Contains(stdout, "(12.0×)") || !strings.Contains(stdout, "validation accuracy") {
		t.Errorf("stdout %q", stdout)
	}
}

// TestCompressTargetRatioFixedLambda: --lambda with --target-ratio holds
// that λ and sets only the final τ to the ratio.
func TestCompressTargetRatioFixedLambda(t *testing.T) {
	in := trainedModel(t)
	dir := t.TempDir()
	rep := filepath.Join(dir, "p.json")
	code, _, errs := runApp(t, "compress", "--model", in, "--target-ratio", "12", "--lambda", "1e-3", "--epochs", "2", "--finetune-epochs", "1",
		"--train-samples", "600", "--batch", "50", "--data-dir", mnistDir(t), "--out", filepath.Join(dir, "p.safetensors"), "--report", rep, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := readReport(t, rep)
	got := r.Totals.CompressionRatio
	if got == nil || math.Abs(*got-12) > 0.15*12 || r.Target == nil || r.Target.Search != compress.TargetFixed ||
		r.Target.Lambda != 1e-3 || r.Settings.Lambda != 1e-3 || r.Target.Raises != 0 {
		t.Fatalf("ratio %v, target %+v, settings λ %v", got, r.Target, r.Settings.Lambda)
	}
}

// TestSweepTargetRatiosSeeds: `spred sweep --target-ratios` runs every
// method of --method at every ratio, once per seed of --seeds; sweep.csv
// has one row per run with its seed, sweep.md one row per point with the
// mean ± std.
func TestSweepTargetRatiosSeeds(t *testing.T) {
	in := trainedModel(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	args := []string{"sweep", "--model", in, "--target-ratios", "10", "--method", "spred,magnitude", "--seeds", "1,2",
		"--train-samples", "300", "--batch", "50", "--epochs", "1", "--finetune-epochs", "0", "--data-dir", mnistDir(t), "--dir", dir}
	code, out, errs := runApp(t, append(args, "--list-jobs")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("--list-jobs: exit %d, %d jobs:\n%s%s", code, len(lines), out, errs)
	}
	for _, want := range []string{"--method=spred", "--seed=1", "--target-ratio=10", "--threshold=0.003"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first job lacks %s: %s", want, lines[0])
		}
	}
	if strings.Contains(lines[0], "--method=spred,magnitude") || strings.Contains(lines[2], "--threshold") {
		t.Errorf("jobs: %s\n%s", lines[0], lines[2])
	}
	if code, _, errs := runApp(t, append(args, "--quiet")...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, m := range []string{"spred", "magnitude"} {
		tau := 3e-3
		if m == "magnitude" {
			tau = 0
		}
		for _, p := range sweep.WithSeeds(sweep.RatioPoints(m, []float64{10}, nil, tau), []int64{1, 2}) {
			if _, err := os.Stat(filepath.Join(dir, p.ID()+".json")); err != nil {
				t.Errorf("point %s: %v", p.ID(), err)
			}
		}
	}
	rs, err := sweep.Load(dir)
	if err != nil || len(rs) != 4 {
		t.Fatalf("%d results: %v", len(rs), err)
	}
	for _, r := range rs {
		if r.Ratio == nil || math.Abs(*r.Ratio-r.TargetRatio) > 0.15*r.TargetRatio {
			t.Errorf("%s: ratio %v for target %v", r.Report, r.Ratio, r.TargetRatio)
		}
	}
	csvOut, _ := os.ReadFile(filepath.Join(dir, "sweep.csv"))
	rows := strings.Split(strings.TrimSpace(string(csvOut)), "\n")
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "method,lambda,tau,target_sparsity,compression_ratio,test_error_pct,seed,target_ratio,") {
		t.Errorf("sweep.csv:\n%s", csvOut)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "sweep.md"))
	if !strings.Contains(string(md), "| runs | compression (mean ± std) | test error (mean ± std) |") || strings.Count(string(md), " | 2 | ") != 2 {
		t.Errorf("sweep.md:\n%s", md)
	}
}

// TestSweepTargetRatiosHeldLambda: with --lambdas, a ratio sweep holds
// each λ at each ratio for the methods with a λ (their jobs pass
// --lambda), and not for magnitude pruning; a held point's report records
// the fixed search with its λ.
func TestSweepTargetRatiosHeldLambda(t *testing.T) {
	in := trainedModel(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	args := []string{"sweep", "--model", in, "--target-ratios", "10", "--train-samples", "300", "--batch", "50",
		"--epochs", "1", "--finetune-epochs", "0", "--data-dir", mnistDir(t), "--dir", dir}
	code, out, errs := runApp(t, append(args, "--lambdas", "1e-3,2e-3", "--method", "spred,magnitude", "--list-jobs")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("--list-jobs: exit %d, %d jobs:\n%s%s", code, len(lines), out, errs)
	}
	if !strings.Contains(lines[0], "--lambda=0.001") || !strings.Contains(lines[1], "--lambda=0.002") || strings.Contains(lines[2], "--lambda=") {
		t.Errorf("jobs:\n%s", out)
	}
	if code, _, errs := runApp(t, "sweep", "--model", in, "--target-ratios", "10", "--lambdas", "0", "--dir", dir); code != exitUsage || !strings.Contains(errs, "must be > 0") {
		t.Errorf("λ 0 held: exit %d, %s", code, errs)
	}
	if code, _, errs := runApp(t, append(args, "--lambdas", "1e-3", "--quiet")...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	p := sweep.RatioPoints("spred", []float64{10}, []float64{1e-3}, 3e-3)[0]
	r := readReport(t, filepath.Join(dir, p.ID()+".json"))
	if r.Target == nil || r.Target.Search != compress.TargetFixed || r.Target.Lambda != 1e-3 || r.Settings.Lambda != 1e-3 {
		t.Fatalf("report of %s: target %+v, λ %v", p.ID(), r.Target, r.Settings.Lambda)
	}
}

// TestTrainValFraction: train --val-fraction holds out a seeded share of
// the training images and reports the accuracy on it.
func TestTrainValFraction(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, errs := runApp(t, "train", "--model", "lenet-300-100", "--epochs", "1", "--train-samples", "300", "--batch", "50",
		"--val-fraction", "0.2", "--data-dir", mnistDir(t), "--out", out, "--quiet")
	if code != 0 || !strings.Contains(stdout, "validation accuracy") || !strings.Contains(stdout, "on 60 held-out training images") {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	if code, _, errs := runApp(t, "train", "--val-fraction", "1", "--out", out); code != exitUsage || !strings.Contains(errs, "--val-fraction must be in [0, 1)") {
		t.Errorf("--val-fraction 1: exit %d, %s", code, errs)
	}
}

// readReport reads the JSON report at path.
func readReport(t *testing.T, path string) compress.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r compress.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}
