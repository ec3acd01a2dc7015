package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spred-go/spred/featsel"
)

// selectCSV writes a gzipped CSV of n samples: a label column "y" (classes
// named by labels, dealt in turn), a text column "note", a constant column
// "const" and d standard-normal features f0..f(d−1), of which f1, f5 and
// f9 decide the label (for two classes). It returns the path.
func selectCSV(t *testing.T, dir, name string, n, d int, labels []string, seed int64) string {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	b.WriteString("note,y,const")
	for j := 0; j < d; j++ {
		fmt.Fprintf(&b, ",f%d", j)
	}
	b.WriteByte('\n')
	for i := 0; i < n; i++ {
		x := make([]float64, d)
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		lab := labels[i%len(labels)]
		if len(labels) == 2 {
			s := 2*x[1] - 1.5*x[5] + x[9] + 0.2*rng.NormFloat64()
			lab = labels[0]
			if s > 0 {
				lab = labels[1]
			}
		}
		fmt.Fprintf(&b, "patient %d,%s,3.5", i, lab)
		for _, v := range x {
			fmt.Fprintf(&b, ",%.6g", v)
		}
		b.WriteByte('\n')
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(b.String()))
	zw.Close()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelectCommand(t *testing.T) {
	dir := t.TempDir()
	csv := selectCSV(t, dir, "data.csv.gz", 90, 200, []string{"neg", "pos"}, 1)
	out := filepath.Join(dir, "spred.json")
	md := filepath.Join(dir, "table.md")
	args := []string{"select", "--csv", csv, "--label", "y", "--ignore", "note", "--features", "1,3",
		"--folds", "3", "--repeats", "2", "--seed", "1", "--out", out, "--plot", filepath.Join(dir, "spred.png"), "--quiet"}
	code, stdout, stderr := runApp(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "K=3") || stderr != "" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep featsel.Report
	if err := json.Unmarshal(first, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Constant != 1 || rep.Features != 201 || len(rep.Points) != 2 || rep.CV.Repeats != 2 {
		t.Errorf("report: %d constant of %d features, %d points, %d repeats", rep.Constant, rep.Features, len(rep.Points), rep.CV.Repeats)
	}
	p := rep.Points[1]
	var chosen []string
	for _, f := range p.All.Features {
		chosen = append(chosen, f.Name)
	}
	sort.Strings(chosen)
	if fmt.Sprint(chosen) != "[f1 f5 f9]" || p.Accuracy < 0.85 || len(p.Folds) != 6 {
		t.Errorf("K=3: chosen %v, accuracy %.3f, %d folds", chosen, p.Accuracy, len(p.Folds))
	}
	for _, f := range p.Frequency {
		if f.Name == "const" {
			t.Error("the constant column was selected")
		}
	}
	f, err := os.Open(filepath.Join(dir, "spred.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("plot: %v", err)
	}
	f.Close()

	// Same seed, same report, byte for byte.
	if code, _, stderr := runApp(t, args...); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("the same command wrote a different report")
	}

	// The baseline, compared in one table and plot.
	code, _, stderr = runApp(t, "select", "--csv", csv, "--label", "y", "--ignore", "note", "--features", "1,3",
		"--folds", "3", "--method", "l1-logistic", "--out", filepath.Join(dir, "l1.json"), "--compare", out, "--markdown", md, "--quiet")
	if code != 0 {
		t.Fatalf("l1-logistic: exit %d: %s", code, stderr)
	}
	table, _ := os.ReadFile(md)
	if !strings.Contains(string(table), "| target | spred-linear | l1-logistic |") || !strings.Contains(string(table), "| ≤ 3 features |") {
		t.Errorf("table:\n%s", table)
	}
}

// TestSelectMultiClass: three classes go through the softmax heads.
func TestSelectMultiClass(t *testing.T) {
	dir := t.TempDir()
	csv := selectCSV(t, dir, "three.csv.gz", 45, 30, []string{"a", "b", "c"}, 4)
	out := filepath.Join(dir, "three.json")
	code, stdout, stderr := runApp(t, "select", "--csv", csv, "--label", "y", "--ignore", "note", "--features", "2",
		"--head", "mlp", "--hidden", "4", "--folds", "3", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep featsel.Report
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Classes) != 3 || rep.Points[0].SelectedMean != 2 || !strings.Contains(stdout, "spred-mlp") {
		t.Errorf("classes %v, %.1f features per fold; stdout %q", rep.Classes, rep.Points[0].SelectedMean, stdout)
	}
}

// TestSelectBadInput: each bad input fails with the documented exit code
// (2 for a bad command line, 1 for bad data), one line on stderr that names
// the problem, nothing on stdout, and no panic.
func TestSelectBadInput(t *testing.T) {
	dir := t.TempDir()
	good := selectCSV(t, dir, "good.csv.gz", 40, 20, []string{"neg", "pos"}, 2)
	three := selectCSV(t, dir, "three.csv.gz", 30, 20, []string{"a", "b", "c"}, 3)
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var small strings.Builder // class "rare" has 2 samples
	small.WriteString("y,a,b\n")
	for i := 0; i < 20; i++ {
		lab := "common"
		if i < 2 {
			lab = "rare"
		}
		fmt.Fprintf(&small, "%s,%d,%d\n", lab, i, i*i%7)
	}
	smallClass := write("small.csv", small.String())
	nanCol := write("nan.csv", "y,a,b\nx,1,NaN\ny,2,NaN\nx,3,NaN\ny,4,NaN\n")
	allConst := write("const.csv", "y,a,b,c\nx,1,2,3\ny,1,2,3\nx,1,2,3\ny,1,2,3\nx,1,2,3\ny,1,2,3\n")
	notReport := write("notreport.json", `{"hello": 1}`)
	noDir := filepath.Join(dir, "nope")
	base := []string{"select", "--csv", good, "--label", "y", "--ignore", "note", "--folds", "3"}
	with := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	cases := []struct {
		name string
		code int
		want string
		args []string
	}{
		{"label column missing", 1, `no label column "target"`, []string{"select", "--csv", good, "--label", "target", "--ignore", "note", "--features", "2"}},
		{"class smaller than folds", 1, `class "rare" has 2 samples, fewer than 5 folds`, []string{"select", "--csv", smallClass, "--label", "y", "--features", "1"}},
		{"NaN column", 1, `column "b": "NaN" is not a finite number`, []string{"select", "--csv", nanCol, "--label", "y", "--features", "1", "--folds", "2"}},
		{"every column constant", 1, "every one of the 3 features is constant", []string{"select", "--csv", allConst, "--label", "y", "--features", "1", "--folds", "2"}},
		{"K larger than the features", 2, "--features 50 is more than the 21 features", with("--features", "5,50")},
		{"text column not ignored", 1, `column "note": cannot parse "patient 0"`, []string{"select", "--csv", good, "--label", "y", "--features", "2"}},
		{"unknown class", 1, `class "zzz" never occurs`, with("--features", "2", "--classes", "neg,zzz")},
		{"l1-logistic on three classes", 2, "l1-logistic needs 2 classes", []string{"select", "--csv", three, "--label", "y", "--ignore", "note", "--features", "2", "--method", "l1-logistic", "--folds", "3"}},
		{"missing file", 1, "missing.csv", []string{"select", "--csv", filepath.Join(dir, "missing.csv"), "--label", "y", "--features", "2"}},
		{"--out into a missing folder", 1, "cannot write " + filepath.Join(noDir, "r.json"), with("--features", "2", "--out", filepath.Join(noDir, "r.json"))},
		{"--plot into a missing folder", 1, "cannot write " + filepath.Join(noDir, "r.png"), with("--features", "2", "--plot", filepath.Join(noDir, "r.png"))},
		{"--out a device", 1, "cannot write /dev/null: not a regular file", with("--features", "2", "--out", "/dev/null")},
		{"--plot a folder", 1, "not a regular file", with("--features", "2", "--plot", dir)},
		{"--compare not a report", 1, "not a select report", with("--features", "2", "--compare", notReport)},
		{"--compare missing", 1, "gone.json", with("--features", "2", "--compare", filepath.Join(dir, "gone.json"))},
		{"without --csv", 2, "--csv is required", []string{"select", "--label", "y", "--features", "2"}},
		{"without --label", 2, "--label is required", []string{"select", "--csv", good, "--features", "2"}},
		{"neither lambda nor features", 2, "exactly one of --lambda and --features", with()},
		{"both lambda and features", 2, "exactly one of --lambda and --features", with("--features", "2", "--lambda", "0.1")},
		{"negative lambda", 2, `--lambda "-1" is not a finite number > 0`, with("--lambda", "-1")},
		{"NaN lambda", 2, `--lambda "NaN" is not a finite number > 0`, with("--lambda", "NaN")},
		{"zero features", 2, `--features "0" is not a whole number ≥ 1`, with("--features", "0")},
		{"features not a number", 2, `--features "ten"`, with("--features", "ten")},
		{"empty list", 2, "empty --lambda or --features list", with("--features", ",")},
		{"unknown method", 2, `unknown --method "magic"`, with("--features", "2", "--method", "magic")},
		{"unknown head", 2, `unknown --head "cnn"`, with("--features", "2", "--head", "cnn")},
		{"head with l1-logistic", 2, "--head does not apply", with("--features", "2", "--method", "l1-logistic", "--head", "mlp")},
		{"one fold", 2, "--folds must be in [2, 1000], got 1", with("--features", "2", "--folds", "1")},
		{"zero repeats", 2, "--repeats must be in [1, 1000], got 0", with("--features", "2", "--repeats", "0")},
		{"hidden 0", 2, "--hidden must be in [1, 4096], got 0", with("--features", "2", "--head", "mlp", "--hidden", "0")},
		{"threshold 1", 2, "--threshold must be in [0, 1), got 1", with("--features", "2", "--threshold", "1")},
		{"negative max-iter", 2, "--max-iter must be ≥ 0", with("--features", "2", "--max-iter", "-3")},
		{"unexpected argument", 2, `unexpected argument "extra"`, with("--features", "2", "extra")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runApp(t, c.args...)
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
