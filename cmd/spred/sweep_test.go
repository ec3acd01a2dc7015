package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/sweep"
)

func TestSweepUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sweep", "--dir", dir, "--lambdas", "1e-4"},                                       // no model
		{"sweep", "--model", "m.safetensors", "--lambdas", "1e-4"},                         // no --dir
		{"sweep", "--model", "m.safetensors", "--dir", dir},                                // no λ
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4,x"},         // bad list
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas=-1e-4"},             // negative λ
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambda-range", "1e-5:1e-3"}, // bad range
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambda-range", "0:1e-3:4"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--lambda-range", "1e-5:1e-3:3"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--thresholds", "0"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--epochs", "0"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--target-ratios", "10,0.5"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--target-ratios", "10", "--lambdas", "1e-4,-1e-4"}, // a held λ must be > 0
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--target-ratios", "10", "--method", "spred,obd"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--method", "spred,l1"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--seeds", "1,x"},
		{"sweep", "--model", "m.safetensors", "--dir", dir, "--lambdas", "1e-4", "--seeds", "1,2", "--seed", "3"},
		{"sweep", "stray"},
		{"sweep", "merge"},
		{"sweep", "merge", "--model-name", "nope", dir},
	} {
		code, _, errs := runApp(t, args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("spred %v: exit %d, want 2; stderr %q", args, code, errs)
		}
	}
	// Failures: a missing model, an output folder whose parent is missing,
	// a merge of a folder without reports.
	for _, args := range [][]string{
		{"sweep", "--model", filepath.Join(dir, "missing.safetensors"), "--dir", dir, "--lambdas", "1e-4"},
		{"sweep", "merge", dir},
		{"sweep", "merge", filepath.Join(dir, "missing")},
	} {
		if code, _, errs := runApp(t, args...); code != exitFailure {
			t.Errorf("spred %v: exit %d, want 1; stderr %q", args, code, errs)
		}
	}
}

func TestSweepRunsResumesAndMerges(t *testing.T) {
	in := trainedModel(t)
	data := mnistDir(t)
	root := t.TempDir()
	dir := filepath.Join(root, "sweep")
	args := []string{"sweep", "--model", in, "--lambdas", "1e-3,1e-4", "--train-samples", "300", "--batch", "50",
		"--epochs", "1", "--finetune-epochs", "0", "--data-dir", data, "--dir", dir}
	ids := []string{
		sweep.Point{Method: "spred", Lambda: 1e-4, Threshold: 3e-3}.ID(),
		sweep.Point{Method: "spred", Lambda: 1e-3, Threshold: 3e-3}.ID(),
	}

	// --list-jobs on the fresh folder: one compress command per point.
	code, out, errs := runApp(t, append(args, "--list-jobs")...)
	if code != 0 {
		t.Fatalf("--list-jobs exited %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("--list-jobs printed %d lines:\n%s", len(lines), out)
	}
	for i, l := range lines {
		base := filepath.Join(dir, ids[i])
		for _, want := range []string{"--out=" + base + ".safetensors", "--report=" + base + ".json", "--checkpoint=" + base + ".ckpt",
			"--train-samples=300", "--epochs=1", "--finetune-epochs=0", "--batch=50", "--model=" + in} {
			if !strings.HasPrefix(l, "spred compress ") || !strings.Contains(l, want) {
				t.Errorf("job %d lacks %q: %s", i, want, l)
			}
		}
	}

	code, out, errs = runApp(t, append(args, "--quiet")...)
	if code != 0 {
		t.Fatalf("sweep exited %d:\n%s\n%s", code, out, errs)
	}
	stat := map[string]os.FileInfo{}
	content := map[string][]byte{}
	for _, id := range ids {
		for _, ext := range []string{".json", ".safetensors"} {
			p := filepath.Join(dir, id+ext)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			stat[p] = st
			content[p], _ = os.ReadFile(p)
		}
		if _, err := os.Stat(filepath.Join(dir, id+".ckpt")); err == nil {
			t.Errorf("the checkpoint of %s was left behind", id)
		}
	}
	for _, name := range []string{"sweep.csv", "sweep.md", "sweep.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	csvOut, _ := os.ReadFile(filepath.Join(dir, "sweep.csv"))
	md, _ := os.ReadFile(filepath.Join(dir, "sweep.md"))
	if n := strings.Count(string(csvOut), "\n"); n != 3 || !strings.Contains(string(csvOut), "nonzero_fc1/W") {
		t.Errorf("sweep.csv (%d lines):\n%s", n, csvOut)
	}
	if !strings.Contains(string(md), "Han et al. 2015") || !strings.Contains(string(md), ids[0]+".json") {
		t.Errorf("sweep.md:\n%s", md)
	}
	rs, err := sweep.Load(dir)
	if err != nil || len(rs) != 2 || rs[0].ID() != ids[0] || rs[1].ID() != ids[1] || rs[0].Accuracy == nil ||
		rs[1].Ratio == nil || *rs[1].Ratio <= *rs[0].Ratio {
		t.Fatalf("Load: %v %+v", err, rs)
	}

	// Again: nothing is recomputed.
	time.Sleep(20 * time.Millisecond) // so that a rewrite would show in the modification times
	code, out, errs = runApp(t, args...)
	if code != 0 {
		t.Fatalf("second sweep exited %d:\n%s\n%s", code, out, errs)
	}
	for _, id := range ids {
		if !strings.Contains(errs, "skipping "+id+": done") {
			t.Errorf("second run did not skip %s:\n%s", id, errs)
		}
	}
	if strings.Contains(errs, "epoch") {
		t.Errorf("second run trained:\n%s", errs)
	}
	for p, st := range stat {
		st2, err := os.Stat(p)
		b, _ := os.ReadFile(p)
		if err != nil || !st2.ModTime().Equal(st.ModTime()) || !bytes.Equal(b, content[p]) {
			t.Errorf("%s was rewritten by the second run", p)
		}
	}
	if code, out, _ := runApp(t, append(args, "--list-jobs")...); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("--list-jobs of a finished sweep: exit %d, %q", code, out)
	}

	// A pending point with a checkpoint resumes from it: a corrupt one makes
	// that point fail (exit 1, naming the file) while the others are still
	// skipped and the tables still written.
	third := sweep.Point{Method: "spred", Lambda: 5e-4, Threshold: 3e-3}.ID()
	ck := filepath.Join(dir, third+".ckpt")
	if err := os.WriteFile(ck, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	args3 := append([]string(nil), args...)
	for i, a := range args3 {
		if a == "1e-3,1e-4" {
			args3[i] = "1e-3,1e-4,5e-4"
		}
	}
	code, _, errs = runApp(t, args3...)
	if code != exitFailure || !strings.Contains(errs, ck) || strings.Count(errs, ": done") != 2 ||
		!strings.Contains(errs, "1 of 3 points failed") {
		t.Errorf("sweep with a corrupt checkpoint: exit %d\n%s", code, errs)
	}
	os.Remove(ck)

	// merge rebuilds the tables and the plot from the reports alone.
	for _, name := range []string{"sweep.csv", "sweep.md", "sweep.png"} {
		os.Remove(filepath.Join(dir, name))
	}
	code, out, errs = runApp(t, "sweep", "merge", "--title", "test sweep", "--model-name", "lenet-300-100", dir)
	if code != 0 || !strings.Contains(out, "2 points") {
		t.Fatalf("merge exited %d: %s %s", code, out, errs)
	}
	csv2, _ := os.ReadFile(filepath.Join(dir, "sweep.csv"))
	md2, _ := os.ReadFile(filepath.Join(dir, "sweep.md"))
	if !bytes.Equal(csv2, csvOut) || !bytes.Equal(md2, md) {
		t.Errorf("merge wrote other tables:\n%s\n%s", csv2, md2)
	}
	f, err := os.Open(filepath.Join(dir, "sweep.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 800 || img.Bounds().Dy() != 500 {
		t.Fatalf("sweep.png: %v", err)
	}
}

// TestSweepKeysPoints: a finished point is skipped only when its report was
// made by the same configuration, input model and data; a report from other
// flags, another model or other data stops the sweep before anything runs
// and names the file. A structured sweep's points have IDs and a series of
// their own and are timed at --speed-batches.
func TestSweepKeysPoints(t *testing.T) {
	in := trainedModel(t)
	data := mnistDir(t)
	root := t.TempDir()
	dir := filepath.Join(root, "sweep")
	args := func(extra ...string) []string {
		return append([]string{"sweep", "--model", in, "--lambdas", "1e-3", "--train-samples", "300", "--batch", "50",
			"--epochs", "1", "--finetune-epochs", "0", "--data-dir", data, "--dir", dir, "--quiet"}, extra...)
	}
	if code, _, errs := runApp(t, args()...); code != 0 {
		t.Fatalf("sweep exited %d: %s", code, errs)
	}
	id := sweep.Point{Method: "spred", Lambda: 1e-3, Threshold: 3e-3}.ID()
	if code, _, errs := runApp(t, args()...); code != 0 || !strings.Contains(errs, "skipping "+id+": done") {
		t.Fatalf("same sweep again: exit %d: %s", code, errs)
	}
	m, err := models.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	m.Params.Get("fc1/W").Value.Data().([]float32)[0] += 0.01
	other := filepath.Join(root, "other.safetensors")
	if err := models.WriteFile(other, m); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, id+".json")
	for name, a := range map[string][]string{
		"other epochs":         args("--epochs", "2"),
		"other seed":           args("--seed", "5"),
		"other data":           args("--train-samples", "250"),
		"other finetune lr":    args("--finetune-lr", "0.01"),
		"other finetune decay": args("--finetune-decay", "1e-4"),
		"other model":          append(args(), "--model", other),
		"other epoch setting":  args("--epoch-threshold=false"),
	} {
		code, out, errs := runApp(t, a...)
		if code != exitFailure || strings.Contains(errs, "done") || !strings.Contains(errs, report+" was made from another model, other flags or other data") ||
			strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
	}

	// A structured sweep in the same folder: its own point, timed.
	code, _, errs := runApp(t, args("--structure", "neuron", "--lambdas", "1e-3", "--speed-batches", "2")...)
	if code != 0 || strings.Contains(errs, "done") {
		t.Fatalf("structured sweep: exit %d: %s", code, errs)
	}
	rs, err := sweep.Load(dir)
	if err != nil || len(rs) != 2 {
		t.Fatalf("Load: %v, %d results", err, len(rs))
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Series()+" "+r.ID())
	}
	want := []string{"spred " + id, "spred-neuron spred-neuron_lambda=1.0e-03_tau=3.0e-03"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("results %q, want %q", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "spred-neuron_lambda=1.0e-03_tau=3.0e-03.json"))
	var rep compress.Report
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Speed) != 1 || rep.Speed[0].Batch != 2 || rep.Settings.Structure != "neuron" {
		t.Errorf("structured report: %v, speed %+v, structure %q", err, rep.Speed, rep.Settings.Structure)
	}
	// The same structured sweep timed at other batches is another run.
	if code, _, errs := runApp(t, args("--structure", "neuron", "--speed-batches", "3")...); code != exitFailure || !strings.Contains(errs, "was made from another") {
		t.Errorf("other speed batches: exit %d: %s", code, errs)
	}
}

// TestMergeSeedsMessage: merging runs over seeds says how many runs of how
// many points it tabulated and how many points (means) are on the front.
func TestMergeSeedsMessage(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []struct {
		method string
		seed   int64
		acc    float64
	}{{"spred", 1, 0.95}, {"spred", 2, 0.96}, {"magnitude", 1, 0.90}, {"magnitude", 2, 0.91}} {
		ratio := 10.0
		b, err := json.Marshal(compress.Report{Model: "m", Settings: compress.Settings{Method: c.method, Threshold: 3e-3, Seed: c.seed},
			Target: &compress.Target{Ratio: 10, Sparsity: 0.9, Reached: &ratio}, Accuracy: compress.Stages{Thresholded: &c.acc},
			Totals: compress.Totals{CompressionRatio: &ratio}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.method+string(rune('0'+i))+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := mergeSweep(&out, dir, "seeds", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(4 runs of 2 points, 1 on the Pareto front)") {
		t.Errorf("message %q", out.String())
	}
}
