package train_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/train"
)

// TestCheckpointFileRoundTrip: a checkpoint file reads back as written, and
// every single flipped bit of it is caught before its content is used.
func TestCheckpointFileRoundTrip(t *testing.T) {
	st := train.State{Epoch: 2, Step: 3, Draws: 7, Values: map[string][]float64{"fc/W": {1, math.Pi}}}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if err := train.WriteCheckpoint(path, st); err != nil {
		t.Fatal(err)
	}
	var got train.State
	if err := train.ReadCheckpoint(path, &got); err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("read back: %v %+v", err, got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), train.CheckpointMagic+"sha256:") {
		t.Fatalf("file starts %q", b[:40])
	}
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			c := append([]byte(nil), b...)
			c[i] ^= 1 << bit
			var v train.State
			if err := train.DecodeCheckpoint(c, &v); err == nil {
				t.Fatalf("byte %d bit %d flipped: accepted", i, bit)
			} else if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
		}
	}
	if err := train.ReadCheckpoint(filepath.Join(t.TempDir(), "missing.ckpt"), &got); !os.IsNotExist(errors.Cause(err)) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
	var v train.State
	if err := train.DecodeCheckpoint([]byte("spred checkpoint v1\n..."), &v); err == nil || !strings.Contains(err.Error(), "older spred") {
		t.Errorf("a v1 checkpoint: %v", err)
	}
}
