package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSensitivity(t *testing.T) {
	path := trainedModel(t)
	dir := t.TempDir()
	csvPath, pngPath := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.png")
	code, out, errs := runApp(t, "sensitivity", "--model", path, "--data-dir", mnistDir(t), "--fractions", "0,0.5,0.9",
		"--test-samples", "500", "--csv", csvPath, "--png", pngPath, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// 3 sparsity curves (fc1, fc2, fc3) and 2 unit curves (fc1, fc2), 3 points each.
	if len(rows) != 1+5*3 || strings.Join(rows[0], ",") != "layer,curve,fraction,removed,of,accuracy,loss,flops" {
		t.Fatalf("%d rows: %v", len(rows), rows[:1])
	}
	if rows[1][0] != "fc1" || rows[1][1] != "sparsity" || rows[1][5] == "" {
		t.Errorf("first row %v", rows[1])
	}
	// Removing 90% of fc1's units (270 of 300) also removes their inputs of fc2.
	for _, r := range rows[1:] {
		if r[0] == "fc1" && r[1] == "units" && r[2] == "0.9" {
			if r[3] != "270" || r[7] != "27520" { // 784·30 + 30·100 + 100·10
				t.Errorf("fc1 units 0.9: %v", r)
			}
		}
	}
	png, err := os.ReadFile(pngPath)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("no PNG: %v", err)
	}
	if !strings.Contains(out, "16 points over 500 test images") && !strings.Contains(out, "15 points over 500 test images") {
		t.Errorf("stdout %q", out)
	}
}

func TestSensitivityBadInput(t *testing.T) {
	path := trainedModel(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sensitivity"}, 2, "--model is required"},
		{[]string{"sensitivity", "--model", path, "--fractions", "0,1"}, 2, `"1" is not a fraction`},
		{[]string{"sensitivity", "--model", path, "--fractions", "x"}, 2, `"x" is not a fraction`},
		{[]string{"sensitivity", "--model", path, "--test-samples", "-1"}, 2, "--test-samples must be ≥ 0"},
		{[]string{"sensitivity", "--model", path, "--batch", "0"}, 2, "--batch must be positive"},
		{[]string{"sensitivity", "--model", filepath.Join(dir, "nope.safetensors")}, 1, "no such file"},
		{[]string{"sensitivity", "--model", path, "--csv", filepath.Join(dir, "no", "s.csv")}, 1, "no"},
	} {
		code, _, errs := runApp(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q on one line", c.args, code, errs, c.code, c.msg)
		}
	}
}
