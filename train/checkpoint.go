package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// The checkpoint file format: CheckpointMagic, then "sha256:" and the
// SHA-256 of the rest of the file in hex on one line, then the state
// gob-encoded. The checksum is checked before the state is decoded.
const (
	CheckpointMagic = "spred checkpoint v2\n"
	// MaxCheckpointBytes bounds the size of a checkpoint file that is read.
	MaxCheckpointBytes = 4 << 30
)

// oldCheckpointMagic started the checkpoints of earlier versions, which
// carry no checksum and are not read.
const oldCheckpointMagic = "spred checkpoint v1\n"

// EncodeCheckpoint returns the checkpoint file of v (any gob-encodable
// value, such as a State or a compress.Checkpoint).
func EncodeCheckpoint(v interface{}) ([]byte, error) {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(v); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload.Bytes())
	out := make([]byte, 0, len(CheckpointMagic)+len("sha256:\n")+2*len(sum)+payload.Len())
	out = append(out, CheckpointMagic...)
	out = append(out, "sha256:"+hex.EncodeToString(sum[:])+"\n"...)
	return append(out, payload.Bytes()...), nil
}

// DecodeCheckpoint checks the magic line and the checksum of a checkpoint
// file's content b and decodes it into v. Its errors are one line.
func DecodeCheckpoint(b []byte, v interface{}) error {
	switch {
	case bytes.HasPrefix(b, []byte(oldCheckpointMagic)):
		return errors.New("written by an older spred without a checksum, which is not read: remove it and start the run over")
	case !bytes.HasPrefix(b, []byte(CheckpointMagic)):
		return errors.New("not a spred checkpoint file")
	}
	b = b[len(CheckpointMagic):]
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

// WriteCheckpoint atomically writes the checkpoint file of v at path: a
// reader sees the old file or the new one, never a part.
func WriteCheckpoint(path string, v interface{}) error {
	b, err := EncodeCheckpoint(v)
	if err == nil {
		err = atomicfile.WriteBytes(path, b)
	}
	return errors.Wrapf(err, "write checkpoint %s", path)
}

// ReadCheckpoint reads the checkpoint file at path, written by
// WriteCheckpoint, into v. A missing file gives an error for which
// os.IsNotExist(errors.Cause(err)) holds.
func ReadCheckpoint(path string, v interface{}) error {
	f, err := os.Open(path)
	if err != nil {
		return errors.Wrap(err, "read checkpoint")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCheckpointBytes+1))
	if err != nil {
		return errors.Wrapf(err, "read checkpoint %s", path)
	}
	if len(b) > MaxCheckpointBytes {
		return errors.Errorf("read checkpoint %s: larger than %d bytes", path, MaxCheckpointBytes)
	}
	return errors.Wrapf(DecodeCheckpoint(b, v), "read checkpoint %s", path)
}
