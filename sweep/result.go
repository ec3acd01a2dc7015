package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/compress"
)

// Result is one point of a sweep, as read from its compress.Report.
type Result struct {
	Point
	Model    string   // the model's zoo name
	Ratio    *float64 // prunable params / prunable non-zeros; nil when all are zero (∞)
	AllRatio *float64 // all params / all non-zeros, biases included; nil for ∞
	// Accuracy is the test accuracy (a fraction) of the last stage that
	// ran: fine-tuned, else thresholded; nil when not measured.
	Accuracy *float64
	// Error is the test error in percent, 100·(1 − Accuracy); NaN when
	// Accuracy is nil.
	Error       float64
	NonZero     map[string]int // per prunable layer
	Layers      []string       // the prunable layers in model order (the keys of NonZero)
	WallSeconds float64
	Report      string // base name of the report file
	// Seed is the seed of the run (compress.Settings.Seed).
	Seed int64
	// ValError is the final model's error in percent on the validation
	// split (compress.Config.ValFraction); nil without one.
	ValError *float64
}

// FromReport extracts a Result from a report: the method (MethodSpred
// when the report names none), its structure and from-scratch setting, λ,
// τ and the target sparsity, so that the Result's ID is the point's.
func FromReport(r *compress.Report, file string) Result {
	method := MethodSpred
	if m := r.Settings.Method; m != "" {
		method = m
	}
	res := Result{
		Point: Point{Method: method, Lambda: r.Settings.Lambda, Threshold: r.Settings.Threshold, Target: r.Settings.TargetSparsity,
			Structure: r.Settings.Structure, FromScratch: r.Settings.FromScratch, LayerScale: r.Settings.LayerScale, LayerLambda: r.Settings.LayerLambda,
			LayerThreshold: r.Settings.LayerThreshold, HoldNorms: r.Settings.HoldNorms},
		Model: r.Model, Ratio: r.Totals.CompressionRatio, AllRatio: r.Totals.AllRatio,
		Accuracy: r.Accuracy.Final(), Error: math.NaN(), NonZero: map[string]int{},
		WallSeconds: r.WallSeconds, Report: filepath.Base(file), Seed: r.Settings.Seed,
	}
	if r.Target != nil {
		res.TargetRatio = r.Target.Ratio
		res.Held = r.Target.Search == compress.TargetFixed
	}
	if v := r.Validation; v != nil && v.FinalAccuracy != nil {
		e := 100 * (1 - *v.FinalAccuracy)
		res.ValError = &e
	}
	if res.Accuracy != nil {
		res.Error = 100 * (1 - *res.Accuracy)
	}
	for _, l := range r.Layers {
		res.NonZero[l.Name] = l.NonZero
		res.Layers = append(res.Layers, l.Name)
	}
	return res
}

// reportKeys are the top-level keys every compress.Report has; a JSON file
// without all of them is not a report.
var reportKeys = []string{"model", "layers", "totals", "accuracy", "settings"}

// Load reads every *.json file in dir (not its subfolders) that is a
// compress.Report and returns the Results sorted by method, λ, τ and file
// name. Skip rule: a file whose content is a JSON value other than an
// object with all of the keys model, layers, totals, accuracy and settings
// (a sweep's other JSON files, anybody's notes) is ignored. A *.json file
// that is not valid JSON, or a report whose fields have the wrong types, is
// an error naming the file. A top-level "method" string in a report
// overrides the method, so other pruning methods' results written in the
// same format can join a table and a plot.
func Load(dir string) ([]Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errors.Wrap(err, "load sweep")
	}
	var out []Result
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		name := filepath.Join(dir, e.Name())
		st, err := os.Stat(name)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, errors.Wrap(err, "load sweep")
		}
		res, ok, err := parseReport(b, name)
		if err != nil {
			return nil, errors.Wrapf(err, "load sweep: %s", name)
		}
		if ok {
			out = append(out, res)
		}
	}
	Sort(out)
	return out, nil
}

func parseReport(b []byte, name string) (Result, bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		var any interface{}
		if json.Unmarshal(b, &any) == nil {
			return Result{}, false, nil // valid JSON, not an object
		}
		return Result{}, false, errors.Wrap(err, "not valid JSON")
	}
	for _, k := range reportKeys {
		if _, ok := top[k]; !ok {
			return Result{}, false, nil
		}
	}
	var r compress.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, false, errors.Wrap(err, "not a compression report")
	}
	res := FromReport(&r, name)
	if m, ok := top["method"]; ok {
		var s string
		if err := json.Unmarshal(m, &s); err != nil || s == "" {
			return Result{}, false, errors.New(`"method" must be a non-empty string`)
		}
		res.Method, res.Structure, res.FromScratch, res.LayerScale, res.LayerLambda, res.LayerThreshold, res.HoldNorms = s, "", false, "", "", false, false
	}
	return res, true, nil
}

// Sort orders results by method, λ, τ and report file name.
func Sort(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case a.Series() != b.Series():
			return a.Series() < b.Series()
		case a.Lambda != b.Lambda:
			return a.Lambda < b.Lambda
		case a.Threshold != b.Threshold:
			return a.Threshold < b.Threshold
		case a.Target != b.Target:
			return a.Target < b.Target
		case a.TargetRatio != b.TargetRatio:
			return a.TargetRatio < b.TargetRatio
		case a.Seed != b.Seed:
			return a.Seed < b.Seed
		}
		return a.Report < b.Report
	})
}

// Reference is a published result to compare with.
type Reference struct {
	Method string
	Ratio  float64 // compression ratio of the prunable weights
	Error  float64 // test error in percent
	Source string
}

// Published holds reference results on the zoo models, keyed by zoo model
// name: the numbers as the papers report them (trained with their own
// recipes, not re-measured here).
var Published = map[string][]Reference{
	"lenet-300-100": {
		{Method: "magnitude pruning", Ratio: 12, Error: 1.59, Source: "Han et al. 2015"},
		{Method: "sparse variational dropout", Ratio: 68, Error: 1.92, Source: "Molchanov et al. 2017"},
	},
	"lenet-5": {
		{Method: "magnitude pruning", Ratio: 12, Error: 0.77, Source: "Han et al. 2015"},
		{Method: "sparse variational dropout", Ratio: 280, Error: 0.75, Source: "Molchanov et al. 2017"},
	},
}

// layerOrder lists the layers of all results, in the order they first
// appear.
func layerOrder(rs []Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		names := r.Layers
		if len(names) == 0 { // hand-made results: the map's keys, sorted
			for k := range r.NonZero {
				names = append(names, k)
			}
			sort.Strings(names)
		}
		for _, l := range names {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Table renders results (in the given order) as a CSV file and a Markdown
// table. The CSV has one row per run with the columns method, λ (the one
// asked, or the one a target ratio found), τ, target sparsity (when a
// result has one), compression ratio, test error %, seed, target ratio and
// validation error % (when a result has them), the non-zeros of every
// prunable layer (in layer order), wall time and the report file. The
// Markdown table has the same columns but the seed; when a point was run
// with several seeds it has one row per point instead, with the number of
// runs and the mean ± sample standard deviation of the ratio and the
// errors (no per-layer columns). An infinite ratio (no weight left) is
// "inf" in the CSV and "∞" in Markdown; an unmeasured error is empty and
// "-". refs are appended to the Markdown table only, marked "published",
// with their source in the report column.
func Table(results []Result, refs ...Reference) (csvOut []byte, md []byte) {
	layers := layerOrder(results)
	var cb bytes.Buffer
	w := csv.NewWriter(&cb)
	var targets, ratios, vals bool // optional columns, when a result has one
	for _, r := range results {
		targets = targets || r.Target != 0
		ratios = ratios || r.TargetRatio != 0
		vals = vals || r.ValError != nil
	}
	head := []string{"method", "lambda", "tau"}
	if targets {
		head = append(head, "target_sparsity")
	}
	head = append(head, "compression_ratio", "test_error_pct", "seed")
	if ratios {
		head = append(head, "target_ratio")
	}
	if vals {
		head = append(head, "val_error_pct")
	}
	for _, l := range layers {
		head = append(head, "nonzero_"+l)
	}
	head = append(head, "wall_seconds", "report")
	w.Write(head)
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, r := range results {
		ratio := "inf"
		if r.Ratio != nil {
			ratio = strconv.FormatFloat(*r.Ratio, 'f', 4, 64)
		}
		row := []string{r.Series(), fmtNum(r.Lambda), fmtNum(r.Threshold)}
		if targets {
			row = append(row, fmtNum(r.Target))
		}
		row = append(row, ratio, pct(r.Error), strconv.FormatInt(r.Seed, 10))
		if ratios {
			row = append(row, fmtNum(r.TargetRatio))
		}
		if vals {
			row = append(row, pct(valError(r)))
		}
		for _, l := range layers {
			if nz, ok := r.NonZero[l]; ok {
				row = append(row, strconv.Itoa(nz))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.FormatFloat(r.WallSeconds, 'f', 1, 64), r.Report)
		w.Write(row)
	}
	w.Flush()
	if ss := Summarise(results); repeated(ss) {
		return cb.Bytes(), summaryMarkdown(ss, refs, targets, ratios, vals)
	}

	cols := []string{"compression", "test error"}
	if vals {
		cols = append(cols, "validation error")
	}
	for _, l := range layers {
		cols = append(cols, mdEscape(l)+" non-zero")
	}
	var mb bytes.Buffer
	mdHead(&mb, targets, ratios, cols, "wall time", "report")
	for _, r := range results {
		ratio := "∞"
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.1f×", *r.Ratio)
		}
		fmt.Fprintf(&mb, "| %s | %g | %g |", mdEscape(r.Series()), r.Lambda, r.Threshold)
		if targets {
			fmt.Fprintf(&mb, " %g |", r.Target)
		}
		if ratios {
			fmt.Fprintf(&mb, " %s |", fmtTargetRatio(r.TargetRatio))
		}
		fmt.Fprintf(&mb, " %s | %s |", ratio, mdPct(r.Error))
		if vals {
			fmt.Fprintf(&mb, " %s |", mdPct(valError(r)))
		}
		for _, l := range layers {
			if nz, ok := r.NonZero[l]; ok {
				fmt.Fprintf(&mb, " %d |", nz)
			} else {
				mb.WriteString(" - |")
			}
		}
		fmt.Fprintf(&mb, " %s | %s |\n", fmtWall(r.WallSeconds), mdEscape(r.Report))
	}
	after := len(layers)
	if vals {
		after++
	}
	mdRefs(&mb, refs, targets, ratios, 0, after)
	return cb.Bytes(), mb.Bytes()
}

// summaryMarkdown is the Markdown table of points run with several seeds:
// one row per point with the mean ± standard deviation over its runs.
func summaryMarkdown(ss []Summary, refs []Reference, targets, ratios, vals bool) []byte {
	cols := []string{"runs", "compression (mean ± std)", "test error (mean ± std)"}
	if vals {
		cols = append(cols, "validation error (mean ± std)")
	}
	var mb bytes.Buffer
	mdHead(&mb, targets, ratios, cols, "wall time (all runs)", "reports")
	for _, s := range ss {
		fmt.Fprintf(&mb, "| %s | %.3g | %g |", mdEscape(s.Series()), s.Lambda, s.Threshold)
		if targets {
			fmt.Fprintf(&mb, " %g |", s.Target)
		}
		if ratios {
			fmt.Fprintf(&mb, " %s |", fmtTargetRatio(s.TargetRatio))
		}
		ratio := "∞"
		if !math.IsInf(s.Ratio, 0) {
			ratio = fmt.Sprintf("%.1f× ± %.1f", s.Ratio, s.RatioStd)
		}
		fmt.Fprintf(&mb, " %d | %s | %s |", len(s.Runs), ratio, mdPctStd(s.Error, s.ErrorStd))
		if vals {
			fmt.Fprintf(&mb, " %s |", mdPctStd(s.ValError, s.ValErrorStd))
		}
		var names []string
		for _, r := range s.Runs {
			names = append(names, mdEscape(r.Report))
		}
		fmt.Fprintf(&mb, " %s | %s |\n", fmtWall(s.WallSeconds), strings.Join(names, ", "))
	}
	after := 0
	if vals {
		after = 1
	}
	mdRefs(&mb, refs, targets, ratios, 1, after)
	return mb.Bytes()
}

// mdHead writes the header and the alignment row of a Markdown sweep
// table: method, λ, τ, the target sparsity and target ratio columns when
// asked, then cols and the wall time column wall (right-aligned), and last
// (left-aligned).
func mdHead(mb *bytes.Buffer, targets, ratios bool, cols []string, wall, last string) {
	head := []string{"method", "λ", "τ"}
	if targets {
		head = append(head, "target sparsity")
	}
	if ratios {
		head = append(head, "target ratio")
	}
	head = append(append(head, cols...), wall, last)
	align := "|---|"
	for range head[1 : len(head)-1] {
		align += "---:|"
	}
	mb.WriteString("| " + strings.Join(head, " | ") + " |\n" + align + "---|\n")
}

// mdRefs writes the rows of the published results refs under a table of
// mdHead's columns: before empty columns between the targets and the
// ratio, after ones between the error and the wall time.
func mdRefs(mb *bytes.Buffer, refs []Reference, targets, ratios bool, before, after int) {
	for _, ref := range refs {
		fmt.Fprintf(mb, "| %s (published) | - | - |", mdEscape(ref.Method))
		if targets {
			mb.WriteString(" - |")
		}
		if ratios {
			mb.WriteString(" - |")
		}
		mb.WriteString(strings.Repeat(" - |", before))
		fmt.Fprintf(mb, " %g× | %.2f%% |", ref.Ratio, ref.Error)
		mb.WriteString(strings.Repeat(" - |", after))
		fmt.Fprintf(mb, " - | %s |\n", mdEscape(ref.Source))
	}
}

// valError is r.ValError, NaN for none.
func valError(r Result) float64 {
	if r.ValError == nil {
		return math.NaN()
	}
	return *r.ValError
}

func fmtTargetRatio(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%g×", r)
}

func mdPct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", v)
}

func mdPctStd(v, std float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2f%% ± %.2f", v, std)
}

func fmtWall(s float64) string {
	if s >= 60 {
		m := int(s) / 60
		return fmt.Sprintf("%d min %02d s", m, int(s)-60*m)
	}
	return fmt.Sprintf("%.1f s", s)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// ratioOf is the compression ratio with ∞ for nil.
func ratioOf(r Result) float64 {
	if r.Ratio == nil {
		return math.Inf(1)
	}
	return *r.Ratio
}

// ParetoFront returns the results that no other result dominates (one
// with at least the compression ratio and at least the accuracy, and more
// of one of them), over all methods, sorted by ratio. The accuracy is the
// validation accuracy when every result has one (FrontOnValidation), so
// that the choice never reads the test set; else the test accuracy.
// Results without an accuracy are left out. Equal points are all kept.
func ParetoFront(results []Result) []Result {
	var cand []Result
	for _, r := range results {
		if r.Accuracy != nil && !math.IsNaN(*r.Accuracy) {
			cand = append(cand, r)
		}
	}
	onVal := FrontOnValidation(cand)
	acc := func(r Result) float64 {
		if onVal {
			return 1 - *r.ValError/100
		}
		return *r.Accuracy
	}
	var front []Result
	for i, a := range cand {
		dominated := false
		for j, b := range cand {
			if i == j {
				continue
			}
			ra, rb, aa, ab := ratioOf(a), ratioOf(b), acc(a), acc(b)
			if rb >= ra && ab >= aa && (rb > ra || ab > aa) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, a)
		}
	}
	sort.SliceStable(front, func(i, j int) bool {
		if ratioOf(front[i]) != ratioOf(front[j]) {
			return ratioOf(front[i]) < ratioOf(front[j])
		}
		return acc(front[i]) > acc(front[j])
	})
	return front
}

// FrontOnValidation reports whether ParetoFront ranks results by their
// validation error: every result has one (and there is a result).
func FrontOnValidation(results []Result) bool {
	for _, r := range results {
		if r.ValError == nil {
			return false
		}
	}
	return len(results) > 0
}
