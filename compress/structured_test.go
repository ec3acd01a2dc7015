package compress

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

func structSpec() models.Spec {
	return models.Spec{
		Name:  "small-lenet",
		Input: []int{1, 10, 10},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 3}, {Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc1", Units: 6}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

func noiseData(n int, shape []int, classes int, seed int64) *dataset.Dataset {
	rng := rand.New(rand.NewSource(seed))
	d := &dataset.Dataset{Shape: shape, Classes: classes}
	size := 1
	for _, s := range shape {
		size *= s
	}
	for i := 0; i < n*size; i++ {
		d.X = append(d.X, float32(rng.NormFloat64()))
	}
	for i := 0; i < n; i++ {
		d.Y = append(d.Y, i%classes)
	}
	return d
}

func predict(t *testing.T, m *models.Model, src interface{}, d *dataset.Dataset) []float64 {
	t.Helper()
	var ws graph.WeightSource
	if s, ok := src.(graph.WeightSource); ok {
		ws = s
	}
	e := train.NewEvaluator(m, ws, 0)
	defer e.Close()
	out, err := e.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The balanced split computes the same function, through the graph, for
// every structure; g and V are balanced and their product is w.
func TestSplitGroupsSameFunction(t *testing.T) {
	d := noiseData(7, []int{1, 10, 10}, 3, 2)
	for _, st := range []string{StructureNeuron, StructureFilter, StructureMixed} {
		m, err := models.New(structSpec(), tensor.Float64, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		gs, err := SplitGroups(m, st)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{
			StructureNeuron: {"fc1/W", "fc2/W"},
			StructureFilter: {"conv1/W"},
			StructureMixed:  {"conv1/W", "fc1/W", "fc2/W"},
		}[st]
		var got []string
		for _, gp := range gs.Grouped() {
			got = append(got, gp.Name)
			g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
			for j := range g {
				s := 0.0
				gp.each(len(v), j, func(i int) { s += v[i] * v[i] })
				if math.Abs(g[j]*g[j]-s) > 1e-12 {
					t.Errorf("%s %s unit %d: g² = %v, ‖V‖² = %v", st, gp.Name, j, g[j]*g[j], s)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s groups %v, want %v", st, got, want)
		}
		if n := len(gs.Elementwise().Pairs()) + len(got); n != 3 {
			t.Errorf("%s: %d factorised weights, want 3", st, n)
		}
		a, b := predict(t, m, nil, d), predict(t, m, gs, d)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(a[i])) {
				t.Fatalf("%s: output %d is %v through the factors, %v dense", st, i, b[i], a[i])
			}
		}
		c := &models.Model{Spec: m.Spec, Params: m.Params.Clone()}
		if err := gs.Collapse(c); err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params.Prunable() {
			x, y := p.Float64s(), c.Params.Get(p.Name).Float64s()
			for i := range x {
				if math.Abs(x[i]-y[i]) > 1e-14 {
					t.Fatalf("%s: collapsed %s[%d] = %v, was %v", st, p.Name, i, y[i], x[i])
				}
			}
		}
	}
	m, _ := models.New(linearSpec(), tensor.Float32, rand.New(rand.NewSource(1)))
	if _, err := SplitGroups(m, StructureFilter); err == nil {
		t.Error("structure filter on a model without conv layers: no error")
	}
	if _, err := SplitGroups(m, StructureElement); err == nil {
		t.Error("SplitGroups(element): no error")
	}
}

// The decay λ on g and on every entry of V is λ‖w_unit‖₂ at balance (the
// factor is 1), and larger away from it.
func TestGroupPenaltyFactor(t *testing.T) {
	m, err := models.New(structSpec(), tensor.Float64, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := SplitGroups(m, StructureNeuron) // fc1, fc2 grouped; conv1 element-wise
	if err != nil {
		t.Fatal(err)
	}
	const lambda = 0.37
	want := 0.0
	for _, x := range m.Params.Get("conv1/W").Float64s() {
		want += math.Abs(x)
	}
	for _, name := range []string{"fc1/W", "fc2/W"} {
		p := m.Params.Get(name)
		w, units := p.Float64s(), p.Shape()[1]
		for j := 0; j < units; j++ {
			s := 0.0
			for i := j; i < len(w); i += units {
				s += w[i] * w[i]
			}
			want += math.Sqrt(s)
		}
	}
	want *= lambda
	if got := gs.Penalty(lambda); math.Abs(got-want) > 1e-12*want {
		t.Fatalf("penalty at balance %v, want λ(Σ‖w_unit‖₂ + ‖w_conv‖₁) = %v", got, want)
	}
	// Rescaling one unit (g·s, V/s) keeps w and raises the penalty.
	gp := gs.Grouped()[0]
	g, v := models.Float64s(gp.G.Data()), models.Float64s(gp.V.Data())
	const s = 1.3
	g[2] *= s
	gp.each(len(v), 2, func(i int) { v[i] /= s })
	setData(gp.G, g)
	setData(gp.V, v)
	norm := gs.GroupNorms()["fc1/W"][2]
	gsq := g[2] * g[2]
	extra := lambda / 2 * (gsq + norm*norm/gsq - 2*norm)
	if got := gs.Penalty(lambda); math.Abs(got-(want+extra)) > 1e-12*want || extra <= 0 {
		t.Errorf("penalty off balance %v, want %v + %v", got, want, extra)
	}
}

// softmaxGrad is the gradient of the mean softmax cross-entropy of X·W + b
// with respect to W ([p, k] row-major) and b.
func softmaxGrad(x [][]float64, y []int, k int, w, b []float64) (gw, gb []float64) {
	n, p := len(x), len(x[0])
	gw, gb = make([]float64, p*k), make([]float64, k)
	for i := range x {
		logits := append([]float64(nil), b...)
		for j := 0; j < p; j++ {
			for c := 0; c < k; c++ {
				logits[c] += x[i][j] * w[j*k+c]
			}
		}
		mx := math.Inf(-1)
		for _, v := range logits {
			mx = math.Max(mx, v)
		}
		sum := 0.0
		for c := range logits {
			logits[c] = math.Exp(logits[c] - mx)
			sum += logits[c]
		}
		for c := range logits {
			r := logits[c] / sum
			if c == y[i] {
				r--
			}
			gb[c] += r / float64(n)
			for j := 0; j < p; j++ {
				gw[j*k+c] += x[i][j] * r / float64(n)
			}
		}
	}
	return gw, gb
}

// groupLassoReference minimises the mean softmax cross-entropy of X·W + b
// plus λ Σ_k ‖W[:, k]‖₂ (b not penalised) by accelerated proximal gradient
// (FISTA with restarts) with the step 1/L, L = ‖[X 1]‖₂²/(2n) bounding the
// curvature. W is [p, K] row-major.
func groupLassoReference(x [][]float64, y []int, k int, lambda float64) (w, b []float64, iters int) {
	n, p := len(x), len(x[0])
	// ‖[X 1]‖₂² by power iteration on [X 1]ᵀ[X 1].
	z := make([]float64, p+1)
	for i := range z {
		z[i] = 1
	}
	var sigma float64
	for it := 0; it < 500; it++ {
		az := make([]float64, n)
		for i := range x {
			az[i] = z[p]
			for j := 0; j < p; j++ {
				az[i] += x[i][j] * z[j]
			}
		}
		next := make([]float64, p+1)
		for i := range x {
			for j := 0; j < p; j++ {
				next[j] += x[i][j] * az[i]
			}
			next[p] += az[i]
		}
		norm := 0.0
		for _, v := range next {
			norm += v * v
		}
		norm = math.Sqrt(norm)
		sigma = norm
		for i := range z {
			z[i] = next[i] / norm
		}
	}
	step := 2 * float64(n) / (sigma * 1.01)
	grad := func(w, b []float64) ([]float64, []float64) { return softmaxGrad(x, y, k, w, b) }
	w, b = make([]float64, p*k), make([]float64, k)
	yw, yb := append([]float64(nil), w...), append([]float64(nil), b...)
	tk := 1.0
	for it := 0; it < 100000; it++ {
		gw, gb := grad(yw, yb)
		nw, nb := make([]float64, p*k), make([]float64, k)
		for c := 0; c < k; c++ {
			nb[c] = yb[c] - step*gb[c]
			s := 0.0
			for j := 0; j < p; j++ {
				nw[j*k+c] = yw[j*k+c] - step*gw[j*k+c]
				s += nw[j*k+c] * nw[j*k+c]
			}
			shrink := 0.0 // the prox of step·λ‖·‖₂: group soft-thresholding
			if s = math.Sqrt(s); s > step*lambda {
				shrink = 1 - step*lambda/s
			}
			for j := 0; j < p; j++ {
				nw[j*k+c] *= shrink
			}
		}
		// Restart the momentum when it points uphill (O'Donoghue and Candès).
		up, change := 0.0, 0.0
		for i := range nw {
			up += (yw[i] - nw[i]) * (nw[i] - w[i])
			change = math.Max(change, math.Abs(nw[i]-w[i]))
		}
		for i := range nb {
			up += (yb[i] - nb[i]) * (nb[i] - b[i])
			change = math.Max(change, math.Abs(nb[i]-b[i]))
		}
		if up > 0 {
			tk = 1
		}
		tn := (1 + math.Sqrt(1+4*tk*tk)) / 2
		for i := range nw {
			yw[i] = nw[i] + (tk-1)/tn*(nw[i]-w[i])
		}
		for i := range nb {
			yb[i] = nb[i] + (tk-1)/tn*(nb[i]-b[i])
		}
		w, b, tk = nw, nb, tn
		if change < 1e-14 && it > 100 {
			iters = it + 1
			break
		}
	}
	return w, b, iters
}

// On a linear multi-output problem (a single dense layer under the softmax
// cross-entropy), --structure neuron reaches the group-lasso solution of
// a reference proximal-gradient solver to 1e-6, zero groups included.
func TestGroupLassoMatchesReference(t *testing.T) {
	const n, p, k = 60, 5, 4
	rng := rand.New(rand.NewSource(5))
	d := &dataset.Dataset{Shape: []int{p}, Classes: k}
	x := make([][]float64, n)
	for i := range x {
		x[i] = make([]float64, p)
		c := rng.Intn(k)
		for j := range x[i] {
			v := float32(rng.NormFloat64())
			if j == c && c < 2 { // classes 0 and 1 are visible in features 0 and 1; 2 and 3 are noise
				v += 1.5
			}
			x[i][j] = float64(v)
			d.X = append(d.X, v)
		}
		d.Y = append(d.Y, c)
	}
	const lambda = 0.15
	t0 := time.Now()
	refW, refB, iters := groupLassoReference(x, d.Y, k, lambda)
	if iters == 0 {
		t.Fatal("the reference solver did not converge")
	}
	t.Logf("reference: %d iterations, %v", iters, time.Since(t0))
	// The reference must satisfy the optimality conditions: ∇_b = 0;
	// ∇_c + λ w_c/‖w_c‖ = 0 for a non-zero group c, ‖∇_c‖ ≤ λ for a zero one.
	gw, gb := softmaxGrad(x, d.Y, k, refW, refB)
	kkt := 0.0
	for _, v := range gb {
		kkt = math.Max(kkt, math.Abs(v))
	}
	zero, live := 0, 0
	for c := 0; c < k; c++ {
		s, gs := 0.0, 0.0
		for j := 0; j < p; j++ {
			s += refW[j*k+c] * refW[j*k+c]
			gs += gw[j*k+c] * gw[j*k+c]
		}
		if s == 0 {
			zero++
			if math.Sqrt(gs) > lambda {
				t.Errorf("reference: zero group %d has ‖∇‖ = %v > λ", c, math.Sqrt(gs))
			}
			continue
		}
		live++
		for j := 0; j < p; j++ {
			kkt = math.Max(kkt, math.Abs(gw[j*k+c]+lambda*refW[j*k+c]/math.Sqrt(s)))
		}
	}
	if kkt > 1e-10 {
		t.Errorf("the reference solution violates the optimality conditions by %g", kkt)
	}
	if zero == 0 || live == 0 {
		t.Fatalf("the reference solution has %d zero and %d non-zero groups: the check needs both", zero, live)
	}

	spec := models.Spec{Name: "linear", Input: []int{p}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: k}}}
	m, err := models.New(spec, tensor.Float64, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Structure: StructureNeuron, Lambda: lambda, Threshold: 1e-9, Epochs: 6000, Batch: n,
		LR: 0.5, Momentum: 0.9, Seed: 1, Dtype: tensor.Float64}
	rep, err := Run(context.Background(), m, Data{Train: d}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, b := m.Params.Get("fc/W").Float64s(), m.Params.Get("fc/b").Float64s()
	maxErr := 0.0
	for i := range w {
		if (w[i] == 0) != (refW[i] == 0) {
			t.Errorf("W[%d]: spred %v, reference %v: different zero groups", i, w[i], refW[i])
		}
		maxErr = math.Max(maxErr, math.Abs(w[i]-refW[i]))
	}
	for i := range b {
		maxErr = math.Max(maxErr, math.Abs(b[i]-refB[i]))
	}
	t.Logf("%d zero groups; max |spred − reference| = %.2g", zero, maxErr)
	if maxErr > 1e-6 {
		t.Errorf("max |spred − reference| = %g over W and b, want ≤ 1e-6", maxErr)
	}
	if rep.Thin == nil || rep.Thin.Layers[0].UnitsAfter != k {
		t.Errorf("the output layer keeps its %d units: %+v", k, rep.Thin)
	}
}

func TestRunStructured(t *testing.T) {
	spec := models.Spec{Name: "mlp", Input: []int{20}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 16}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 3},
		}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	data := Data{Train: sparseTask(600, 1), Test: sparseTask(300, 2)}
	if _, err := train.Fit(context.Background(), m, data, train.Config{Epochs: 3, Batch: 30, LR: 0.05, Momentum: 0.9, Seed: 1}, nil, train.Hooks{}, nil); err != nil {
		t.Fatal(err)
	}
	orig := &models.Model{Spec: m.Spec, Params: m.Params.Clone()}
	cfg := Config{Structure: StructureNeuron, Lambda: 0.05, Threshold: 1e-3, EpochThreshold: true, Epochs: 6, Batch: 30,
		LR: 0.3, Momentum: 0.9, FinetuneEpochs: 1, Seed: 1}
	var recs []Stats
	rep, err := Run(context.Background(), m, data, cfg, recorderFunc(func(s *Stats) { recs = append(recs, *s) }))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Thin == nil || len(rep.Thin.Layers) != 2 {
		t.Fatalf("no thinning report: %+v", rep.Thin)
	}
	kept := rep.Thin.Layers[0].UnitsAfter
	if kept >= 16 || kept < 1 || m.Spec.Layers[0].Units != kept {
		t.Errorf("fc1 keeps %d of 16 units (spec says %d): the group lasso removed nothing", kept, m.Spec.Layers[0].Units)
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if rep.Thin.FLOPsAfter >= rep.Thin.FLOPsBefore || rep.Thin.FLOPsBefore != 20*16+16*3 {
		t.Errorf("FLOPs %d → %d", rep.Thin.FLOPsBefore, rep.Thin.FLOPsAfter)
	}
	// Thinning keeps the function: the same accuracy and loss.
	if rep.Accuracy.Thinned == nil || *rep.Accuracy.Thinned != *rep.Accuracy.Thresholded || math.Abs(*rep.Loss.Thinned-*rep.Loss.Thresholded) > 1e-5 {
		t.Errorf("accuracy %v / loss %v after thinning, %v / %v before", rep.Accuracy.Thinned, rep.Loss.Thinned, rep.Accuracy.Thresholded, rep.Loss.Thresholded)
	}
	if a := rep.Accuracy.Finetuned; a == nil || *a < 0.9 {
		t.Errorf("fine-tuned accuracy %v", a)
	}
	// Counts are against the original shapes.
	if rep.Layers[0].Params != 20*16 || rep.Layers[0].NonZero != m.Params.Get("fc1/W").NonZero() || rep.Totals.AllParams != 20*16+16+16*3+3 {
		t.Errorf("counts %+v %+v", rep.Layers, rep.Totals)
	}
	if len(recs) != 7 || recs[0].Phase != PhaseSpred || recs[6].Phase != PhaseFinetune {
		t.Errorf("recorded %d epochs", len(recs))
	}
	if rep.Settings.Structure != StructureNeuron {
		t.Errorf("settings structure %q", rep.Settings.Structure)
	}
	var txt, md strings.Builder
	if err := rep.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{txt.String(), md.String()} {
		if !strings.Contains(s, "thinned to 20-") || !strings.Contains(s, "FLOPs per example") {
			t.Errorf("report lacks the thinning section:\n%s", s)
		}
	}
	// Same seed, same model.
	again := &models.Model{Spec: orig.Spec, Params: orig.Params.Clone()}
	if _, err := Run(context.Background(), again, data, cfg, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		a, b := p.Float64s(), again.Params.Get(p.Name).Float64s()
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("second run differs at %s[%d]", p.Name, i)
			}
		}
	}
	sp, err := MeasureSpeed(orig, m, []int{1, 10}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp) != 2 || sp[0].Batch != 1 || sp[1].Batch != 10 || sp[0].Runs < 3 || !(sp[0].DenseSeconds > 0 && sp[0].ThinSeconds > 0 && sp[0].Speedup > 0) {
		t.Errorf("speed %+v", sp)
	}
}

func TestStructuredConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Structure: "rows"},
		{Structure: StructureNeuron, Method: MethodMagnitude, TargetSparsity: 0.5},
		{Structure: StructureFilter, FromScratch: true},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (Config{Structure: StructureElement, Lambda: 0.01}).Validate(); err != nil {
		t.Error(err)
	}
	m := trainedLinear(t)
	// Structured runs resume, but not from a checkpoint of nothing.
	_, err := Run(context.Background(), m, Data{Train: sparseTask(60, 1)}, Config{Structure: StructureNeuron, Lambda: 0.01, Resume: &Checkpoint{}}, nil)
	if !errors.Is(err, ErrCheckpoint) {
		t.Errorf("structured run resumed from an empty checkpoint: %v", err)
	}
	_, err = Run(context.Background(), m, Data{Train: sparseTask(60, 1)}, Config{Structure: StructureFilter, Lambda: 0.01, Epochs: 1, Batch: 30}, nil)
	if err == nil || !strings.Contains(err.Error(), "groups no layer") {
		t.Errorf("structure filter on a model without conv layers: %v", err)
	}
}

// BenchmarkForwardThinned times the forward pass of model files against a
// dense one with MeasureSpeed (alternating the two, medians) and logs a
// Markdown table:
//
//	SPRED_SPEED_DENSE=dense.safetensors SPRED_SPEED_THIN=a.safetensors,b.safetensors \
//	    go test ./compress -run '^$' -bench ForwardThinned -benchtime 1x -v
func BenchmarkForwardThinned(b *testing.B) {
	densePath, thin := os.Getenv("SPRED_SPEED_DENSE"), os.Getenv("SPRED_SPEED_THIN")
	if densePath == "" || thin == "" {
		b.Skip("set SPRED_SPEED_DENSE and SPRED_SPEED_THIN")
	}
	dense, err := models.ReadFile(densePath)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		out := "\n| model | widths | FLOPs | batch | dense | thinned | speed-up |\n|---|---|---:|---:|---:|---:|---:|\n"
		for _, path := range strings.Split(thin, ",") {
			m, err := models.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			_, rep, err := models.Thin(m) // already thin: only for its widths
			if err != nil {
				b.Fatal(err)
			}
			sp, err := MeasureSpeed(dense, m, []int{1, 100}, 5*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range sp {
				out += fmt.Sprintf("| %s | %s | %d | %d | %s | %s | %.2f× |\n", filepath.Base(path), widths(rep), rep.FLOPsAfter, s.Batch,
					fmtSeconds(s.DenseSeconds), fmtSeconds(s.ThinSeconds), s.Speedup)
			}
		}
		b.Log(out)
	}
}

// The gradients of the loss with respect to g and V, through Gorgonia's
// broadcast product, match central finite differences for dense and conv
// groups.
func TestGroupGradients(t *testing.T) {
	m, err := models.New(structSpec(), tensor.Float64, rand.New(rand.NewSource(4)))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := SplitGroups(m, StructureMixed)
	if err != nil {
		t.Fatal(err)
	}
	d := noiseData(5, []int{1, 10, 10}, 3, 6)
	sess, err := graph.New(m, graph.Options{Batch: 5, Source: gs, Train: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	checked := checkGradients(t, sess, d.X, d.Y, factors, ends)["factor"]
	if checked != 6*3 {
		t.Errorf("checked %d entries, want 18 (g and V of 3 weights)", checked)
	}
}

// checkGradients compares the gradients sess computes on (x, y) with
// central finite differences of its loss, at the entries at(n) of every
// learnable of n values that kind names (kind "" skips it), and returns
// how many entries it checked per kind. sess must be float64.
func checkGradients(t *testing.T, sess *graph.Session, x []float32, y []int, kind func(name string) string, at func(n int) []int) map[string]int {
	t.Helper()
	loss := func() float64 {
		l, err := sess.Run(x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	loss()
	grads := map[string][]float64{}
	for _, l := range sess.Learnables() {
		g, err := sess.Grad(l)
		if err != nil {
			t.Fatal(err)
		}
		grads[l.Name] = append([]float64(nil), models.Float64s(g.Data())...)
	}
	checked := map[string]int{}
	for _, l := range sess.Learnables() {
		k := kind(l.Name)
		if k == "" {
			continue
		}
		vals := l.Value.Data().([]float64)
		for _, i := range at(len(vals)) {
			const h = 1e-6
			v := vals[i]
			vals[i] = v + h
			up := loss()
			vals[i] = v - h
			down := loss()
			vals[i] = v
			fd := (up - down) / (2 * h)
			if got := grads[l.Name][i]; math.Abs(got-fd) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("%s[%d]: gradient %v, finite difference %v", l.Name, i, got, fd)
			}
			checked[k]++
		}
	}
	return checked
}

// ends is three entries of n: the first, the middle and the last.
func ends(n int) []int { return []int{0, n / 2, n - 1} }

// every is all n entries.
func every(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

// factors names the g and V learnables of a structured split "factor",
// and nothing else.
func factors(name string) string {
	if strings.HasSuffix(name, ".g") || strings.HasSuffix(name, ".V") {
		return "factor"
	}
	return ""
}
