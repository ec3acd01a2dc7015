package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/train"
)

// checkpointMagic starts every checkpoint file; the line after it is
// "sha256:" and the SHA-256 of the rest of the file in hex, checked before
// the rest (the gob-encoded state) is decoded.
const checkpointMagic = "spred checkpoint v2\n"

// oldCheckpointMagic started the checkpoints of earlier versions, which
// carry no checksum and are not read.
const oldCheckpointMagic = "spred checkpoint v1\n"

// maxCheckpointBytes bounds the size of a checkpoint file that is read.
const maxCheckpointBytes = 4 << 30

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

// encodeCheckpoint returns the checkpoint file of v: the magic line, the
// checksum line and v gob-encoded.
func encodeCheckpoint(v interface{}) ([]byte, error) {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(v); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload.Bytes())
	out := make([]byte, 0, len(checkpointMagic)+len("sha256:\n")+2*len(sum)+payload.Len())
	out = append(out, checkpointMagic...)
	out = append(out, "sha256:"+hex.EncodeToString(sum[:])+"\n"...)
	return append(out, payload.Bytes()...), nil
}

// decodeCheckpoint checks the magic line and the checksum of a checkpoint
// file's content b and decodes it into v.
func decodeCheckpoint(b []byte, v interface{}) error {
	switch {
	case bytes.HasPrefix(b, []byte(oldCheckpointMagic)):
		return errors.New("written by an older spred without a checksum, which is not read: remove it and start the run over")
	case !bytes.HasPrefix(b, []byte(checkpointMagic)):
		return errors.New("not a spred checkpoint file")
	}
	b = b[len(checkpointMagic):]
	const sumLine = len("sha256:") + 2*sha256.Size + 1
	if len(b) < sumLine || !bytes.HasPrefix(b, []byte("sha256:")) || b[sumLine-1] != '\n' {
		return errors.New("corrupt: no checksum line")
	}
	want := string(b[len("sha256:") : sumLine-1])
	payload := b[sumLine:]
	if got := sha256.Sum256(payload); hex.EncodeToString(got[:]) != want {
		return errors.New("corrupt: the checksum does not match the content (the file was damaged or edited)")
	}
	if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(v); err != nil {
		return errors.Wrap(err, "corrupt: its checksum matches but its content does not decode")
	}
	return nil
}

// saveCheckpoint atomically writes the checkpoint file of v.
func saveCheckpoint(path string, v interface{}) error {
	b, err := encodeCheckpoint(v)
	if err == nil {
		err = atomicfile.WriteBytes(path, b)
	}
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
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return errors.Wrapf(err, "read checkpoint %s", path)
	}
	if len(b) > maxCheckpointBytes {
		return errors.Errorf("read checkpoint %s: larger than %d bytes", path, maxCheckpointBytes)
	}
	return errors.Wrapf(decodeCheckpoint(b, v), "read checkpoint %s", path)
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
