package compress

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/rand"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// ErrCheckpoint is returned (wrapped) when a checkpoint does not belong to
// the run asked to resume from it.
var ErrCheckpoint = errors.New("checkpoint does not match this run")

// Checkpoint is a resumable snapshot of a compression pass of any method
// and structure, taken after every epoch of every phase and when the run is
// interrupted. Passing it back as Config.Resume continues the pass exactly:
// the pruned model is bit-identical to one from an uninterrupted run.
type Checkpoint struct {
	Tool     string           // tool version that wrote it
	Key      string           // the run's Key: configuration, input model and data
	Phase    string           // the method's phase (MethodInfo.Phase) or PhaseFinetune
	Round    int              // a phase in rounds (MethodInfo.Rounds): the round (1-based) under way
	Train    *train.State     // the training loop of that phase
	Accuracy Stages           // the stages measured so far
	Loss     Stages           //
	History  []Stats          // per-epoch statistics so far
	Mask     map[string][]int // a phase in rounds and PhaseFinetune: the zero entries held fixed
	// Thinned is the spec of the thinned model (JSON, models.MarshalSpec)
	// and Thin its thinning report, for PhaseFinetune of a structured pass.
	Thinned []byte
	Thin    *models.ThinReport
	Target  *Target `json:",omitempty"` // the state of the λ search of a target
}

// Checkpointer is a Recorder that also stores checkpoints. Run hands it one
// after every epoch and when the context is cancelled, for a method that
// resumes (MethodInfo.Resume).
type Checkpointer interface {
	Checkpoint(*Checkpoint) error
}

// Key identifies the result of Run(ctx, m, data, cfg, ...): the SHA-256,
// in hex, of the tool version, the BLAS and convolution backends, every field of cfg with
// its defaults (Resume aside), m's spec and every value of its parameters,
// and the training and test data. Two runs with the same key compute the
// same model and report, bit for bit (the wall times aside); Run records it
// in Report.Key and in its checkpoints, and refuses a checkpoint with
// another.
func Key(m *models.Model, data Data, cfg Config) (string, error) {
	return fingerprint(m, data, cfg.Defaults())
}

// fingerprint is Key of a configuration whose defaults are filled in.
func fingerprint(m *models.Model, data Data, cfg Config) (string, error) {
	cfg.Resume = nil
	if !hasBuffers(m) {
		cfg.Recalibrate = 0 // nothing to re-estimate: the same run, and the same key as before
	}
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
	// The matrix products and the convolutions round differently in each
	// backend, so a run resumes bit-identically only under the backends
	// that started it ("go" convolutions add nothing: the key of the
	// checkpoints written before there was a choice).
	h.Write([]byte(spred.Version + " " + graph.BLASBackend))
	if graph.ConvBackend != "go" {
		h.Write([]byte(" conv " + graph.ConvBackend))
	}
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
	hashData(h, "train", data.Train)
	hashData(h, "test", data.Test)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashData writes d's shape, classes, values and labels to h (only its
// name when d is nil). The values are written as float32, whichever form
// d holds them in, so the hash is the same for both.
func hashData(h hash.Hash, name string, d *dataset.Dataset) {
	h.Write([]byte(name))
	if d == nil {
		return
	}
	fmt.Fprintf(h, "%v %d %d %d", d.Shape, d.Classes, d.Values(), len(d.Y))
	buf := make([]byte, 0, 1<<16)
	add := func(x float32) {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	if d.IsBytes() {
		for _, p := range d.Pixels {
			add(dataset.PixelValue(p))
		}
	} else {
		for _, x := range d.X {
			add(x)
		}
	}
	for _, y := range d.Y {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(y))
		if len(buf)+8 > cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
}

// firstPhase is the phase a pass of c starts with: its method's (""
// for an unknown method).
func (c Config) firstPhase() string {
	m, err := c.lookup()
	if err != nil {
		return ""
	}
	return m.Info().Phase
}

// rounds reports whether the training phase of c runs in rounds
// (MethodInfo.Rounds).
func (c Config) rounds() bool {
	m, err := c.lookup()
	return err == nil && m.Info().Rounds
}

// checkResume refuses a checkpoint from another tool version, another
// configuration or another input model m, and one holding a field that a
// pass of cfg could not have written; the errors wrap ErrCheckpoint and name
// the field. The training state's own fields are checked by train.Fit
// before it resumes (train.ErrResume); the mask of a structured
// fine-tuning checkpoint by checkMask once the thinned model is built.
func checkResume(ck *Checkpoint, key string, cfg Config, m *models.Model) error {
	bad := func(field, format string, args ...interface{}) error {
		return errors.Wrapf(ErrCheckpoint, "field %s: "+format, append([]interface{}{field}, args...)...)
	}
	switch {
	case ck.Tool != spred.Tool:
		return errors.Wrapf(ErrCheckpoint, "it was written by %s, this is %s", ck.Tool, spred.Tool)
	case ck.Key != key:
		return errors.Wrap(ErrCheckpoint, "it was written by a run with another configuration or input model")
	case ck.Train == nil:
		return bad("Train", "no training state")
	}
	// before is the number of epochs of the phases before ck's; epochs
	// those of ck's phase.
	var before, epochs int
	switch {
	case ck.Phase == PhaseFinetune && cfg.FinetuneEpochs > 0:
		before, epochs = cfg.Epochs, cfg.FinetuneEpochs
	case ck.Phase == cfg.firstPhase() && cfg.rounds():
		if ck.Round < 1 || ck.Round > cfg.Rounds {
			return bad("Round", "%d is outside 1..%d", ck.Round, cfg.Rounds)
		}
		for r := 1; r < ck.Round; r++ {
			before += roundEpochs(cfg.Epochs, r, cfg.Rounds)
		}
		epochs = roundEpochs(cfg.Epochs, ck.Round, cfg.Rounds)
	case ck.Phase == cfg.firstPhase():
		epochs = cfg.Epochs
	default:
		return bad("Phase", "%q is not a phase of this run (%s, then %s for %d epochs)", ck.Phase, cfg.firstPhase(), PhaseFinetune, cfg.FinetuneEpochs)
	}
	rounded := ck.Phase == cfg.firstPhase() && cfg.rounds()
	if ck.Round != 0 && !rounded {
		return bad("Round", "%d in phase %s", ck.Round, ck.Phase)
	}
	if epochs == 0 {
		return bad("Phase", "%s runs no epochs in this run", ck.Phase)
	}
	if e := ck.Train.Epoch; e < 1 || e > epochs+1 {
		return bad("Train.Epoch", "%d is outside 1..%d (phase %s of %d epochs)", e, epochs+1, ck.Phase, epochs)
	}
	if want := before + ck.Train.Epoch - 1; len(ck.History) != want {
		return bad("History", "%d epochs, a state at epoch %d of phase %s follows %d", len(ck.History), ck.Train.Epoch, ck.Phase, want)
	}
	for i, h := range ck.History {
		if h.Phase != cfg.firstPhase() && h.Phase != PhaseFinetune {
			return bad("History", "epoch %d has phase %q", i+1, h.Phase)
		}
	}
	for _, st := range []struct {
		name string
		s    Stages
		max  float64
	}{{"Accuracy", ck.Accuracy, 1}, {"Loss", ck.Loss, math.Inf(1)}} {
		for _, v := range []*float64{st.s.Dense, st.s.Trained, st.s.Thresholded, st.s.Finetuned, st.s.Thinned} {
			if v != nil && (!(*v >= 0 && *v <= st.max) || math.IsInf(*v, 0)) {
				return bad(st.name, "%v is not a %s", *v, strings.ToLower(st.name))
			}
		}
	}
	holdsMask := ck.Phase == PhaseFinetune || rounded
	switch {
	case holdsMask && ck.Mask == nil:
		return bad("Mask", "missing in phase %s", ck.Phase)
	case !holdsMask && ck.Mask != nil:
		return bad("Mask", "present in phase %s", ck.Phase)
	}
	thinned := ck.Phase == PhaseFinetune && cfg.structured()
	switch {
	case thinned && (ck.Thinned == nil || ck.Thin == nil):
		return bad("Thinned", "missing in the fine-tuning of a structured pass")
	case !thinned && (ck.Thinned != nil || ck.Thin != nil):
		return bad("Thinned", "present in phase %s", ck.Phase)
	case !thinned && holdsMask:
		return checkMask(ck.Mask, m)
	}
	return nil
}

// checkMask refuses a mask that names a weight m does not prune or holds
// indices out of order or out of range.
func checkMask(mask map[string][]int, m *models.Model) error {
	for name, idx := range mask {
		p := m.Params.Get(name)
		if p == nil || !p.Prunable {
			return errors.Wrapf(ErrCheckpoint, "field Mask: %q is not a prunable weight of model %q", name, m.Spec.Name)
		}
		for i, j := range idx {
			if j < 0 || j >= p.Len() || (i > 0 && j <= idx[i-1]) {
				return errors.Wrapf(ErrCheckpoint, "field Mask: index %d of %q is out of order or outside 0..%d", j, name, p.Len()-1)
			}
		}
	}
	return nil
}

// thinnedModel rebuilds the thinned model a structured fine-tuning
// checkpoint continues: its spec, checked against the original spec orig
// (the same layers, input and classes, no layer wider), with parameters of
// that spec in dtype dt; their values are the training state's.
func thinnedModel(ck *Checkpoint, orig models.Spec, dt tensor.Dtype) (*models.Model, error) {
	spec, err := models.ParseSpec(ck.Thinned)
	if err != nil {
		return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: %v", err)
	}
	if spec.Name != orig.Name || len(spec.Layers) != len(orig.Layers) || !equalInts(spec.Input, orig.Input) || spec.Classes() != orig.Classes() {
		return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: spec %q is not a thinning of %q", spec.Name, orig.Name)
	}
	have, err := spec.Params()
	if err != nil {
		return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: %v", err)
	}
	was, err := orig.Params()
	if err != nil {
		return nil, err
	}
	wide := map[string][]int{}
	for _, pi := range was {
		wide[pi.Name] = pi.Shape
	}
	for i, l := range spec.Layers {
		if l.Kind != orig.Layers[i].Kind || l.Name != orig.Layers[i].Name {
			return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: layer %d is %s %q, was %s %q", i, l.Kind, l.Name, orig.Layers[i].Kind, orig.Layers[i].Name)
		}
	}
	for _, pi := range have {
		w, ok := wide[pi.Name]
		if !ok || len(w) != len(pi.Shape) {
			return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: parameter %q %v is not in the original spec", pi.Name, pi.Shape)
		}
		for i := range w {
			if pi.Shape[i] < 0 || pi.Shape[i] > w[i] {
				return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: parameter %q is %v, wider than the original %v", pi.Name, pi.Shape, w)
			}
		}
	}
	m, err := models.New(spec, dt, rand.New(rand.NewSource(0)))
	if err != nil {
		return nil, errors.Wrapf(ErrCheckpoint, "field Thinned: %v", err)
	}
	if err := checkMask(ck.Mask, m); err != nil {
		return nil, err
	}
	return m, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// resumeFinetune prepares work for a pass resumed in its fine-tuning phase
// and returns the mask held there: for a structured pass, work becomes the
// thinned model the checkpoint describes (the training state then fills
// its values) and the report gets the thinning it recorded.
func resumeFinetune(work *models.Model, cfg Config, ck *Checkpoint, r *Report) (*Mask, error) {
	if cfg.structured() {
		thin, err := thinnedModel(ck, work.Spec, cfg.Dtype)
		if err != nil {
			return nil, err
		}
		if models.ChainThinnable(work.Spec) != nil {
			r.Settings.Decay = coupledDecaySetting(cfg.Structure)
		}
		work.Spec, work.Params = thin.Spec, thin.Params
		r.Thin = ck.Thin
	}
	return &Mask{zeros: ck.Mask}, nil
}
