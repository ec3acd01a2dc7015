package main

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/npy"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// wideModel writes a 784-8192-10 MLP (26 MB) as safetensors and ONNX to
// dir: reading, encoding or evaluating it takes seconds.
func wideModel(t *testing.T, dir string) (st, onnxFile string) {
	t.Helper()
	m, err := models.New(models.Spec{Name: "wide", Input: []int{784}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc1", Units: 8192}, {Kind: models.ReLU}, {Kind: models.Dense, Name: "fc2", Units: 10}}},
		tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	st, onnxFile = filepath.Join(dir, "wide.safetensors"), filepath.Join(dir, "wide.onnx")
	if err := models.WriteFile(st, m); err != nil {
		t.Fatal(err)
	}
	if err := interop.WriteFile(onnxFile, m, interop.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return st, onnxFile
}

// TestCommandsStopOnSignal sends SIGTERM to eval, inspect, import, export
// and predict while they work on a large model (once they have locked
// their output, or halfway through the time a run to the end took), and
// wants each to exit
// within a second, with exit code 1 and one line saying it was
// interrupted; the same command then runs again to the end and leaves no
// temporary file behind.
func TestCommandsStopOnSignal(t *testing.T) {
	dir := t.TempDir()
	st, onnxFile := wideModel(t, dir)
	x := &npy.Array{Shape: []int{2000, 784}}
	x.Data = make([]float32, x.Len())
	inputs := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(inputs, x); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	cases := []struct {
		name string
		args []string
		outs []string
	}{
		{"inspect", []string{"inspect", st}, nil},
		{"import", []string{"import", onnxFile, "--out", out("imported.safetensors")}, []string{out("imported.safetensors")}},
		{"export", []string{"export", "--model", st, "--out", out("exported.onnx")}, []string{out("exported.onnx")}},
		{"predict", []string{"predict", "--model", st, "--input", inputs, "--out", out("logits.npy")}, []string{out("logits.npy")}},
		{"eval", []string{"eval", "--model", st, "--data-dir", "\x00mnist"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, a := range c.args {
				if a == "\x00mnist" {
					c.args[i] = mnistDir(t)
				}
			}
			// A command without an output is signalled halfway through a
			// run to the end timed first, so that a fast machine does not
			// let it finish before the signal.
			var wait time.Duration
			if len(c.outs) == 0 {
				start := time.Now()
				if b, err := spredProcess(c.args...).CombinedOutput(); err != nil {
					t.Fatalf("a run to the end: %v\n%s", err, b)
				}
				if wait = time.Since(start) / 2; wait < 50*time.Millisecond {
					t.Skipf("spred %s takes %v here: too short to interrupt", c.name, 2*wait)
				}
			}
			cmd := spredProcess(c.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// A command with an output locks it before any work: signal it
			// then. The others read and work on the model for seconds.
			if len(c.outs) > 0 {
				lock := filepath.Join(dir, "."+filepath.Base(c.outs[0])+".lock")
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					if _, err := os.Stat(lock); err == nil {
						break
					}
				}
			} else {
				time.Sleep(wait)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); errors.Is(err, os.ErrProcessDone) {
				<-done
				t.Skipf("spred %s finished before the signal", c.name)
			} else if err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 10 s after SIGTERM")
			}
			took := time.Since(sent)
			if took > time.Second {
				t.Errorf("exited %v after SIGTERM, want within a second", took)
			}
			if code := cmd.ProcessState.ExitCode(); code != 1 || stdout.Len() != 0 ||
				stderr.String() != "spred: "+c.name+": interrupted\n" {
				t.Errorf("exit %d (%v), stdout %q, stderr %q; want exit 1 and %q", code, err, stdout.String(), stderr.String(), "spred: "+c.name+": interrupted")
			}
			for _, o := range c.outs {
				if _, err := os.Stat(o); err == nil {
					t.Errorf("%s written by the interrupted run", o)
				}
			}
			if len(c.outs) == 0 {
				return
			}
			if b, err := spredProcess(c.args...).CombinedOutput(); err != nil {
				t.Fatalf("the second run: %v\n%s", err, b)
			}
			for _, o := range c.outs {
				if _, err := os.Stat(o); err != nil {
					t.Errorf("%s not written by the second run: %v", o, err)
				}
			}
			es, _ := os.ReadDir(dir)
			for _, e := range es {
				if strings.Contains(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".lock") {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}
