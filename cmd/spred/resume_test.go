package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the spred command in
// subprocesses (SPRED_RUN_MAIN=1), so a test can kill a real run.
func TestMain(m *testing.M) {
	if os.Getenv("SPRED_RUN_MAIN") == "1" {
		if err := capMemory(os.Getenv(memoryCapEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "spred test: "+err.Error())
			os.Exit(3)
		}
		if n := os.Getenv(allocateEnv); n != "" {
			if err := allocate(n); err != nil {
				fmt.Fprintln(os.Stderr, "spred test: "+err.Error())
				os.Exit(3)
			}
			os.Exit(0)
		}
		os.Exit(run(append([]string{"spred"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func spredProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SPRED_RUN_MAIN=1")
	return cmd
}

// TestKilledCompressionResumes kills a compression run of every method
// and structure with SIGKILL at a random moment after its first
// checkpoint, resumes it with --resume, and compares the pruned model file
// byte for byte with an uninterrupted run.
func TestKilledCompressionResumes(t *testing.T) {
	in := trainedModel(t)
	data := mnistDir(t)
	for _, kind := range []struct {
		name string
		args []string
	}{
		{"spred", nil},
		{"magnitude", []string{"--method", "magnitude", "--target-sparsity", "0.9", "--rounds", "2"}},
		{"l1", []string{"--method", "l1", "--lambda", "1e-4"}},
		{"neuron", []string{"--structure", "neuron", "--lambda", "1e-2", "--speed-batches", ""}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			dir := t.TempDir()
			args := func(out string) []string {
				return append([]string{"compress", "--model", in, "--lambda", "1e-3", "--epochs", "2", "--finetune-epochs", "1",
					"--train-samples", "3000", "--batch", "50", "--data-dir", data, "--out", out, "--quiet"}, kind.args...)
			}
			checkKilledResumes(t, dir, args)
		})
	}
}

// checkKilledResumes runs args(out) uninterrupted, then again killed with
// SIGKILL at a random moment after its first checkpoint and resumed with
// --resume, and compares the two output files byte for byte.
func checkKilledResumes(t *testing.T, dir string, args func(out string) []string) {
	ref := filepath.Join(dir, "ref.safetensors")
	if out, err := spredProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	out := filepath.Join(dir, "killed.safetensors")
	ckpt := out + ".ckpt"
	cmd := spredProcess(args(out)...)
	var stderr bytes.Buffer
	done := startUntilFile(t, cmd, ckpt, &stderr)
	delay := time.Duration(rng.Intn(1500)) * time.Millisecond
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	if _, statErr := os.Stat(out); statErr == nil {
		t.Skipf("the run finished within %v of its first checkpoint, before the kill (%v)", delay, err)
	}
	t.Logf("killed %v after the first checkpoint", delay)

	if b, err := spredProcess(append(args(out), "--resume")...).CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, b)
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(out)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("the resumed run wrote a different model file than the uninterrupted one")
	}
	if _, err := os.Stat(ckpt); !os.IsNotExist(err) {
		t.Error("the checkpoint was not removed after success")
	}
}

// startUntilFile starts cmd, its standard error into stderr, and returns
// once path exists (a run's first checkpoint), with the channel that cmd's
// Wait reports on; the test fails when cmd ends before, or after 2 minutes
// without it.
func startUntilFile(t *testing.T, cmd *exec.Cmd, path string, stderr *bytes.Buffer) <-chan error {
	t.Helper()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for !fileExists(path) {
		select {
		case err := <-done:
			t.Fatalf("the run ended before its first checkpoint: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 2 minutes", path)
		}
	}
	return done
}

// TestInterruptedTrainingResumes: SIGTERM stops training with a message
// that says how to continue; --resume then gives the same file as a run
// that was never stopped.
func TestInterruptedTrainingResumes(t *testing.T) {
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "--model", "lenet-300-100", "--epochs", "3", "--train-samples", "6000", "--batch", "50",
			"--seed", "4", "--data-dir", mnistDir(t), "--out", out, "--quiet"}
	}
	ref := filepath.Join(dir, "ref.safetensors")
	if b, err := spredProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	out := filepath.Join(dir, "stopped.safetensors")
	cmd := spredProcess(args(out)...)
	var stderr bytes.Buffer
	done := startUntilFile(t, cmd, out+".ckpt", &stderr) // stop it after its first epoch
	cmd.Process.Signal(syscall.SIGTERM)
	err := <-done
	if _, statErr := os.Stat(out); statErr == nil {
		t.Skip("training finished before SIGTERM")
	}
	if err == nil || !bytes.Contains(stderr.Bytes(), []byte("--resume")) {
		t.Fatalf("stopped run: %v, stderr %q", err, stderr.String())
	}
	if b, err := spredProcess(append(args(out), "--resume")...).CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, b)
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Fatal("resumed training wrote a different file")
	}
	// A checkpoint from other flags is refused.
	stop := spredProcess(append(args(filepath.Join(dir, "x.safetensors")), "--lr", "0.01")...)
	var stopErr bytes.Buffer
	stopped := startUntilFile(t, stop, filepath.Join(dir, "x.safetensors.ckpt"), &stopErr)
	stop.Process.Signal(syscall.SIGTERM)
	<-stopped
	b2, err := spredProcess(append(args(filepath.Join(dir, "x.safetensors")), "--resume")...).CombinedOutput()
	if err == nil || !bytes.Contains(b2, []byte("another run")) {
		if _, statErr := os.Stat(filepath.Join(dir, "x.safetensors.ckpt")); statErr == nil {
			t.Errorf("a checkpoint from other flags was accepted: %v %s", err, b2)
		}
	}
}
