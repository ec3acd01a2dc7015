package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spred-go/spred/models"
)

func TestCompressStructureNeuron(t *testing.T) {
	path := trainedModel(t)
	dir := t.TempDir()
	out, rep := filepath.Join(dir, "thin.safetensors"), filepath.Join(dir, "r.json")
	code, stdout, errs := runApp(t, "compress", "--model", path, "--data-dir", mnistDir(t), "--structure", "neuron",
		"--lambda", "0.02", "--lr", "0.2", "--epochs", "8", "--finetune-epochs", "1", "--train-samples", "500", "--batch", "50",
		"--speed-batches", "1", "--out", out, "--report", rep)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	for _, s := range []string{"structure neuron: thinned to 784-", "FLOPs per example", "forward pass, batch 1:"} {
		if !strings.Contains(errs, s) {
			t.Errorf("text report lacks %q:\n%s", s, errs)
		}
	}
	m, err := models.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Settings struct{ Structure string }
		Thin     models.ThinReport
		Speed    []struct{ Batch int }
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Settings.Structure != "neuron" || len(r.Thin.Layers) != 3 || len(r.Speed) != 1 || r.Speed[0].Batch != 1 {
		t.Fatalf("report %s", b)
	}
	if got := m.Spec.Layers[0].Units; got != r.Thin.Layers[0].UnitsAfter || got >= 300 {
		t.Errorf("the written model has %d fc1 units, the report says %d (of 300)", got, r.Thin.Layers[0].UnitsAfter)
	}
	if f, _ := models.FLOPs(m.Spec); f != r.Thin.FLOPsAfter {
		t.Errorf("the written model has %d FLOPs, the report says %d", f, r.Thin.FLOPsAfter)
	}
}

func TestCompressStructureBadInput(t *testing.T) {
	path := trainedModel(t)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--structure", "rows"}, `unknown structure "rows"`},
		{[]string{"--structure", "neuron", "--method", "l1"}, "structure neuron applies to method spred only"},
		{[]string{"--structure", "neuron", "--speed-batches", "0"}, `"0" is not a batch size`},
		{[]string{"--structure", "filter", "--from-scratch"}, "from-scratch is element-wise only"},
	} {
		code, _, errs := runApp(t, append([]string{"compress", "--model", path}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.msg)
		}
	}
	code, _, errs := runApp(t, "compress", "--model", path, "--data-dir", mnistDir(t), "--structure", "filter",
		"--epochs", "1", "--train-samples", "100", "--out", filepath.Join(t.TempDir(), "x.safetensors"), "--quiet")
	if code != 1 || !strings.Contains(errs, "groups no layer") {
		t.Errorf("filter on an MLP: exit %d, %q", code, errs)
	}
}

// Without --lr, a structured pass trains at structuredLR, not spred's 0.3.
func TestCompressStructureDefaultLR(t *testing.T) {
	path := trainedModel(t)
	dir := t.TempDir()
	rep := filepath.Join(dir, "r.json")
	code, _, errs := runApp(t, "compress", "--model", path, "--data-dir", mnistDir(t), "--structure", "neuron",
		"--epochs", "1", "--finetune-epochs", "0", "--train-samples", "100", "--speed-batches", "",
		"--out", filepath.Join(dir, "x.safetensors"), "--report", rep, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Settings struct {
			LR float64 `json:"lr"`
		}
		Speed []struct{}
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Settings.LR != structuredLR || len(r.Speed) != 0 {
		t.Errorf("lr %v (want %v), %d speed rows (want none): %v", r.Settings.LR, structuredLR, len(r.Speed), err)
	}
}
