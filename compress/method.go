package compress

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Method is a compression method: what Run does between the dense
// evaluation and the masked fine-tuning, which all methods share. The
// value of Config.Method selects one by its Name from the methods given
// to Register; the package registers MethodSpred, MethodMagnitude and
// MethodL1.
type Method interface {
	// Name is the value of Config.Method that selects the method.
	Name() string
	// Info describes what the method supports.
	Info() MethodInfo
	// Defaults returns c with the zero fields the method reads replaced
	// by its defaults; Config.Defaults calls it after the shared ones.
	Defaults(c Config) Config
	// DefaultConfig returns the recipe of the method for structure ("" is
	// element-wise), as DefaultConfigFor returns it.
	DefaultConfig(structure string) Config
	// Validate reports the first setting of c that the method rejects.
	// Config.Validate calls it after the shared checks, which already
	// hold c to what Info says the method supports.
	Validate(c Config) error
	// Settings records c in a report (Report.Settings).
	Settings(c Config) Settings
	// Describe is a one-line description of the settings of c specific
	// to the method, for logs.
	Describe(c Config) string
	// Train runs the method's training phase on s.Model and returns the
	// zero mask that fine-tuning holds fixed. It records the Trained and
	// Thresholded stages of s.Report.Accuracy and Loss (Session.Evaluate)
	// and one Stats per epoch (Session.Record).
	Train(ctx context.Context, s *Session) (*Mask, error)
}

// MethodInfo describes a Method.
type MethodInfo struct {
	// Summary is a short description for help texts.
	Summary string
	// Title names the method in titles ("spred", "L1").
	Title string
	// Phase is the Stats.Phase and Checkpoint.Phase of the training phase.
	Phase string
	// Structure: the method runs the grouped structures (Config.Structure).
	Structure bool
	// FromScratch: the method accepts Config.FromScratch.
	FromScratch bool
	// Target: the method accepts Config.TargetRatio and TargetSparsity.
	Target bool
	// Lambda: λ (Config.Lambda) sets the sparsity, and a target finds λ
	// during the run (or, given λ too, holds it and sets only the final
	// τ: TargetFixed); false means the method reads no λ and reaches a
	// target directly.
	Lambda bool
	// Threshold: the method reads τ (Config.Threshold).
	Threshold bool
	// Rounds: the phase runs Config.Rounds rounds sharing Config.Epochs
	// (the first rounds take the remainder), and its checkpoints carry the
	// round and the mask held in it.
	Rounds bool
	// Resume: the method continues from Config.Resume. Run takes no
	// checkpoints of a method that does not.
	Resume bool
}

var registry = struct {
	sync.RWMutex
	m map[string]Method
}{m: map[string]Method{}}

// Register makes m available as Config.Method m.Name(), to Run, the
// command line and sweeps. It panics if the name is empty or already
// registered, as a second method of one name is a programming error.
func Register(m Method) {
	name := m.Name()
	registry.Lock()
	defer registry.Unlock()
	if name == "" {
		panic("compress: Register of a method with an empty name")
	}
	if _, dup := registry.m[name]; dup {
		panic("compress: Register called twice for method " + name)
	}
	registry.m[name] = m
}

// Lookup returns the registered method of the given name. An unknown name
// gives an error that lists the registered names; errors.Is(err, ErrConfig)
// holds for it.
func Lookup(name string) (Method, error) {
	registry.RLock()
	m, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, &unknownMethodError{name: name, names: MethodNames()}
	}
	return m, nil
}

// unknownMethodError is the error of Lookup: errors.Is finds ErrConfig in
// it, and its message names the registered methods.
type unknownMethodError struct {
	name  string
	names []string
}

func (e *unknownMethodError) Error() string {
	return fmt.Sprintf("unknown method %q (registered: %s)", e.name, strings.Join(e.names, ", "))
}

func (e *unknownMethodError) Is(target error) bool { return target == ErrConfig }

// MethodNames returns the names of the registered methods, sorted.
func MethodNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// methodsWith returns the sorted names of the registered methods whose
// Info satisfies ok.
func methodsWith(ok func(MethodInfo) bool) []string {
	var out []string
	for _, n := range MethodNames() {
		if m, err := Lookup(n); err == nil && ok(m.Info()) {
			out = append(out, n)
		}
	}
	return out
}

func init() {
	Register(spredMethod{})
	Register(magnitudeMethod{})
	Register(l1Method{})
}

// Session is the state Run prepares for a method's training phase.
type Session struct {
	// Model is the working copy of the input model in Config.Dtype; the
	// phase trains and prunes it in place.
	Model *models.Model
	// Data is the training data (without a validation split) and the test
	// set.
	Data Data
	// Config is the run's configuration, its defaults filled in.
	Config Config
	// Report is the report under way: Settings, Target (nil without a
	// target), the dense stage and the History so far.
	Report *Report
	// Recorder is the run's recorder (nil for none).
	Recorder Recorder
	// Resume is the checkpoint of the training phase to continue, or nil.
	Resume *Checkpoint

	phase string
	eval  func(graph.WeightSource) (*float64, *float64, error)
	save  func(phase string, round int, mask *Mask) func(*train.State) error
}

// Evaluate returns the test accuracy and loss of Model with the weights of
// src (nil: Model's own); both are nil without a test set.
func (s *Session) Evaluate(src graph.WeightSource) (acc, loss *float64, err error) {
	return s.eval(src)
}

// Recalibrate re-estimates the batch-norm running statistics of the pruned
// Model on Config.Recalibrate batches of the training data (nothing without
// batch norm or with Recalibrate 0). The built-in methods call it once the
// weights are pruned, before the pruned model is evaluated.
func (s *Session) Recalibrate(ctx context.Context) error {
	return recalibrate(ctx, s.Model, s.Data, s.Config)
}

// Checkpoint returns the train.Hooks.Checkpoint that stores a checkpoint of
// the phase in round (0 without rounds) holding mask (nil for none), or nil
// when the recorder stores none or the method does not resume.
func (s *Session) Checkpoint(round int, mask *Mask) func(*train.State) error {
	return s.save(s.phase, round, mask)
}

// Stepper returns the train.Hooks.AfterStep that tells a StepRecorder
// about every step of a phase of epochs epochs, or nil when the recorder is
// not one.
func (s *Session) Stepper(epochs int) func(epoch, step, steps int) error {
	return stepper(s.Recorder, s.phase, epochs)
}

// Record appends st to the report's History and hands it to the recorder.
func (s *Session) Record(st Stats) {
	s.Report.History = append(s.Report.History, st)
	if s.Recorder != nil {
		s.Recorder.Record(&st)
	}
}

// SharedSettings returns the Settings every method records from c: the
// method, the training and fine-tuning settings, the seed, the dtype and
// the tool.
func SharedSettings(c Config) Settings {
	return Settings{Method: c.method(), Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, Nesterov: c.Nesterov,
		Schedule: c.Schedule.Kind, FinetuneEpochs: c.FinetuneEpochs, FinetuneLR: c.FinetuneLR, FinetuneDecay: c.FinetuneDecay, Seed: c.Seed,
		Dtype: c.Dtype.String(), Tool: spred.Tool, LayerScale: c.LayerScale, LayerLambda: LayerList(c.LayerLambda), LayerThreshold: c.LayerThreshold, HoldNorms: c.HoldNorms}
}

// LayerList renders multipliers of λ as NAME=F items sorted by name,
// joined by commas ("" for none): the form of Settings.LayerLambda and of
// spred compress --layer-lambda.
func LayerList(m map[string]float64) string {
	var parts []string
	for _, name := range sortedNames(m) {
		parts = append(parts, name+"="+strconv.FormatFloat(m[name], 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}

// layerNote describes the resolved multipliers of λ for Settings.Decay:
// "" without any, else "; λ×0.5 on fc2/W, ×0.1 on fc3/W".
func layerNote(c Config) string {
	if len(c.layers) == 0 {
		return ""
	}
	var parts []string
	for _, name := range sortedNames(c.layers) {
		parts = append(parts, fmt.Sprintf("×%.4g on %s", c.layers[name], name))
	}
	note := "; λ" + strings.Join(parts, ", ")
	if c.LayerThreshold {
		note += "; τ scaled likewise"
	}
	return note
}
