package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/train"
)

func checkpointFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "checkpoint", Usage: "checkpoint file, written atomically after every epoch and on SIGINT/SIGTERM, removed on success (default: OUT.ckpt)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue an interrupted run from its checkpoint (same flags): the result is bit-identical to an uninterrupted run; a checkpoint that is corrupt or does not fit the flags is refused"},
		&cli.BoolFlag{Name: "force", Usage: "start afresh even though the checkpoint of an earlier run exists (it is overwritten); without --force or --resume such a run is refused"},
	}
}

// checkpointMode reads --resume and --force, which exclude each other.
func checkpointMode(c *cli.Context) (resume, force bool, err error) {
	resume, force = c.Bool("resume"), c.Bool("force")
	if resume && force {
		return false, false, usagef("%s: give --resume or --force, not both", c.Command.Name)
	}
	return resume, force, nil
}

func checkpointPath(c *cli.Context, out string) string {
	if p := c.String("checkpoint"); p != "" {
		return p
	}
	return out + ".ckpt"
}

// saveCheckpoint atomically writes the checkpoint file of v.
func saveCheckpoint(path string, v interface{}) error {
	return train.WriteCheckpoint(path, v)
}

// loadCheckpoint reads a checkpoint written by saveCheckpoint into v.
func loadCheckpoint(path string, v interface{}) error {
	err := train.ReadCheckpoint(path, v)
	if os.IsNotExist(errors.Cause(err)) {
		return errors.Errorf("--resume: no checkpoint at %s (was the run started with the same --out or --checkpoint?)", path)
	}
	return err
}

// badResume reports whether err refuses a checkpoint: one from another
// run, or one holding a field the run could not have written.
func badResume(err error) bool {
	return errors.Is(err, compress.ErrCheckpoint) || errors.Is(err, train.ErrResume)
}

// resumePoint says where a compression checkpoint continues, for logs
// (before it is checked: it may hold no training state).
func resumePoint(ck *compress.Checkpoint) string {
	if ck.Train == nil {
		return ck.Phase + " phase"
	}
	if ck.Round > 0 {
		return fmt.Sprintf("%s phase, round %d, epoch %d step %d", ck.Phase, ck.Round, ck.Train.Epoch, ck.Train.Step)
	}
	return fmt.Sprintf("%s phase, epoch %d step %d", ck.Phase, ck.Train.Epoch, ck.Train.Step)
}

// interrupted turns a cancelled run into a message that says how to go on.
func interrupted(err error, c *cli.Context, path string) error {
	if c.Context.Err() != nil {
		return errors.Errorf("interrupted; the state is saved in %s: run the same command with --resume to continue", path)
	}
	return err
}

// trainCheckpoint is what `spred train` stores.
type trainCheckpoint struct {
	Tool  string
	Key   string
	State *train.State
}

// convKey is the convolution backend in a checkpoint's key: empty for
// "go", so that checkpoints written before the choice existed resume.
func convKey() string {
	if graph.ConvBackend == "go" {
		return ""
	}
	return graph.ConvBackend
}

// trainKey identifies a training run: the tool, the model, the
// configuration and the amount of data.
func trainKey(model string, cfg train.Config, samples int) string {
	cfg.Resume = nil
	b, _ := json.Marshal(struct {
		Tool, Model string
		train.Config
		Dtype   string
		Samples int
		BLAS    string // the products round differently in each backend
		Conv    string `json:",omitempty"` // so do the convolutions; "" for go, as before there was a choice
	}{spred.Tool, model, cfg, cfg.Dtype.String(), samples, graph.BLASBackend, convKey()})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
