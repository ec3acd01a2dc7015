package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/train"
)

// checkpointMagic starts every checkpoint file.
const checkpointMagic = "spred checkpoint v1\n"

func checkpointFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "checkpoint", Usage: "checkpoint file, written atomically after every epoch and on SIGINT/SIGTERM, removed on success (default: OUT.ckpt)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue an interrupted run from its checkpoint (same flags): the result is bit-identical to an uninterrupted run"},
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

// saveCheckpoint atomically writes v (gob-encoded after a magic line).
func saveCheckpoint(path string, v interface{}) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if _, err := io.WriteString(bw, checkpointMagic); err != nil {
			return err
		}
		if err := gob.NewEncoder(bw).Encode(v); err != nil {
			return err
		}
		return bw.Flush()
	})
	return errors.Wrapf(err, "write checkpoint %s", path)
}

// loadCheckpoint reads a checkpoint written by saveCheckpoint into v.
func loadCheckpoint(path string, v interface{}) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return errors.Errorf("--resume: no checkpoint at %s (was the run started with the same --out or --checkpoint?)", path)
		}
		return errors.Wrap(err, "read checkpoint")
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != checkpointMagic {
		return errors.Errorf("read checkpoint %s: not a spred checkpoint file", path)
	}
	if err := gob.NewDecoder(br).Decode(v); err != nil {
		return errors.Wrapf(err, "read checkpoint %s: corrupt", path)
	}
	return nil
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
	}{spred.Tool, model, cfg, cfg.Dtype.String(), samples, graph.BLASBackend})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
