package sweep_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/sweep"
)

// tinyOptions is a sweep of the tiny problem at three λ values in dir,
// recording the kinds of the events it reports in *events.
func tinyOptions(t *testing.T, dir string, events *[]sweep.EventKind) sweep.Options {
	t.Helper()
	m, data, err := tinyProblem()
	if err != nil {
		t.Fatal(err)
	}
	return sweep.Options{Dir: dir, Model: m, Data: data, Config: tinyConfig,
		Points:   sweep.Points(sweep.MethodSpred, []float64{1e-3, 5e-3, 2e-2}, []float64{1e-3}),
		Progress: func(e sweep.Event) { *events = append(*events, e.Kind) }}
}

func count(events []sweep.EventKind, kind sweep.EventKind) int {
	n := 0
	for _, e := range events {
		if e == kind {
			n++
		}
	}
	return n
}

// TestRunSkipsDone: a second Run of the same sweep runs nothing, leaves
// the files as they were and returns the same Results.
func TestRunSkipsDone(t *testing.T) {
	var events []sweep.EventKind
	o := tinyOptions(t, filepath.Join(t.TempDir(), "s"), &events)
	first, err := sweep.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 || count(events, sweep.Finished) != 3 || count(events, sweep.Skipped) != 0 {
		t.Fatalf("first run: %d results, events %v", len(first), events)
	}
	_, report, _ := sweep.Files(o.Dir, o.Points[0])
	before, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	events = nil
	pending, err := sweep.Pending(o)
	if err != nil || len(pending) != 0 {
		t.Fatalf("Pending after the run: %v, %v; want none", pending, err)
	}
	events = nil
	again, err := sweep.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if count(events, sweep.Skipped) != 3 || count(events, sweep.Started) != 0 {
		t.Errorf("second run: events %v, want 3 skips and no start", events)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("second run's results differ:\n%v\n%v", first, again)
	}
	if after, err := os.ReadFile(report); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the report changed (%v)", err)
	}
	// Another point joins the sweep: only it runs.
	events = nil
	o.Points = append(o.Points, sweep.Point{Method: sweep.MethodSpred, Lambda: 1e-2, Threshold: 1e-3})
	if _, err := sweep.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if count(events, sweep.Skipped) != 3 || count(events, sweep.Finished) != 1 {
		t.Errorf("run with a new point: events %v, want 3 skips and 1 point run", events)
	}
}

// TestRunRefusesOtherRun: a report made by another configuration, or a
// file in a report's place that is not one, stops Run before any point
// runs.
func TestRunRefusesOtherRun(t *testing.T) {
	var events []sweep.EventKind
	o := tinyOptions(t, filepath.Join(t.TempDir(), "s"), &events)
	o.Points = o.Points[:2]
	if _, err := sweep.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	other := o
	other.Points = append(o.Points[:2:2], sweep.Point{Method: sweep.MethodSpred, Lambda: 1e-2, Threshold: 1e-3})
	other.Config = func(p sweep.Point) compress.Config {
		cfg := tinyConfig(p)
		cfg.Epochs++
		return cfg
	}
	events = nil
	_, err := sweep.Run(context.Background(), other)
	var oe *sweep.OtherRunError
	_, report, _ := sweep.Files(o.Dir, o.Points[0])
	if !errors.As(err, &oe) || oe.Path != report || oe.Err != nil {
		t.Fatalf("Run over another configuration's reports: %v, want an OtherRunError for %s", err, report)
	}
	if len(events) != 0 {
		t.Errorf("events %v before the refusal, want none", events)
	}
	model, _, _ := sweep.Files(o.Dir, other.Points[2])
	if _, err := os.Stat(model); !os.IsNotExist(err) {
		t.Errorf("the new point ran: %v", err)
	}

	if err := os.WriteFile(report, []byte("not JSON\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = sweep.Pending(o)
	if !errors.As(err, &oe) || oe.Path != report || oe.Err == nil {
		t.Errorf("Pending over a file that is not a report: %v, want an OtherRunError with a cause", err)
	}
}

// TestRunFailedPoint: a point that fails does not stop the others, and
// Run returns the Results of those with a FailedError.
func TestRunFailedPoint(t *testing.T) {
	var events []sweep.EventKind
	o := tinyOptions(t, filepath.Join(t.TempDir(), "s"), &events)
	bad, refused := o.Points[1], errors.New("refused")
	o.Finish = func(p sweep.Point, m *models.Model, cfg compress.Config, rep *compress.Report) error {
		if p == bad {
			return refused
		}
		return nil
	}
	rs, err := sweep.Run(context.Background(), o)
	var fe *sweep.FailedError
	if !errors.As(err, &fe) || !reflect.DeepEqual(fe.Points, []sweep.Point{bad}) || fe.Of != 3 {
		t.Fatalf("Run: %v, want a FailedError for %s of 3", err, bad.ID())
	}
	if !errors.Is(err, refused) {
		t.Errorf("Run: %v does not wrap the point's error", err)
	}
	if len(rs) != 2 || rs[0].ID() != o.Points[0].ID() || rs[1].ID() != o.Points[2].ID() {
		t.Errorf("results %v, want the two other points", rs)
	}
	if count(events, sweep.Failed) != 1 || count(events, sweep.Finished) != 2 {
		t.Errorf("events %v, want 1 failure and 2 points finished", events)
	}
	for _, f := range []string{".json", ".safetensors", ".ckpt"} {
		if _, err := os.Stat(filepath.Join(o.Dir, bad.ID()+f)); !os.IsNotExist(err) {
			t.Errorf("the failed point left its %s file (%v)", f, err)
		}
	}
}

// wallTime matches the wall time cells of the tables.
var wallTime = regexp.MustCompile(`\| [0-9]+(\.[0-9])? s \|`)

// table reads the sweep tables of dir, with the wall times blanked.
func table(t *testing.T, dir string) (rows [][]string, md string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, err = csv.NewReader(f).ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		r[len(r)-2] = "-" // wall_seconds
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.md"))
	if err != nil {
		t.Fatal(err)
	}
	return rows, wallTime.ReplaceAllString(string(b), "| - |")
}

// TestRunDisjointMerge: two Runs of disjoint points in one folder, then
// Merge, give the tables and the models of one Run of all the points.
func TestRunDisjointMerge(t *testing.T) {
	var events []sweep.EventKind
	root := t.TempDir()
	all := tinyOptions(t, filepath.Join(root, "all"), &events)
	if _, err := sweep.Run(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if _, err := sweep.Merge(all.Dir, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	split := all
	split.Dir = filepath.Join(root, "split")
	for _, ps := range [][]sweep.Point{all.Points[:1], all.Points[1:]} {
		split.Points = ps
		if _, err := sweep.Run(context.Background(), split); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := sweep.Merge(split.Dir, "tiny", nil)
	if err != nil || len(rs) != 3 {
		t.Fatalf("Merge: %d results, %v", len(rs), err)
	}
	rowsAll, mdAll := table(t, all.Dir)
	rowsSplit, mdSplit := table(t, split.Dir)
	if !reflect.DeepEqual(rowsAll, rowsSplit) {
		t.Errorf("sweep.csv differs:\n%v\n%v", rowsAll, rowsSplit)
	}
	if mdAll != mdSplit {
		t.Errorf("sweep.md differs:\n%s\n%s", mdAll, mdSplit)
	}
	for _, p := range all.Points {
		a, _, _ := sweep.Files(all.Dir, p)
		b, _, _ := sweep.Files(split.Dir, p)
		ba, errA := os.ReadFile(a)
		bb, errB := os.ReadFile(b)
		if errA != nil || errB != nil || !bytes.Equal(ba, bb) {
			t.Errorf("%s: the models differ (%v, %v)", p.ID(), errA, errB)
		}
	}
	if _, err := sweep.Merge(t.TempDir(), "empty", nil); err == nil {
		t.Error("Merge of a folder without reports: no error")
	}
}

// cancelRecorder cancels a run at its first epoch's statistics.
type cancelRecorder struct{ cancel context.CancelFunc }

func (r cancelRecorder) Record(*compress.Stats) { r.cancel() }

// TestRunResumes: a sweep stopped in a point leaves its checkpoint, and
// the next Run resumes from it to the model of an uninterrupted sweep.
func TestRunResumes(t *testing.T) {
	var events []sweep.EventKind
	root := t.TempDir()
	whole := tinyOptions(t, filepath.Join(root, "whole"), &events)
	whole.Points, whole.Checkpoints = whole.Points[1:2], true
	if _, err := sweep.Run(context.Background(), whole); err != nil {
		t.Fatal(err)
	}
	o := whole
	o.Dir = filepath.Join(root, "stopped")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Recorder = func(sweep.Point) compress.Recorder { return cancelRecorder{cancel} }
	if _, err := sweep.Run(ctx, o); err == nil || ctx.Err() == nil {
		t.Fatalf("stopped run: %v, want an error", err)
	}
	model, report, ck := sweep.Files(o.Dir, o.Points[0])
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no checkpoint after the stop: %v", err)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Fatalf("a report after the stop: %v", err)
	}
	events = nil
	o.Recorder = nil
	if _, err := sweep.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if count(events, sweep.Resumed) != 1 || count(events, sweep.Finished) != 1 {
		t.Errorf("events %v, want the point resumed and finished", events)
	}
	if _, err := os.Stat(ck); !os.IsNotExist(err) {
		t.Errorf("the checkpoint is left after the point finished: %v", err)
	}
	wm, _, _ := sweep.Files(whole.Dir, whole.Points[0])
	a, errA := os.ReadFile(wm)
	b, errB := os.ReadFile(model)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("the resumed point's model differs from the uninterrupted one's (%v, %v)", errA, errB)
	}
}

// TestRunLockedPoint: a point whose file another run writes fails alone,
// naming the file; two Runs of disjoint points share a folder at once.
func TestRunLockedPoint(t *testing.T) {
	var events []sweep.EventKind
	o := tinyOptions(t, filepath.Join(t.TempDir(), "s"), &events)
	if err := os.Mkdir(o.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	model, _, _ := sweep.Files(o.Dir, o.Points[0])
	l, err := atomicfile.Lock(model)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sweep.Run(context.Background(), o)
	l.Unlock()
	var fe *sweep.FailedError
	want := "the point's model " + model + " is being written by another spred run"
	if !errors.As(err, &fe) || len(fe.Points) != 1 || fe.Points[0] != o.Points[0] || !strings.Contains(fe.Errs[0].Error(), want) {
		t.Fatalf("Run with a locked point: %v, want the point to fail with %q", err, want)
	}

	a, b := o, o
	a.Progress, b.Progress = nil, nil
	a.Points, b.Points = o.Points[:1], o.Points[1:]
	a.Dir = filepath.Join(t.TempDir(), "shared")
	b.Dir = a.Dir
	if err := os.Mkdir(a.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for _, opts := range []sweep.Options{a, b} {
		go func() {
			_, err := sweep.Run(context.Background(), opts)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if rs, err := sweep.Load(a.Dir); err != nil || len(rs) != 3 {
		t.Errorf("the shared folder holds %d reports (%v), want 3", len(rs), err)
	}
}
