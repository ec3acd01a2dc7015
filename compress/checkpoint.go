package compress

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// ErrCheckpoint is returned (wrapped) when a checkpoint does not belong to
// the run asked to resume from it.
var ErrCheckpoint = errors.New("checkpoint does not match this run")

// Checkpoint is a resumable snapshot of a compression pass, taken after
// every epoch of either phase and when the run is interrupted. Passing it
// back as Config.Resume continues the pass exactly: the pruned model is
// bit-identical to one from an uninterrupted run.
type Checkpoint struct {
	Tool     string           // tool version that wrote it
	Key      string           // fingerprint of the configuration and the input model
	Phase    string           // PhaseSpred or PhaseFinetune
	Train    *train.State     // the training loop of that phase
	Accuracy Stages           // the stages measured so far
	Loss     Stages           //
	History  []Stats          // per-epoch statistics so far
	Mask     map[string][]int // PhaseFinetune: the zero entries held fixed
	Target   *Target          `json:",omitempty"` // the state of the λ search of a target
}

// Checkpointer is a Recorder that also stores checkpoints. Run hands it one
// after every epoch and when the context is cancelled.
type Checkpointer interface {
	Checkpoint(*Checkpoint) error
}

// fingerprint identifies a run: the configuration (without Resume) and
// every value of the input model.
func fingerprint(m *models.Model, cfg Config) (string, error) {
	cfg.Resume = nil
	if cfg.Method == MethodSpred {
		cfg.Method = "" // the same run either way, and the same key as before methods existed
	}
	c, err := json.Marshal(struct {
		Config
		Dtype string
	}{cfg, cfg.Dtype.String()})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	// The matrix products round differently in each BLAS backend, so a run
	// resumes bit-identically only under the backend that started it.
	h.Write([]byte(spred.Version + " " + graph.BLASBackend))
	h.Write(c)
	spec, err := models.MarshalSpec(m.Spec)
	if err != nil {
		return "", err
	}
	h.Write(spec)
	var b [8]byte
	for _, p := range m.Params.All() {
		h.Write([]byte(p.Name))
		for _, v := range p.Float64s() {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkResume refuses a checkpoint from another tool version, another
// configuration or another input model.
func checkResume(ck *Checkpoint, key string) error {
	switch {
	case ck.Tool != spred.Tool:
		return errors.Wrapf(ErrCheckpoint, "it was written by %s, this is %s", ck.Tool, spred.Tool)
	case ck.Key != key:
		return errors.Wrap(ErrCheckpoint, "it was written by a run with another configuration or input model")
	case ck.Phase != PhaseSpred && ck.Phase != PhaseFinetune:
		return errors.Wrapf(ErrCheckpoint, "unknown phase %q", ck.Phase)
	case ck.Train == nil:
		return errors.Wrap(ErrCheckpoint, "it holds no training state")
	}
	return nil
}
