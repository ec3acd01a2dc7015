package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// jobsPath puts a `spred` on PATH that is this test binary standing in for
// the command (TestMain, SPRED_RUN_MAIN), so that job lines run unchanged.
func jobsPath(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	script := "#!/bin/sh\nSPRED_RUN_MAIN=1 exec " + shellQuote(os.Args[0]) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "spred"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin + string(os.PathListSeparator) + os.Getenv("PATH")
}

// sweepTable reads DIR/sweep.csv without its wall-time column, which differs
// from run to run.
func sweepTable(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wall := -1
	for i, h := range rows[0] {
		if h == "wall_seconds" {
			wall = i
		}
	}
	if wall < 0 {
		t.Fatalf("sweep.csv has no wall_seconds column: %v", rows[0])
	}
	for i, r := range rows {
		rows[i] = append(append([]string(nil), r[:wall]...), r[wall+1:]...)
	}
	return rows
}

// TestSweepJobsUnderParallel runs a 4-point sweep twice: in one process,
// and as the command lines of --list-jobs under GNU parallel with two jobs
// at once in the same folder, then `spred sweep merge`. The two tables
// must be the same, and rerunning the sweep over the parallel folder finds
// every point done.
func TestSweepJobsUnderParallel(t *testing.T) {
	if _, err := exec.LookPath("parallel"); err != nil {
		t.Skip("GNU parallel is not installed (apt-get install parallel)")
	}
	data := mnistDir(t)
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	seq, par := filepath.Join(dir, "seq"), filepath.Join(dir, "par")
	flags := []string{"--model", st, "--lambdas", "1e-3,2e-3,4e-3,8e-3", "--epochs", "1", "--finetune-epochs", "1",
		"--train-samples", "200", "--batch", "50", "--data-dir", data, "--quiet"}
	if code, _, errs := runApp(t, append([]string{"sweep", "--dir", seq}, flags...)...); code != 0 {
		t.Fatalf("sequential sweep: exit %d: %s", code, errs)
	}
	code, jobs, errs := runApp(t, append([]string{"sweep", "--dir", par, "--list-jobs"}, flags...)...)
	if code != 0 || strings.Count(jobs, "\n") != 4 {
		t.Fatalf("--list-jobs: exit %d, %q, %s", code, jobs, errs)
	}
	cmd := exec.Command("parallel", "-j", "2", "--halt", "now,fail=1")
	cmd.Stdin = strings.NewReader(jobs)
	cmd.Env = append(os.Environ(), "PATH="+jobsPath(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("parallel: %v\n%s", err, out)
	}
	if code, _, errs := runApp(t, "sweep", "merge", par); code != 0 {
		t.Fatalf("sweep merge: exit %d: %s", code, errs)
	}
	a, b := sweepTable(t, seq), sweepTable(t, par)
	if len(a) != 5 {
		t.Fatalf("sequential sweep.csv has %d rows, want a header and 4 points", len(a))
	}
	if strings.Join(flat(a), "\x00") != strings.Join(flat(b), "\x00") {
		t.Errorf("the tables differ:\nsequential %v\nparallel   %v", a, b)
	}
	code, _, errs = runApp(t, append([]string{"sweep", "--dir", par}, flags...)...)
	if code != 0 || strings.Count(errs, ": done\n") != 4 {
		t.Errorf("sweep over the parallel folder: exit %d, want every point done: %s", code, errs)
	}
}

func flat(rows [][]string) []string {
	var s []string
	for _, r := range rows {
		s = append(s, strings.Join(r, ","))
	}
	return s
}

// TestSweepJobsAsSlurmArray checks --list-jobs --format slurm: a bash
// script with one array task per pending point, each running its point
// when SLURM_ARRAY_TASK_ID selects it (as sbatch --array does).
func TestSweepJobsAsSlurmArray(t *testing.T) {
	data := mnistDir(t)
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	out := filepath.Join(dir, "sw")
	flags := []string{"--model", st, "--lambdas", "1e-3,4e-3", "--epochs", "1", "--finetune-epochs", "0",
		"--train-samples", "200", "--batch", "50", "--data-dir", data, "--quiet", "--dir", out}
	code, script, errs := runApp(t, append([]string{"sweep", "--list-jobs", "--format", "slurm"}, flags...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"#!/bin/bash\n", "\n#SBATCH --array=0-1\n", "\n0) spred compress ", "\n1) spred compress ", "spred sweep merge "} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	path := filepath.Join(dir, "array.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v %s", err, out)
	}
	for _, task := range []string{"1", "0"} {
		cmd := exec.Command("bash", path)
		cmd.Env = append(os.Environ(), "PATH="+jobsPath(t), "SLURM_ARRAY_TASK_ID="+task)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("task %s: %v\n%s", task, err, b)
		}
	}
	reports, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(reports) != 2 {
		t.Errorf("%d reports after both tasks, want 2: %v", len(reports), reports)
	}
	cmd := exec.Command("bash", path)
	cmd.Env = append(os.Environ(), "PATH="+jobsPath(t), "SLURM_ARRAY_TASK_ID=2")
	if err := cmd.Run(); err == nil {
		t.Error("task 2 of a 2-task array ran")
	}
	if code, _, errs := runApp(t, append([]string{"sweep", "--format", "slurm"}, flags...)...); code != 2 || !strings.Contains(errs, "--format applies to --list-jobs") {
		t.Errorf("--format without --list-jobs: exit %d, %s", code, errs)
	}
	if code, _, errs := runApp(t, append([]string{"sweep", "--list-jobs", "--format", "pbs"}, flags...)...); code != 2 || !strings.Contains(errs, "--format must be lines or slurm") {
		t.Errorf("--format pbs: exit %d, %s", code, errs)
	}
}

// TestSweepJobsResumeAfterKill kills one --list-jobs line with SIGKILL
// after its first checkpoint, lists the jobs again (that point's line must
// now carry --resume, the other's not), runs them, and compares the merged
// table with an uninterrupted sweep's.
func TestSweepJobsResumeAfterKill(t *testing.T) {
	data := mnistDir(t)
	dir := t.TempDir()
	st, _ := testModels(t, dir)
	seq, par := filepath.Join(dir, "seq"), filepath.Join(dir, "par")
	flags := []string{"--model", st, "--lambdas", "1e-3,4e-3", "--epochs", "3", "--finetune-epochs", "1",
		"--train-samples", "3000", "--batch", "50", "--data-dir", data, "--quiet"}
	if code, _, errs := runApp(t, append([]string{"sweep", "--dir", seq}, flags...)...); code != 0 {
		t.Fatalf("sequential sweep: exit %d: %s", code, errs)
	}
	list := func() []string {
		t.Helper()
		code, out, errs := runApp(t, append([]string{"sweep", "--dir", par, "--list-jobs"}, flags...)...)
		if code != 0 {
			t.Fatalf("--list-jobs: exit %d: %s", code, errs)
		}
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	path := jobsPath(t)
	shell := func(line string) *exec.Cmd {
		cmd := exec.Command("bash", "-c", "exec "+line)
		cmd.Env = append(os.Environ(), "PATH="+path)
		return cmd
	}
	jobs := list()
	if len(jobs) != 2 || strings.Contains(strings.Join(jobs, "\n"), "--resume") {
		t.Fatalf("the first listing: want 2 lines without --resume, got %q", jobs)
	}
	ck := regexp.MustCompile(`--checkpoint=(\S+)`).FindStringSubmatch(jobs[0])
	if ck == nil {
		t.Fatalf("no --checkpoint in %q", jobs[0])
	}
	cmd := shell(jobs[0])
	var stderr bytes.Buffer
	done := startUntilFile(t, cmd, ck[1], &stderr)
	cmd.Process.Signal(syscall.SIGKILL)
	<-done

	jobs = list()
	if len(jobs) == 1 {
		t.Skip("the job finished before the kill")
	}
	if len(jobs) != 2 || !strings.HasSuffix(jobs[0], " --resume") || strings.Contains(jobs[1], "--resume") {
		t.Fatalf("after the kill: want the first line with --resume and the second without, got %q", jobs)
	}
	for _, j := range jobs {
		if b, err := shell(j).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", j, err, b)
		}
	}
	if code, _, errs := runApp(t, "sweep", "merge", par); code != 0 {
		t.Fatalf("sweep merge: exit %d: %s", code, errs)
	}
	if a, b := sweepTable(t, seq), sweepTable(t, par); strings.Join(flat(a), "\x00") != strings.Join(flat(b), "\x00") {
		t.Errorf("the tables differ:\nuninterrupted %v\nresumed       %v", a, b)
	}
}
