package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Options are the settings of Run and Pending.
type Options struct {
	// Dir is the sweep folder. Run creates it when its parent exists.
	Dir string
	// Model is the dense input. Every point runs on a copy of it.
	Model *models.Model
	// Data is what every point trains and is measured on.
	Data compress.Data
	// Points are the settings to run, each once.
	Points []Point
	// Config returns the configuration of a point's method; Run runs the
	// point with p.Config(Config(p)).
	Config func(Point) compress.Config
	// SpeedBatches are the batch sizes at which the forward pass of a
	// structured point (Point.Structure not empty) is timed against
	// Model's (compress.MeasureSpeed); a report without these timings is
	// not a done point.
	SpeedBatches []int
	// Checkpoints makes every point save its state in its checkpoint file
	// while it runs (Files), and a point with a checkpoint resume from it.
	Checkpoints bool
	// Recorder, if not nil, returns the compress.Recorder of a point's run
	// (it may also be a compress.StepRecorder).
	Recorder func(Point) compress.Recorder
	// Finish, if not nil, is called with the compressed model of a point,
	// its configuration and its report before they are written, to check
	// or annotate them; an error fails the point and removes its
	// checkpoint.
	Finish func(p Point, m *models.Model, cfg compress.Config, rep *compress.Report) error
	// Progress, if not nil, is told of every step of the sweep.
	Progress func(Event)
}

// EventKind says what an Event reports.
type EventKind int

// The steps of a sweep, as Options.Progress is told of them.
const (
	Skipped  EventKind = iota // the point's report was there: it is done
	Started                   // the point starts
	Resumed                   // the point continues from Event.Checkpoint
	Timing                    // the point's forward pass is being timed
	Finished                  // the point's files are written; Event.Report is its report
	Failed                    // the point failed with Event.Err; the others go on
)

// Event is a step of a sweep.
type Event struct {
	Kind  EventKind
	Point Point
	// N and Of are the place of the point among the pending points
	// (from 1) and their number; 0 for Skipped.
	N, Of int
	// Config is the point's configuration (every kind but Skipped).
	Config compress.Config
	// Checkpoint is the state a Resumed point continues from.
	Checkpoint *compress.Checkpoint
	// Report is the report of a Finished point.
	Report *compress.Report
	// Err is why a point Failed.
	Err error
}

// FailedError is the error of Run when some points failed and the others
// ran.
type FailedError struct {
	Points []Point // the points that failed, in order
	Errs   []error // why each failed
	Of     int     // the number of points of the sweep
}

func (e *FailedError) Error() string {
	ids := make([]string, len(e.Points))
	for i, p := range e.Points {
		ids[i] = p.ID()
	}
	return fmt.Sprintf("%d of %d points failed (%s)", len(e.Points), e.Of, strings.Join(ids, ", "))
}

// Unwrap returns the errors of the failed points.
func (e *FailedError) Unwrap() []error { return e.Errs }

// OtherRunError is the error of Pending and Run for a point whose report
// file holds another run's report, or no report: the folder holds another
// sweep.
type OtherRunError struct {
	Path string // the report file
	Err  error  // why it is not a report; nil for another run's report
}

func (e *OtherRunError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sweep: %s is not a compression report (%v); remove it or use another folder", e.Path, e.Err)
	}
	return fmt.Sprintf("sweep: %s was made from another model, configuration or data (or by another spred version): remove it or use another folder", e.Path)
}

// speedBudget is about how long each model's forward pass is timed at each
// batch size.
const speedBudget = 2 * time.Second

// Files returns the paths of the files of p in the sweep folder dir: its
// pruned model (ID.safetensors), its report (ID.json, written last, whose
// presence marks the point done) and its checkpoint (ID.ckpt, while it
// runs).
func Files(dir string, p Point) (model, report, checkpoint string) {
	base := filepath.Join(dir, p.ID())
	return base + ".safetensors", base + ".json", base + ".ckpt"
}

// Pending returns the points of o that are not done, in order, telling
// o.Progress of each one skipped. A point is done when its report exists,
// carries the compress.Key of its configuration, o.Model and o.Data, and
// holds the timings o.SpeedBatches asks for (for a structured point). A
// report made by another run, or a file there that is not a report, is an
// error: the folder holds another sweep.
func Pending(o Options) ([]Point, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	var pending []Point
	for _, p := range o.Points {
		done, err := o.done(p)
		if err != nil {
			return nil, err
		}
		if !done {
			pending = append(pending, p)
			continue
		}
		o.tell(Event{Kind: Skipped, Point: p})
	}
	return pending, nil
}

// Run runs the pending points of o (Pending) one after the other, each on
// a copy of o.Model, and returns the Results of the points of o whose
// reports are in o.Dir, in the order of o.Points. A point writes only its
// own files (Files), each locked while it runs, so runs of other points
// may share the folder. A failing point does not stop the others: Run then
// returns the Results and a *FailedError. A checkpoint that does not fit
// its point, or the end of ctx, stops the sweep. Merge tabulates the
// folder.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if st, err := os.Stat(o.Dir); err != nil {
		if err := os.Mkdir(o.Dir, 0o755); err != nil {
			return nil, errors.Wrap(err, "create the sweep folder")
		}
	} else if !st.IsDir() {
		return nil, errors.Errorf("sweep: %s is not a folder", o.Dir)
	}
	pending, err := Pending(o)
	if err != nil {
		return nil, err
	}
	failed := &FailedError{Of: len(o.Points)}
	for i, p := range pending {
		cfg := p.Config(o.Config(p))
		err := o.runPoint(ctx, p, cfg, i+1, len(pending))
		if err == nil {
			continue
		}
		if ctx.Err() != nil || badResume(err) {
			return nil, err
		}
		o.tell(Event{Kind: Failed, Point: p, N: i + 1, Of: len(pending), Config: cfg, Err: err})
		failed.Points, failed.Errs = append(failed.Points, p), append(failed.Errs, err)
	}
	var rs []Result
	for _, p := range o.Points {
		_, path, _ := Files(o.Dir, p)
		rep, err := readReport(path)
		if os.IsNotExist(errors.Cause(err)) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rs = append(rs, FromReport(rep, path))
	}
	if len(failed.Points) > 0 {
		return rs, failed
	}
	return rs, nil
}

func (o *Options) check() error {
	switch {
	case o.Dir == "":
		return errors.New("sweep: no folder (Options.Dir)")
	case o.Model == nil:
		return errors.New("sweep: no model (Options.Model)")
	case o.Config == nil:
		return errors.New("sweep: no configuration (Options.Config)")
	}
	return nil
}

func (o *Options) tell(e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

// timed is the batch sizes p is timed at: o.SpeedBatches for a structured
// point, none for the others.
func (o *Options) timed(p Point) []int {
	if p.Structure == "" {
		return nil
	}
	return o.SpeedBatches
}

// done reports whether the report of p exists and was made by the run p
// asks for; a report made by another run is an error.
func (o *Options) done(p Point) (bool, error) {
	_, path, _ := Files(o.Dir, p)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, errors.Wrap(err, "sweep")
	}
	var rep compress.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return false, &OtherRunError{Path: path, Err: err}
	}
	key, err := compress.Key(o.Model, o.Data, p.Config(o.Config(p)))
	if err != nil {
		return false, err
	}
	var timed []int
	for _, s := range rep.Speed {
		timed = append(timed, s.Batch)
	}
	if rep.Key != key || fmt.Sprint(timed) != fmt.Sprint(o.timed(p)) {
		return false, &OtherRunError{Path: path}
	}
	return true, nil
}

func readReport(path string) (*compress.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "sweep")
	}
	var rep compress.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, errors.Errorf("sweep: %s is not a compression report (%v)", path, err)
	}
	return &rep, nil
}

// badResume reports whether err refuses a checkpoint: one from another
// run, or one holding a field the run could not have written.
func badResume(err error) bool {
	return errors.Is(err, compress.ErrCheckpoint) || errors.Is(err, train.ErrResume)
}

// runPoint runs p, the n-th of of pending points, with cfg on a copy of the
// model, resuming from its checkpoint if there is one, times a structured
// pass, and writes its model and then its report.
func (o *Options) runPoint(ctx context.Context, p Point, cfg compress.Config, n, of int) error {
	out, repPath, ckPath := Files(o.Dir, p)
	release, err := claim(file{"the point's model", out}, file{"the point's report", repPath}, file{"the point's checkpoint", ckPath})
	defer release()
	if err != nil {
		return err
	}
	m := copyModel(o.Model)
	o.tell(Event{Kind: Started, Point: p, N: n, Of: of, Config: cfg})
	var rec compress.Recorder = recorder{}
	if o.Recorder != nil {
		rec = recorder{o.Recorder(p)}
	}
	if o.Checkpoints {
		rec = checkpointer{rec.(recorder), ckPath}
	}
	if _, err := os.Stat(ckPath); err == nil && o.Checkpoints {
		var ck compress.Checkpoint
		if err := train.ReadCheckpoint(ckPath, &ck); err != nil {
			return err
		}
		cfg.Resume = &ck
		o.tell(Event{Kind: Resumed, Point: p, N: n, Of: of, Config: cfg, Checkpoint: &ck})
	}
	rep, err := compress.Run(ctx, m, o.Data, cfg, rec)
	if err != nil {
		if badResume(err) {
			return errors.Wrapf(err, "resuming %s from %s (remove it to start the point afresh)", p.ID(), ckPath)
		}
		return err
	}
	if timed := o.timed(p); len(timed) > 0 {
		o.tell(Event{Kind: Timing, Point: p, N: n, Of: of, Config: cfg})
		if rep.Speed, err = compress.MeasureSpeed(copyModel(o.Model), m, timed, speedBudget); err != nil {
			return errors.Wrap(err, "timing the forward pass")
		}
	}
	if o.Finish != nil {
		if err := o.Finish(p, m, cfg, rep); err != nil {
			os.Remove(ckPath) // the point is over: nothing to resume
			return err
		}
	}
	if err := models.WriteFile(out, m); err != nil {
		return err
	}
	if st, err := os.Stat(out); err == nil {
		rep.OutputFile, rep.OutputBytes = out, st.Size()
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	// The report is the mark of a finished point: written last, atomically.
	if err := atomicfile.WriteBytes(repPath, append(b, '\n')); err != nil {
		return errors.Wrapf(err, "write report %s", repPath)
	}
	os.Remove(ckPath)
	o.tell(Event{Kind: Finished, Point: p, N: n, Of: of, Config: cfg, Report: rep})
	return nil
}

// recorder passes a point's statistics on to the recorder of
// Options.Recorder, if any.
type recorder struct{ rec compress.Recorder }

func (r recorder) Record(s *compress.Stats) {
	if r.rec != nil {
		r.rec.Record(s)
	}
}

func (r recorder) Step(phase string, epoch, epochs, step, steps int) {
	if sr, ok := r.rec.(compress.StepRecorder); ok {
		sr.Step(phase, epoch, epochs, step, steps)
	}
}

// checkpointer is a recorder that also saves the point's checkpoints in
// path.
type checkpointer struct {
	recorder
	path string
}

func (c checkpointer) Checkpoint(ck *compress.Checkpoint) error {
	return train.WriteCheckpoint(c.path, ck)
}

// copyModel is a copy of m that shares nothing with it.
func copyModel(m *models.Model) *models.Model {
	c := &models.Model{Spec: m.Spec, Params: m.Params.Clone(), Meta: m.Meta}
	if m.Spec.Input != nil {
		c.Spec.Input = append([]int{}, m.Spec.Input...)
	}
	if m.Spec.Layers != nil {
		c.Spec.Layers = append([]models.Layer{}, m.Spec.Layers...)
		for i, l := range c.Spec.Layers {
			if l.Inputs != nil {
				c.Spec.Layers[i].Inputs = append([]string{}, l.Inputs...)
			}
		}
	}
	if m.Meta.Extra != nil {
		c.Meta.Extra = make(map[string]string, len(m.Meta.Extra))
		for k, v := range m.Meta.Extra {
			c.Meta.Extra[k] = v
		}
	}
	return c
}
