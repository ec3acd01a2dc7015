package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKilledSweepResumes kills a sweep with SIGKILL while its first point
// is running (after that point's first checkpoint), runs the same command
// again, and compares every pruned model with an uninterrupted sweep's.
func TestKilledSweepResumes(t *testing.T) {
	in := trainedModel(t)
	args := func(dir string) []string {
		return []string{"sweep", "--model", in, "--lambdas", "1e-3,2e-3", "--epochs", "2", "--finetune-epochs", "1",
			"--train-samples", "3000", "--batch", "50", "--data-dir", mnistDir(t), "--dir", dir, "--quiet"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	if out, err := spredProcess(args(ref)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sweep: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "killed")
	cmd := spredProcess(args(dir)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ckpt := filepath.Join(dir, "spred_lambda=1e-03_tau=3e-03.ckpt")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.ckpt"))
		if len(matches) > 0 {
			ckpt = matches[0]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the sweep ended before its first checkpoint: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after 2 minutes")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	t.Logf("killed while %s existed", filepath.Base(ckpt))

	if out, err := spredProcess(args(dir)...).CombinedOutput(); err != nil {
		t.Fatalf("resumed sweep: %v\n%s", err, out)
	}
	models, _ := filepath.Glob(filepath.Join(ref, "*.safetensors"))
	if len(models) != 2 {
		t.Fatalf("reference sweep wrote %d models", len(models))
	}
	for _, m := range models {
		a, _ := os.ReadFile(m)
		b, err := os.ReadFile(filepath.Join(dir, filepath.Base(m)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs after the resumed sweep (%v)", filepath.Base(m), err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.ckpt")); len(left) != 0 {
		t.Errorf("checkpoints left behind: %v", left)
	}
}
