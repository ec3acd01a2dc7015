package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// testModels writes a LeNet-300-100 with seeded initial values to dir as
// m.safetensors and m.onnx and returns both paths.
func testModels(t *testing.T, dir string) (st, onnxFile string) {
	t.Helper()
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	st, onnxFile = filepath.Join(dir, "m.safetensors"), filepath.Join(dir, "m.onnx")
	if err := models.WriteFile(st, m); err != nil {
		t.Fatal(err)
	}
	if err := interop.WriteFile(onnxFile, m, interop.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return st, onnxFile
}

// snapshot reads files, to compare them later with unchanged.
func snapshot(t *testing.T, files ...string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s[f] = b
	}
	return s
}

// unchanged reports every file of s that is no longer byte for byte what
// it was, or no longer a regular file.
func unchanged(t *testing.T, s map[string][]byte) {
	t.Helper()
	for f, want := range s {
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			t.Errorf("%s is no longer a regular file (%v)", f, err)
			continue
		}
		if b, err := os.ReadFile(f); err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s changed (%v)", f, err)
		}
	}
}

// TestTrailingValueFlagTakesNoInput: `spred import a.onnx b.onnx --out`
// once made a.onnx the output. A flag that takes a value, given last
// without one, is a usage error in every command, and no file given before
// it changes.
func TestTrailingValueFlagTakesNoInput(t *testing.T) {
	dir := t.TempDir()
	st, onnxFile := testModels(t, dir)
	files := snapshot(t, st, onnxFile)
	var cmds [][]string // command names and the value flags of each
	var walk func(prefix []string, cs []*cli.Command)
	walk = func(prefix []string, cs []*cli.Command) {
		for _, c := range cs {
			name := append(append([]string(nil), prefix...), c.Name)
			for _, f := range c.Flags {
				if _, isBool := f.(*cli.BoolFlag); !isBool {
					cmds = append(cmds, append(append([]string(nil), name...), "--"+f.Names()[0]))
				}
			}
			walk(name, c.Subcommands)
		}
	}
	walk(nil, newApp(nil, nil).Commands)
	for _, inputs := range [][]string{{onnxFile, st}, {st, onnxFile}, {onnxFile}} {
		for _, c := range cmds {
			args := append(append(append([]string(nil), c[:len(c)-1]...), inputs...), c[len(c)-1])
			code, out, errs := runApp(t, args...)
			if code == 0 || out != "" || strings.Count(errs, "\n") != 1 {
				t.Errorf("spred %s: exit %d, stdout %q, stderr %q; want a one-line failure", strings.Join(args, " "), code, out, errs)
			}
			unchanged(t, files)
		}
	}
	// The message names the flag.
	code, _, errs := runApp(t, "import", onnxFile, st, "--out")
	if code != 2 || !strings.Contains(errs, "flag --out needs a value") {
		t.Errorf("import a b --out: exit %d, %q", code, errs)
	}
	unchanged(t, files)
	// A value flag after the file still works.
	out := filepath.Join(dir, "imported.safetensors")
	if code, _, errs := runApp(t, "import", onnxFile, "--out", out); code != 0 {
		t.Fatalf("import a --out b: exit %d, %s", code, errs)
	}
	unchanged(t, files)
}

// TestOutputLinkWrittenThrough: an output that is a symbolic link is
// written through to the file it points to, and stays a link; a link to an
// input is still refused.
func TestOutputLinkWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	files := snapshot(t, st)
	sub := filepath.Join(dir, "results")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(sub, "dense.safetensors")
	if err := os.WriteFile(target, []byte("old results\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.safetensors")
	if err := os.Symlink("results/dense.safetensors", link); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runApp(t, "export", "--model", st, "--format", "dense", "--out", link); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s was replaced by a regular file (%v)", link, err)
	}
	if m, err := models.ReadFile(target); err != nil || m.Spec.Name != "lenet-300-100" {
		t.Errorf("the link's target was not written: %v", err)
	}
	toInput := filepath.Join(dir, "input-link.onnx")
	if err := os.Symlink(st, toInput); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runApp(t, "export", "--model", st, "--out", toInput)
	if code != 2 || !strings.Contains(errs, "refusing to overwrite") {
		t.Errorf("export --out a link to --model: exit %d, %q", code, errs)
	}
	unchanged(t, files)
}

// readOnlyDir makes a folder that cannot be written, even by root (by
// chattr +i, on file systems that have it), or returns "" when it cannot.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "read-only")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writable := func() bool {
		p := filepath.Join(dir, "probe")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return false
		}
		os.Remove(p)
		return true
	}
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if writable() {
		if exec.Command("chattr", "+i", dir).Run() == nil {
			t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
		}
	}
	if writable() {
		return ""
	}
	return dir
}

// TestReadOnlyFolderFoundFirst: an output in a folder that cannot be
// written fails before any work (train failed after its first epoch,
// compress after all the training), with one line that names the folder.
func TestReadOnlyFolderFoundFirst(t *testing.T) {
	ro := readOnlyDir(t)
	if ro == "" {
		t.Skip("cannot make a read-only folder here")
	}
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	for _, args := range [][]string{
		{"train", "--out", filepath.Join(ro, "m.safetensors")},
		{"train", "--out", filepath.Join(dir, "m.safetensors"), "--checkpoint", filepath.Join(ro, "m.ckpt")},
		{"compress", "--model", st, "--out", filepath.Join(ro, "p.safetensors")},
		{"compress", "--model", st, "--report", filepath.Join(ro, "r.json")},
		{"train", "--out", filepath.Join(dir, "m.safetensors"), "--plot", filepath.Join(ro, "run.png")},
		{"compress", "--model", st, "--plot", filepath.Join(ro, "run.png")},
		{"export", "--model", st, "--format", "thin", "--out", filepath.Join(dir, "t.safetensors"), "--onnx", filepath.Join(ro, "t.onnx")},
	} {
		// No data folder: a run that got past the outputs would fail on
		// the missing MNIST files instead, after loading.
		args = append(args, "--data-dir", filepath.Join(dir, "no-such-folder"))
		if args[0] == "export" {
			args = args[:len(args)-2]
		}
		code, out, errs := runApp(t, args...)
		if code != 1 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "folder "+ro+" is not writable") {
			t.Errorf("spred %s: exit %d, stdout %q, stderr %q; want exit 1 and one line naming the read-only folder", strings.Join(args, " "), code, out, errs)
		}
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("files written: %v", es)
	}
}

// TestSameOutputLocked: while one run writes an output, a second run with
// the same output (by name or through a link, as --out or --checkpoint)
// fails at once with one line naming it and the other run, and leaves the
// first run's files alone.
func TestSameOutputLocked(t *testing.T) {
	dir := t.TempDir()
	st, onnxFile := testModels(t, dir)
	out := filepath.Join(dir, "p.safetensors")
	ck := out + ".ckpt"
	if err := os.WriteFile(ck, []byte("the running compression's checkpoint\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := snapshot(t, st, onnxFile, ck)
	// The other run: this process, holding the locks a run holds.
	for _, p := range []string{out, ck} {
		l, err := atomicfile.Lock(p)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Unlock()
	}
	link := filepath.Join(dir, "link.safetensors")
	if err := os.Symlink("p.safetensors", link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compress", "--model", st, "--out", out, "--resume"}, "--out " + out + " is being written by another spred run (pid "},
		{[]string{"compress", "--model", st, "--out", link, "--force"}, "--out " + link + " is being written by another spred run"},
		{[]string{"train", "--out", filepath.Join(dir, "t.safetensors"), "--checkpoint", ck}, "--checkpoint " + ck + " is being written by another spred run"},
		{[]string{"import", onnxFile, "--out", out}, "--out " + out + " is being written"},
		{[]string{"export", "--model", st, "--format", "dense", "--out", out}, "--out " + out + " is being written"},
	} {
		start := time.Now()
		code, stdout, errs := runApp(t, c.args...)
		if code != 1 || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("spred %s: exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", strings.Join(c.args, " "), code, stdout, errs, c.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("spred %s failed only after %v", strings.Join(c.args, " "), took)
		}
		unchanged(t, files)
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s written", out)
		}
	}
}

// TestSecondRunFailsAtOnce runs two trainings with the same --out: the
// second fails at once naming the output, and the first ends as if alone
// (its file is the same as a run's that had no company).
func TestSecondRunFailsAtOnce(t *testing.T) {
	data := mnistDir(t)
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "--model", "lenet-300-100", "--epochs", "2", "--train-samples", "3000", "--batch", "50",
			"--seed", "5", "--data-dir", data, "--out", out, "--quiet"}
	}
	ref := filepath.Join(dir, "ref.safetensors")
	if b, err := spredProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	out := filepath.Join(dir, "m.safetensors")
	first := spredProcess(args(out)...)
	var stderr bytes.Buffer
	first.Stderr = &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	lock := filepath.Join(dir, ".m.safetensors.lock")
	for deadline := time.Now().Add(time.Minute); ; {
		if _, err := os.Stat(lock); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the first run ended before taking its lock: %v %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no lock file after a minute")
		}
	}
	code, stdout, errs := runApp(t, args(out)...)
	firstDone := false
	select {
	case err := <-done:
		firstDone = true
		if err != nil {
			t.Fatalf("first run: %v %s", err, stderr.String())
		}
	default:
	}
	if firstDone {
		t.Skip("the first run ended before the second started")
	}
	want := fmt.Sprintf("spred: --out %s is being written by another spred run (pid %d): wait for it to end or choose another --out\n", out, first.Process.Pid)
	if code != 1 || stdout != "" || errs != want {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, errs, want)
	}
	if err := <-done; err != nil {
		t.Fatalf("first run: %v %s", err, stderr.String())
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(out)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("the first run's file differs from a run's alone")
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("left in the folder: %v", es)
	}
}

// TestStaleTemporaryFilesRemoved: the temporary files of a killed write
// of an output (.NAME.tmpDIGITS) are removed by the next run that writes
// it; those of other files, other patterns, and those of an output another
// run holds stay.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	out := filepath.Join(dir, "d.safetensors")
	stale := []string{".d.safetensors.tmp1234567", ".d.safetensors.tmp42"}
	others := []string{".e.safetensors.tmp1", ".d.safetensors.tmpX", "d.safetensors.tmp3", ".d.safetensors.tmp"}
	for _, n := range append(append([]string(nil), stale...), others...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := atomicfile.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runApp(t, "export", "--model", st, "--format", "dense", "--out", out); code != 1 {
		t.Errorf("export to a locked output: exit %d", code)
	}
	l.Unlock()
	for _, n := range append(append([]string(nil), stale...), others...) {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed while another run held the output", n)
		}
	}
	if code, _, errs := runApp(t, "export", "--model", st, "--format", "dense", "--out", out); code != 0 {
		t.Fatalf("export: exit %d %s", code, errs)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s not removed", n)
		}
	}
	for _, n := range others {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: not a temporary file of the output", n)
		}
	}
}

// TestCheckpointOfAnEarlierRunKept: a run started without --resume over
// an earlier run's checkpoint is refused with one line that names --resume
// and --force, and the checkpoint survives byte for byte; --force starts
// over; --resume and --force together are a usage error.
func TestCheckpointOfAnEarlierRunKept(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	out := filepath.Join(dir, "p.safetensors")
	ck := out + ".ckpt"
	own := filepath.Join(dir, "own.ckpt")
	for _, p := range []string{ck, own} {
		if err := os.WriteFile(p, []byte("an interrupted run's state\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := snapshot(t, st, ck, own)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compress", "--model", st, "--out", out}, 1, "--checkpoint " + ck + " holds the checkpoint of an earlier run: pass --resume to continue it or --force to start over"},
		{[]string{"train", "--out", filepath.Join(dir, "t.safetensors"), "--checkpoint", own}, 1, "--checkpoint " + own + " holds the checkpoint of an earlier run"},
		{[]string{"compress", "--model", st, "--out", out, "--resume", "--force"}, 2, "give --resume or --force, not both"},
	} {
		code, stdout, errs := runApp(t, append(c.args, "--data-dir", filepath.Join(dir, "no-data"))...)
		if code != c.code || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("spred %s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", strings.Join(c.args, " "), code, stdout, errs, c.code, c.want)
		}
		unchanged(t, files)
	}
	// The baselines checkpoint too, so the earlier checkpoint is kept from
	// them as well.
	code, _, errs := runApp(t, "compress", "--model", st, "--out", out, "--method", "l1", "--data-dir", filepath.Join(dir, "no-data"))
	if code != 1 || !strings.Contains(errs, "holds the checkpoint of an earlier run") {
		t.Errorf("compress --method l1: exit %d, %q", code, errs)
	}
	unchanged(t, files)
	data := mnistDir(t)
	code, _, errs = runApp(t, "compress", "--model", st, "--out", out, "--force", "--epochs", "1", "--finetune-epochs", "0",
		"--train-samples", "200", "--batch", "100", "--quiet", "--data-dir", data)
	if code != 0 {
		t.Fatalf("compress --force: exit %d %s", code, errs)
	}
	if _, err := os.Stat(ck); err == nil {
		t.Error("the checkpoint is still there after a finished run")
	}
}

// TestSweepPointLocked: a sweep point whose files another run writes (a
// job of --list-jobs, say) fails alone, naming its file, and the sweep
// goes on to the other points; a second sweep of the same folder stops at
// once.
func TestSweepPointLocked(t *testing.T) {
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	sweepDir := filepath.Join(dir, "sweep")
	if err := os.Mkdir(sweepDir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := atomicfile.Lock(filepath.Join(sweepDir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := runApp(t, "sweep", "--model", st, "--lambdas", "1e-3", "--dir", sweepDir, "--data-dir", filepath.Join(dir, "no-data"))
	want := "--dir " + filepath.Join(sweepDir, "sweep.csv") + " is being written by another spred run"
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, want) {
		t.Errorf("second sweep: exit %d, %q; want one line with %q", code, errs, want)
	}
	l.Unlock()
	data := mnistDir(t)
	point := filepath.Join(sweepDir, "spred_lambda=1.0e-03_tau=3.0e-03.safetensors")
	if l, err = atomicfile.Lock(point); err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	code, out, errs := runApp(t, "sweep", "--model", st, "--lambdas", "1e-3,2e-3", "--epochs", "1", "--finetune-epochs", "0",
		"--train-samples", "200", "--batch", "100", "--quiet", "--dir", sweepDir, "--data-dir", data)
	want = "sweep point spred_lambda=1.0e-03_tau=3.0e-03 failed: the point's model " + point + " is being written by another spred run (pid "
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(out, "spred_lambda=2.0e-03_tau=3.0e-03") {
		t.Errorf("sweep with a locked point: exit %d, stdout %q, stderr %q; want the point to fail with %q and the other to run", code, out, errs, want)
	}
}
