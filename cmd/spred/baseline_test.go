package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/sweep"
)

// TestCompressBaselines runs the two baseline methods on the trained
// LeNet-300-100 and checks the method and totals of their reports.
func TestCompressBaselines(t *testing.T) {
	in := trainedModel(t)
	data := mnistDir(t)
	for _, c := range []struct {
		method string
		extra  []string
	}{
		{"magnitude", []string{"--target-sparsity", "0.9", "--rounds", "2"}},
		{"l1", []string{"--lambda", "1e-3"}},
	} {
		t.Run(c.method, func(t *testing.T) {
			dir := t.TempDir()
			out, rep := filepath.Join(dir, "p.safetensors"), filepath.Join(dir, "r.json")
			args := append([]string{"compress", "--model", in, "--method", c.method, "--train-samples", "300", "--batch", "50",
				"--epochs", "2", "--finetune-epochs", "0", "--data-dir", data, "--out", out, "--report", rep, "--quiet"}, c.extra...)
			code, _, errs := runApp(t, args...)
			if code != 0 {
				t.Fatalf("compress exited %d: %s", code, errs)
			}
			if _, err := os.Stat(filepath.Join(dir, "p.ckpt")); err == nil {
				t.Error("a baseline wrote a checkpoint")
			}
			b, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Totals struct {
					Prunable int `json:"prunable_params"`
					NonZero  int `json:"prunable_nonzero"`
				} `json:"totals"`
				Accuracy map[string]*float64 `json:"accuracy"`
				Settings struct {
					Method string  `json:"method"`
					Target float64 `json:"target_sparsity"`
				} `json:"settings"`
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if r.Settings.Method != c.method || r.Totals.Prunable != 266200 || r.Totals.NonZero >= r.Totals.Prunable {
				t.Fatalf("report: %+v", r)
			}
			if c.method == "magnitude" {
				if want := 266200 - int(math.Round(0.9*266200)); r.Totals.NonZero != want || r.Settings.Target != 0.9 {
					t.Errorf("magnitude: %d non-zeros, want %d; target %v", r.Totals.NonZero, want, r.Settings.Target)
				}
			}
			for _, k := range []string{"dense", "trained", "thresholded"} {
				if r.Accuracy[k] == nil {
					t.Errorf("accuracy.%s missing", k)
				}
			}
		})
	}
}

func TestBaselineUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"compress", "--model", "m.safetensors", "--method", "obd"},
		{"compress", "--model", "m.safetensors", "--method", "magnitude"},                           // no target
		{"compress", "--model", "m.safetensors", "--method", "magnitude", "--target-sparsity", "1"}, // out of range
		{"compress", "--model", "m.safetensors", "--method", "magnitude", "--target-sparsity", "0.9", "--rounds", "0"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--method", "magnitude"}, // no targets
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--method", "magnitude", "--target-sparsities", "0.9,1.2"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--method", "magnitude", "--target-sparsities", "0.9", "--lambdas", "1e-4"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--target-sparsities", "0.9"},
	} {
		code, _, errs := runApp(t, args...)
		if code != exitUsage {
			t.Errorf("spred %v: exit %d, want 2; stderr %q", args, code, errs)
		}
	}
}

// TestSweepMagnitudeListJobs: the target sparsity is the swept variable,
// in the point IDs and the job command lines.
func TestSweepMagnitudeListJobs(t *testing.T) {
	in := trainedModel(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	code, out, errs := runApp(t, "sweep", "--model", in, "--method", "magnitude", "--target-sparsities", "0.9,0.8", "--dir", dir, "--list-jobs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := sweep.Point{Method: "magnitude", Target: 0.8}.ID()
	if len(lines) != 2 || !strings.Contains(lines[0], "--target-sparsity=0.8") || !strings.Contains(lines[0], id) ||
		!strings.Contains(lines[0], "--method=magnitude") || strings.Contains(lines[0], "--lambda=") {
		t.Fatalf("jobs:\n%s", out)
	}
}

// TestSweepMagnitudeRuns runs a one-point magnitude sweep: the report is
// named by the point and the table has the target column.
func TestSweepMagnitudeRuns(t *testing.T) {
	in := trainedModel(t)
	dir := filepath.Join(t.TempDir(), "sweep")
	code, _, errs := runApp(t, "sweep", "--model", in, "--method", "magnitude", "--target-sparsities", "0.8", "--rounds", "1",
		"--train-samples", "300", "--batch", "50", "--epochs", "1", "--finetune-epochs", "0", "--data-dir", mnistDir(t), "--dir", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, sweep.Point{Method: "magnitude", Target: 0.8}.ID()+".json")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.csv"))
	if err != nil || !strings.Contains(string(b), "target_sparsity") || !strings.Contains(string(b), "magnitude,0,0,0.8,") {
		t.Fatalf("sweep.csv: %v\n%s", err, b)
	}
}
