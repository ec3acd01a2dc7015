package sweep

import (
	"bytes"
	"encoding/json"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spred-go/spred/compress"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func f(v float64) *float64 { return &v }

func TestLogRange(t *testing.T) {
	got, err := LogRange(1e-5, 1e-3, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	got, err = ParseRange("1e-5:1e-3:8")
	if err != nil || len(got) != 8 || got[0] != 1e-5 || got[7] != 1e-3 {
		t.Fatalf("ParseRange: %v %v", got, err)
	}
	for i := 1; i < len(got); i++ {
		if r := got[i] / got[i-1]; math.Abs(r-math.Pow(100, 1.0/7)) > 0.01 {
			t.Errorf("step %d: ratio %v", i, r)
		}
	}
	if got, err := LogRange(2e-4, 2e-4, 1); err != nil || !reflect.DeepEqual(got, []float64{2e-4}) {
		t.Fatalf("one point: %v %v", got, err)
	}
	for _, bad := range []struct {
		lo, hi float64
		n      int
	}{{0, 1, 3}, {-1, 1, 3}, {1e-3, 1e-5, 3}, {1e-3, 1e-3, 2}, {1e-5, 1e-3, 0}, {1e-5, 1e-3, 1},
		{1e-5, math.Inf(1), 3}, {math.NaN(), 1, 3}, {1, 1.001, 50}} {
		if got, err := LogRange(bad.lo, bad.hi, bad.n); err == nil {
			t.Errorf("LogRange(%v, %v, %d) = %v, want an error", bad.lo, bad.hi, bad.n, got)
		}
	}
	for _, bad := range []string{"", "1e-5:1e-3", "1e-5:1e-3:x", "a:1:3", "1e-5:1e-3:2.5", "1e-3:1e-5:4", "-1:1:3", "1:2:3:4"} {
		if got, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("1e-4, 2e-4,0,3")
	if err != nil || !reflect.DeepEqual(got, []float64{1e-4, 2e-4, 0, 3}) {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"", " ", "1e-4,", ",1", "1e-4,,2e-4", "x", "-1e-4", "NaN", "inf", "1e-4;2e-4"} {
		if got, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestPointID(t *testing.T) {
	for _, c := range []struct {
		p    Point
		want string
	}{
		{Point{Method: "spred", Lambda: 1.5e-4, Threshold: 3e-3}, "spred_lambda=1.5e-04_tau=3.0e-03"},
		{Point{Method: "spred", Lambda: 3.16e-5, Threshold: 1e-2}, "spred_lambda=3.16e-05_tau=1.0e-02"},
		{Point{Method: "spred", Lambda: 0, Threshold: 1e-3}, "spred_lambda=0.0e+00_tau=1.0e-03"},
		{Point{Method: "a b/c", Lambda: 1, Threshold: 1}, "a-b-c_lambda=1.0e+00_tau=1.0e+00"},
	} {
		if got := c.p.ID(); got != c.want {
			t.Errorf("%v: ID %q, want %q", c.p, got, c.want)
		}
	}
	// Distinct values give distinct IDs.
	if (Point{Method: "spred", Lambda: 1.5e-4, Threshold: 3e-3}).ID() == (Point{Method: "spred", Lambda: 1.50001e-4, Threshold: 3e-3}).ID() {
		t.Error("IDs collide")
	}
	ps := Points("spred", []float64{2e-4, 1e-4, 2e-4}, []float64{1e-2, 3e-3})
	if len(ps) != 4 || ps[0] != (Point{Method: "spred", Lambda: 1e-4, Threshold: 3e-3}) || ps[3] != (Point{Method: "spred", Lambda: 2e-4, Threshold: 1e-2}) {
		t.Fatalf("Points: %v", ps)
	}
}

// handMade is a small set of results of two methods; the pareto front is
// a (1.5e-4), c (3e-4), and m2 (magnitude, 20×, 98%).
func handMade() []Result {
	layers := []string{"fc1/W", "fc2/W", "fc3/W"}
	mk := func(method string, l, tau, ratio, acc float64, nz [3]int, wall float64) Result {
		r := Result{Point: Point{Method: method, Lambda: l, Threshold: tau}, Model: "lenet-300-100", Ratio: f(ratio), AllRatio: f(ratio * 0.98),
			Accuracy: f(acc), Error: 100 * (1 - acc), NonZero: map[string]int{}, Layers: layers, WallSeconds: wall,
			Report: Point{Method: method, Lambda: l, Threshold: tau}.ID() + ".json"}
		for i, n := range nz {
			r.NonZero[layers[i]] = n
		}
		return r
	}
	return []Result{
		mk("spred", 1e-4, 3e-3, 10, 0.985, [3]int{20000, 5000, 600}, 61.25),
		mk("spred", 1.5e-4, 3e-3, 15, 0.986, [3]int{14000, 3000, 500}, 59),
		mk("spred", 3e-4, 3e-3, 30, 0.979, [3]int{7000, 1500, 400}, 58.5),
		mk("spred", 3e-4, 1e-2, 25, 0.975, [3]int{8000, 2000, 420}, 58.5), // dominated by 3e-4/3e-3
		mk("magnitude", 0, 0, 20, 0.98, [3]int{10000, 2500, 800}, 1.5),
		{Point: Point{Method: "spred", Lambda: 1e-2, Threshold: 3e-3}, Model: "lenet-300-100", Error: math.NaN(), NonZero: map[string]int{"fc1/W": 0, "fc2/W": 0, "fc3/W": 0},
			Layers: layers, Report: "dead.json"}, // every weight pruned, accuracy not measured
	}
}

func TestTableGolden(t *testing.T) {
	rs := handMade()
	Sort(rs)
	csvOut, md := Table(rs, Published["lenet-300-100"]...)
	for name, got := range map[string][]byte{"table.csv": csvOut, "table.md": md} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./sweep -run TestTableGolden -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s", name, got)
		}
	}
}

func TestParetoFront(t *testing.T) {
	var got []string
	for _, r := range ParetoFront(handMade()) {
		got = append(got, r.ID())
	}
	want := []string{"spred_lambda=1.5e-04_tau=3.0e-03", "magnitude_lambda=0.0e+00_tau=0.0e+00", "spred_lambda=3.0e-04_tau=3.0e-03"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("front %v, want %v", got, want)
	}
	if ParetoFront(nil) != nil {
		t.Fatal("front of nothing")
	}
	// Equal points are both kept; an infinite ratio dominates finite ones
	// at the same accuracy.
	a := Result{Point: Point{Method: "x"}, Ratio: f(5), Accuracy: f(0.9)}
	b := a
	inf := Result{Point: Point{Method: "y"}, Accuracy: f(0.9)}
	if n := len(ParetoFront([]Result{a, b})); n != 2 {
		t.Fatalf("equal points: %d on the front", n)
	}
	if fr := ParetoFront([]Result{a, inf}); len(fr) != 1 || fr[0].Method != "y" {
		t.Fatalf("infinite ratio: %+v", fr)
	}
}

func TestPlotPNG(t *testing.T) {
	var buf bytes.Buffer
	if err := Plot(handMade(), "LeNet-300-100: spred λ sweep", &buf); err != nil {
		t.Fatal(err)
	}
	if *update { // for a look
		os.WriteFile(filepath.Join(os.TempDir(), "sweep-plot-test.png"), buf.Bytes(), 0o644)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 500 {
		t.Fatalf("size %v, want 800×500", b)
	}
	colours := map[[3]uint32]bool{}
	nonWhite := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	if len(colours) < 20 || nonWhite < 2000 {
		t.Fatalf("the plot looks blank: %d colours, %d non-white pixels", len(colours), nonWhite)
	}
	// Nothing plottable, or a single point, still makes a picture.
	for _, rs := range [][]Result{nil, handMade()[:1]} {
		buf.Reset()
		if err := Plot(rs, "", &buf); err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(&buf); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v interface{}) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep := func(lambda, acc float64, nz ...int) *compress.Report {
		r := &compress.Report{Model: "lenet-300-100", WallSeconds: 12.5,
			Settings: compress.Settings{Lambda: lambda, Threshold: 3e-3, Epochs: 1}}
		r.Accuracy.Dense, r.Accuracy.Thresholded = f(0.99), f(acc)
		for i, n := range nz {
			name := []string{"fc1/W", "fc2/W", "fc3/W"}[i]
			r.Layers = append(r.Layers, compress.LayerStats{Name: name, Params: 1000, NonZero: n})
			r.Totals.PrunableParams += 1000
			r.Totals.PrunableNonZero += n
		}
		r.Totals.CompressionRatio = f(float64(r.Totals.PrunableParams) / float64(r.Totals.PrunableNonZero))
		return r
	}
	// Written in the opposite order to the sort.
	write(Point{Method: MethodSpred, Lambda: 2e-4, Threshold: 3e-3}.ID()+".json", rep(2e-4, 0.95, 100, 50, 10))
	write(Point{Method: MethodSpred, Lambda: 1e-4, Threshold: 3e-3}.ID()+".json", rep(1e-4, 0.97, 300, 100, 20))
	write("notes.json", map[string]interface{}{"model": "x", "comment": "not a report"})
	write("list.json", []int{1, 2, 3})
	os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("{"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.json"), 0o755)

	rs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(rs), rs)
	}
	a := rs[0]
	if a.Lambda != 1e-4 || a.Threshold != 3e-3 || a.Method != MethodSpred || a.Model != "lenet-300-100" ||
		*a.Ratio != 3000.0/420 || *a.Accuracy != 0.97 || math.Abs(a.Error-3) > 1e-9 || a.WallSeconds != 12.5 ||
		a.NonZero["fc2/W"] != 100 || !reflect.DeepEqual(a.Layers, []string{"fc1/W", "fc2/W", "fc3/W"}) ||
		a.Report != "spred_lambda=1.0e-04_tau=3.0e-03.json" {
		t.Fatalf("first result %+v", a)
	}
	if rs[1].Lambda != 2e-4 {
		t.Fatalf("not sorted: %v then %v", rs[0].Lambda, rs[1].Lambda)
	}

	// A "method" key overrides the method; broken JSON is an error.
	b, _ := json.Marshal(rep(0, 0.9, 10, 10, 10))
	var m map[string]interface{}
	json.Unmarshal(b, &m)
	m["method"] = "magnitude"
	write("mag.json", m)
	if rs, err := Load(dir); err != nil || len(rs) != 3 || rs[0].Method != "magnitude" {
		t.Fatalf("method override: %v %+v", err, rs)
	}
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"model": `), 0o644)
	if _, err := Load(dir); err == nil {
		t.Fatal("broken JSON was accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing folder was accepted")
	}
}

func TestTargetPoints(t *testing.T) {
	ps := TargetPoints("magnitude", []float64{0.95, 0.8, 0.9, 0.8})
	if len(ps) != 3 || ps[0].Target != 0.8 || ps[2].Target != 0.95 {
		t.Fatalf("%+v", ps)
	}
	if id := ps[1].ID(); id != "magnitude_lambda=0.0e+00_tau=0.0e+00_target=9.0e-01" {
		t.Errorf("ID %q", id)
	}
	if ps[0].ID() == ps[1].ID() {
		t.Error("distinct targets share an ID")
	}
	r := compress.Report{Settings: compress.Settings{Method: "magnitude", TargetSparsity: 0.9}}
	if got := FromReport(&r, "x.json"); got.Point != ps[1] {
		t.Errorf("FromReport point %+v, want %+v", got.Point, ps[1])
	}
	r = compress.Report{Settings: compress.Settings{Method: "spred", Lambda: 1e-4, Threshold: 3e-3}}
	if got := FromReport(&r, "x.json"); got.ID() != "spred_lambda=1.0e-04_tau=3.0e-03" {
		t.Errorf("spred ID %q", got.ID())
	}
}

// TestStructuredPointID: a structured, from-scratch or size-scaled point has an ID and a
// series of its own, and its report reads back as the same point.
func TestStructuredPointID(t *testing.T) {
	plain := Point{Method: MethodSpred, Lambda: 1e-4, Threshold: 3e-3}
	neuron := plain
	neuron.Structure = "neuron"
	scratch := plain
	scratch.FromScratch = true
	sized := plain
	sized.LayerScale = compress.LayerScaleSize
	layered := plain
	layered.LayerLambda = "fc2/W=0.7,fc3/W=0.2"
	sizedTau := sized
	sizedTau.LayerThreshold = true
	held := plain
	held.HoldNorms = true
	ids := map[string]bool{}
	for _, c := range []struct {
		p           Point
		id, series  string
		structure   string
		fromScratch bool
	}{
		{plain, "spred_lambda=1.0e-04_tau=3.0e-03", "spred", "", false},
		{neuron, "spred-neuron_lambda=1.0e-04_tau=3.0e-03", "spred-neuron", "neuron", false},
		{scratch, "spred-from-scratch_lambda=1.0e-04_tau=3.0e-03", "spred-from-scratch", "", true},
		{sized, "spred-size_lambda=1.0e-04_tau=3.0e-03", "spred-size", "", false},
		{layered, "spred_lambda=1.0e-04_tau=3.0e-03_layers=fc2-W=0.7+fc3-W=0.2", "spred", "", false},
		{sizedTau, "spred-size-layer-tau_lambda=1.0e-04_tau=3.0e-03", "spred-size-layer-tau", "", false},
		{held, "spred-hold-norms_lambda=1.0e-04_tau=3.0e-03", "spred-hold-norms", "", false},
	} {
		if got := c.p.ID(); got != c.id || c.p.Series() != c.series {
			t.Errorf("%+v: ID %q series %q, want %q %q", c.p, got, c.p.Series(), c.id, c.series)
		}
		ids[c.p.ID()] = true
		r := compress.Report{Settings: compress.Settings{Method: "spred", Lambda: 1e-4, Threshold: 3e-3, Structure: c.structure, FromScratch: c.fromScratch, LayerScale: c.p.LayerScale, LayerLambda: c.p.LayerLambda, LayerThreshold: c.p.LayerThreshold, HoldNorms: c.p.HoldNorms}}
		if got := FromReport(&r, "x.json"); got.Point != c.p {
			t.Errorf("FromReport point %+v, want %+v", got.Point, c.p)
		}
	}
	if len(ids) != 7 {
		t.Error("structured, from-scratch, size-scaled (τ too), held and element-wise points share an ID")
	}
}

// TestTableTargetColumn: a target-sparsity column appears only when a
// result has a target.
func TestTableTargetColumn(t *testing.T) {
	rs := []Result{{Point: Point{Method: "magnitude", Target: 0.9}, Error: 1.5, NonZero: map[string]int{}, Report: "m.json"}}
	csvOut, md := Table(rs)
	if !strings.HasPrefix(string(csvOut), "method,lambda,tau,target_sparsity,compression_ratio,test_error_pct,") ||
		!strings.Contains(string(csvOut), "magnitude,0,0,0.9,inf,1.5000,") {
		t.Errorf("csv:\n%s", csvOut)
	}
	if !strings.Contains(string(md), "| magnitude | 0 | 0 | 0.9 | ∞ | 1.50% |") {
		t.Errorf("markdown:\n%s", md)
	}
	csvOut, _ = Table(handMade())
	if strings.Contains(string(csvOut), "target") {
		t.Error("target column without targets")
	}
}
