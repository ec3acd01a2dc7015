package infer

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop/interoptest"
	"github.com/spred-go/spred/models"
)

// randomModel makes a model of spec with random weights, a fraction
// fracs[k % len(fracs)] of the k-th weight pruned, random biases and random non-trivial batch-norm
// parameters and running statistics (positive variances).
func randomModel(t testing.TB, spec models.Spec, fracs []float64, seed int64) *models.Model {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := spec.Params()
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, pi := range infos {
		roles[pi.Name] = pi.Role
	}
	weights := 0
	for _, p := range m.Params.All() {
		role := roles[p.Name]
		frac := fracs[weights%len(fracs)]
		if role == models.RoleWeight {
			weights++
		}
		v := p.Float64s()
		for i := range v {
			switch role {
			case models.RoleWeight:
				if rng.Float64() < frac {
					v[i] = 0
				}
			case models.RoleBias:
				v[i] = 0.3 * rng.NormFloat64()
			case models.RoleScale:
				v[i] = (0.5 + rng.Float64()) * float64(1-2*rng.Intn(2)) // both signs
			case models.RoleShift, models.RoleMean:
				v[i] = 0.5 * rng.NormFloat64()
			case models.RoleVar:
				v[i] = 0.2 + 2*rng.Float64()
			}
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func randomInput(spec models.Spec, n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, n*spec.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// forwardAll runs the n samples of x through e in batches of e.Batch()
// (the last one partial when n is not a multiple) and returns all logits.
func forwardAll(t testing.TB, e *Engine, x []float32, n int) []float32 {
	t.Helper()
	size := e.spec.InputSize()
	var out []float32
	for start := 0; start < n; start += e.batch {
		b := min(e.batch, n-start)
		y, err := e.Forward(x[start*size:(start+b)*size], b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, y...)
	}
	return out
}

// maxRelDiff is max |got − want| over max(1, max |want|).
func maxRelDiff(got []float32, want []float64) float64 {
	scale, diff := 1.0, 0.0
	for i, w := range want {
		scale = max(scale, math.Abs(w))
		diff = max(diff, math.Abs(float64(got[i])-w))
	}
	return diff / scale
}

// checkTorch runs m in PyTorch (float64) and in the engine with every
// choice of kernels, in batches of 4 with a partial last batch, and
// compares the logits.
func checkTorch(t *testing.T, name string, m *models.Model, n int) {
	t.Helper()
	x := randomInput(m.Spec, n, 99)
	x64 := make([]float64, len(x))
	for i, v := range x {
		x64[i] = float64(v)
	}
	want := interoptest.TorchForward(t, m, x64, n, false).Logits.Data
	if len(want) != n*m.Spec.Classes() {
		t.Fatalf("%s: PyTorch gave %d logits, want %d", name, len(want), n*m.Spec.Classes())
	}
	for _, k := range []Kernels{Dense, Sparse, Auto} {
		e, err := New(m, Options{Batch: 4, Kernels: k})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(forwardAll(t, e, x, n), want); d > 1e-4 || math.IsNaN(d) {
			t.Errorf("%s kernels %v: logits differ from PyTorch's by %.3g (relative)", name, k, d)
		}
	}
}

const ce = models.LossSoftmaxCrossEntropy

// everyKindSpec uses every layer kind: a stem with a folded batch norm,
// a residual block with a projection shortcut, padded max and average
// pooling, depthwise and grouped convolutions, a batch norm on the model
// input, an add of the model input to itself, global pooling, dense layers
// with and without bias.
func everyKindSpec() models.Spec {
	L := func(l models.Layer, inputs ...string) models.Layer { l.Inputs = inputs; return l }
	return models.Spec{Name: "every-kind", Input: []int{3, 9, 9}, Loss: ce, Layers: []models.Layer{
		L(models.Layer{Kind: models.BatchNorm2d, Name: "bn_in"}),
		L(models.Layer{Kind: models.Add, Name: "twice"}, "input", "input"),
		L(models.Layer{Kind: models.Add, Name: "sum_in"}, "twice", "bn_in"),
		{Kind: models.Conv2d, Name: "stem", Filters: 8, Kernel: 3, Padding: 1},
		{Kind: models.BatchNorm2d, Name: "stem_bn", Eps: 1e-3},
		{Kind: models.ReLU, Name: "stem_relu"},
		// residual block, projection shortcut
		{Kind: models.Conv2d, Name: "b.conv1", Filters: 12, Kernel: 3, Stride: 2, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "b.bn1"},
		{Kind: models.ReLU},
		{Kind: models.Conv2d, Name: "b.conv2", Filters: 12, Kernel: 3, Padding: 1, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "b.bn2"},
		L(models.Layer{Kind: models.Conv2d, Name: "b.short", Filters: 12, Kernel: 1, Stride: 2, NoBias: true}, "stem_relu"),
		{Kind: models.BatchNorm2d, Name: "b.short_bn"},
		L(models.Layer{Kind: models.Add, Name: "b.add"}, "b.bn2", "b.short_bn"),
		{Kind: models.ReLU, Name: "b.relu"},
		{Kind: models.ReLU6},
		{Kind: models.Clip, Min: ptr(-0.5), Max: ptr(0.8)},
		{Kind: models.MaxPool2d, Kernel: 2, Stride: 1, Dilation: 2, Pads: []int{1, 2, 1, 0}},
		{Kind: models.MaxPool2d, Kernel: 3, Stride: 1, Padding: 1},
		{Kind: models.AvgPool2d, Kernel: 2, Stride: 1, Padding: 1},
		{Kind: models.Conv2d, Name: "dw", Filters: 12, Kernel: 3, Padding: 1, Groups: 12},
		{Kind: models.LeakyReLU, Alpha: 0.1},
		{Kind: models.Conv2d, Name: "grouped", Filters: 8, Kernel: 2, Groups: 4, NoBias: true, Pads: []int{0, 1, 1, 0}},
		{Kind: models.Sigmoid},
		{Kind: models.AvgPool2d, Kernel: 2, CeilMode: true, ExcludePad: true, Pads: []int{1, 0, 0, 0}},
		{Kind: models.Clip, Max: ptr(0.9)},
		{Kind: models.MaxPool2d, Kernel: 2, Padding: 1},
		{Kind: models.GlobalAvgPool2d},
		{Kind: models.Flatten},
		{Kind: models.Dropout, Rate: 0.3},
		{Kind: models.Dense, Name: "fc1", Units: 16, NoBias: true},
		{Kind: models.ReLU},
		{Kind: models.Tanh},
		{Kind: models.Dense, Name: "fc2", Units: 5},
		{Kind: models.Softmax},
	}}
}

func ptr(v float64) *float64 { return &v }

// unfoldableSpec has a batch norm whose convolution is read by two layers
// (the batch norm and an add), which therefore runs as its own step, next
// to one that folds.
func unfoldableSpec() models.Spec {
	L := func(l models.Layer, inputs ...string) models.Layer { l.Inputs = inputs; return l }
	return models.Spec{Name: "unfoldable", Input: []int{2, 6, 6}, Loss: ce, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c", Filters: 4, Kernel: 3, Padding: 1},
		{Kind: models.BatchNorm2d, Name: "bn"},
		L(models.Layer{Kind: models.Add, Name: "sum"}, "c", "bn"),
		{Kind: models.Conv2d, Name: "c2", Filters: 4, Kernel: 3, NoBias: true},
		{Kind: models.BatchNorm2d, Name: "bn2"},
		{Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc", Units: 3},
	}}
}

func resnet8(t testing.TB, input []int) models.Spec {
	t.Helper()
	e, err := models.LookupEntry("resnet-8")
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.ForInput(input)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mixedPruning prunes every other weighted layer below the crossovers
// (Auto picks CSR there) and the others to half (Auto picks dense).
var mixedPruning = []float64{0.985, 0.5}

// TestEngineMatchesTorch compares the engine with PyTorch on specs that
// cover every layer kind, with every choice of kernels, on models where
// Auto mixes dense and CSR layers.
func TestEngineMatchesTorch(t *testing.T) {
	for _, spec := range []models.Spec{everyKindSpec(), unfoldableSpec(), resnet8(t, []int{1, 12, 12})} {
		m := randomModel(t, spec, mixedPruning, 7)
		e, err := New(m, Options{Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		count := map[bool]int{}
		for _, p := range e.Plan() {
			count[p.Sparse]++
		}
		if count[true] == 0 || count[false] == 0 {
			t.Errorf("%s: Auto makes %d layers CSR and %d dense; want both", spec.Name, count[true], count[false])
		}
		checkTorch(t, spec.Name, m, 7)
	}
}

// TestEveryKindRuns checks that the engine knows every layer kind of the
// models package and that everyKindSpec really uses them all.
func TestEveryKindRuns(t *testing.T) {
	used := map[string]bool{}
	for _, l := range everyKindSpec().Layers {
		used[l.Kind] = true
	}
	for _, k := range models.Kinds() {
		if _, ok := kinds[k]; !ok {
			t.Errorf("layer kind %q has no step in infer", k)
		}
		if !used[k] {
			t.Errorf("everyKindSpec does not use %q", k)
		}
	}
}

// TestBatchNormFolding checks which batch norms are folded (those that are
// the only reader of their convolution) and which relus fused (those that
// are the only reader of a convolution or of its folded batch norm), that
// folding keeps the densities and kernels, and that a folded engine
// computes what the unfolded one does.
func TestBatchNormFolding(t *testing.T) {
	for _, spec := range []models.Spec{unfoldableSpec(), resnet8(t, []int{1, 12, 12}), everyKindSpec()} {
		m := randomModel(t, spec, []float64{0.5}, 3)
		nodes, err := spec.Nodes()
		if err != nil {
			t.Fatal(err)
		}
		wantFold := map[string]string{}
		for _, n := range nodes {
			if n.Layer.Kind == models.BatchNorm2d && n.Inputs[0] >= 0 && len(nodes[n.Inputs[0]].Consumers) == 1 {
				wantFold[nodes[n.Inputs[0]].Layer.Name] = n.Layer.Name
			}
		}
		wantReLU := map[string]bool{}
		for _, n := range nodes {
			if n.Layer.Kind != models.Conv2d || len(n.Consumers) != 1 {
				continue
			}
			r := nodes[n.Consumers[0]]
			if wantFold[n.Layer.Name] != "" && len(r.Consumers) == 1 {
				r = nodes[r.Consumers[0]]
			}
			wantReLU[n.Layer.Name] = r.Layer.Kind == models.ReLU
		}
		x := randomInput(spec, 5, 4)
		for _, k := range []Kernels{Dense, Sparse} {
			folded, err := New(m, Options{Batch: 5, Kernels: k})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := New(m, Options{Batch: 5, Kernels: k, noFold: true})
			if err != nil {
				t.Fatal(err)
			}
			fp, pp := folded.Plan(), plain.Plan()
			if len(fp) != len(pp) {
				t.Fatalf("%s: plans of %d and %d layers", spec.Name, len(fp), len(pp))
			}
			for i, p := range fp {
				if p.BatchNorm != wantFold[p.Name] {
					t.Errorf("%s: %s has batch norm %q folded, want %q", spec.Name, p.Name, p.BatchNorm, wantFold[p.Name])
				}
				if p.Kind == models.Conv2d && p.ReLU != wantReLU[p.Name] {
					t.Errorf("%s: %s fuses its relu %v, want %v", spec.Name, p.Name, p.ReLU, wantReLU[p.Name])
				}
				if q := pp[i]; q.BatchNorm != "" || q.ReLU || q.Density != p.Density || q.Sparse != p.Sparse {
					t.Errorf("%s: folded plan %v, unfolded %v", spec.Name, p, q)
				}
			}
			if spec.Name == "unfoldable" && wantFold["c"] != "" {
				t.Errorf("unfoldable: c has two readers but its batch norm would fold")
			}
			a := append([]float32(nil), forwardAll(t, folded, x, 5)...)
			b := forwardAll(t, plain, x, 5)
			b64 := make([]float64, len(b))
			for i, v := range b {
				b64[i] = float64(v)
			}
			if d := maxRelDiff(a, b64); d > 1e-5 {
				t.Errorf("%s kernels %v: folded and unfolded logits differ by %.3g", spec.Name, k, d)
			}
		}
	}
}

// TestFoldDenseLayout checks foldBN for a dense layer's [in, units] weight
// (a batchnorm2d cannot read a dense layer today, as its output is flat).
func TestFoldDenseLayout(t *testing.T) {
	w := []float64{1, 2, 0, 4, 5, 6} // 2 inputs, 3 units
	s, sh := []float64{2, 3, 4}, []float64{1, 1, 1}
	fw, fb := foldBN(w, []float64{1, 0, -1}, s, sh, 3, func(i int) int { return i % 3 })
	wantW, wantB := []float64{2, 6, 0, 8, 15, 24}, []float64{3, 1, -3}
	for i := range wantW {
		if fw[i] != wantW[i] {
			t.Fatalf("weights %v, want %v", fw, wantW)
		}
	}
	for i := range wantB {
		if fb[i] != wantB[i] {
			t.Fatalf("bias %v, want %v", fb, wantB)
		}
	}
}

// TestBuffersByLiveness checks that activation memory does not grow with
// depth: a chain needs two buffers, ResNet-20 (at any batch) a handful,
// together at most a few times its largest layer output; and that the
// engine's results do not depend on the buffers reused (a second call
// gives the same logits).
func TestBuffersByLiveness(t *testing.T) {
	r20, err := models.LookupEntry("resnet-20")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec    models.Spec
		buffers int
	}{
		{lookup(t, "lenet-5"), 2},
		{lookup(t, "lenet-300-100"), 2},
		{r20.Spec, 3},
		{everyKindSpec(), 4},
	} {
		m := randomModel(t, c.spec, []float64{0}, 1)
		e, err := New(m, Options{Batch: 2})
		if err != nil {
			t.Fatal(err)
		}
		shapes, _ := c.spec.Shapes()
		largest, total := 0, 0
		for _, s := range shapes {
			largest = max(largest, numel(s))
			total += numel(s)
		}
		held := 0
		for _, b := range e.bufs {
			held += len(b) / 2
		}
		t.Logf("%s: %d buffers, %d values per sample (largest output %d, all outputs %d)", c.spec.Name, len(e.bufs), held, largest, total)
		if len(e.bufs) > c.buffers || held > c.buffers*largest {
			t.Errorf("%s: %d buffers of %d values per sample in all (largest output %d, all outputs %d), want at most %d buffers",
				c.spec.Name, len(e.bufs), held, largest, total, c.buffers)
		}
		x := randomInput(c.spec, 2, 8)
		a := append([]float32(nil), forwardAll(t, e, x, 2)...)
		b := forwardAll(t, e, x, 2)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: second call gives logit %d = %v, first %v", c.spec.Name, i, b[i], a[i])
			}
		}
	}
}

// TestPassThroughOnly: a model whose layers only rename the input still
// returns a buffer of the engine's, not the caller's x.
func TestPassThroughOnly(t *testing.T) {
	spec := models.Spec{Name: "flat", Input: []int{2, 2, 1}, Loss: ce, Layers: []models.Layer{{Kind: models.Flatten}, {Kind: models.Dropout, Rate: 0.1}}}
	m := randomModel(t, spec, []float64{0}, 1)
	e, err := New(m, Options{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	x := randomInput(spec, 3, 2)
	y, err := e.Forward(x, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if y[i] != x[i] {
			t.Fatalf("logit %d is %v, want %v", i, y[i], x[i])
		}
	}
	if &y[0] == &x[0] {
		t.Error("Forward returned the caller's input")
	}
}

// TestConvChunks checks that convolving a batch a few images at a time
// (to bound the column matrix) gives the logits of one product per batch.
func TestConvChunks(t *testing.T) {
	for _, spec := range []models.Spec{everyKindSpec(), resnet8(t, []int{2, 10, 10})} {
		m := randomModel(t, spec, []float64{0.9, 0}, 5)
		x := randomInput(spec, 7, 6)
		for _, k := range []Kernels{Dense, Sparse} {
			whole, err := New(m, Options{Batch: 7, Kernels: k})
			if err != nil {
				t.Fatal(err)
			}
			want := append([]float32(nil), forwardAll(t, whole, x, 7)...)
			saved := convScratch
			convScratch = 1 // one image per product
			chunked, err := New(m, Options{Batch: 7, Kernels: k})
			convScratch = saved
			if err != nil {
				t.Fatal(err)
			}
			chunks := 0
			for _, o := range chunked.ops {
				if c, ok := o.step.(*convStep); ok && c.chunk == 1 {
					chunks++
				}
			}
			if chunks == 0 {
				t.Fatalf("%s: no convolution is chunked", spec.Name)
			}
			got := forwardAll(t, chunked, x, 7)
			w64 := make([]float64, len(want))
			for i, v := range want {
				w64[i] = float64(v)
			}
			if d := maxRelDiff(got, w64); d > 1e-5 {
				t.Errorf("%s kernels %v: chunked convolutions change the logits by %.3g", spec.Name, k, d)
			}
		}
	}
}

// TestTrailingSoftmax: with a trailing softmax the engine returns the
// probabilities of the logits the same model without it returns, and
// Evaluate gives the same loss and accuracy.
func TestTrailingSoftmax(t *testing.T) {
	spec := unfoldableSpec()
	withSM := spec
	withSM.Layers = append(append([]models.Layer(nil), spec.Layers...), models.Layer{Kind: models.Softmax})
	m := randomModel(t, spec, []float64{0}, 3)
	const n = 9
	x := randomInput(spec, n, 4)
	y := make([]int, n)
	for i := range y {
		y[i] = i % 3
	}
	plain, err := New(m, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := New(&models.Model{Spec: withSM, Params: m.Params}, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	logits := append([]float32(nil), forwardAll(t, plain, x, n)...)
	probs := forwardAll(t, sm, x, n)
	for r := 0; r < n; r++ {
		row := logits[r*3 : (r+1)*3]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		for j, v := range row {
			want := math.Exp(float64(v)-mx) / sum
			if d := math.Abs(float64(probs[r*3+j]) - want); d > 1e-6 {
				t.Fatalf("sample %d class %d: probability %v, want %v", r, j, probs[r*3+j], want)
			}
		}
	}
	a, err := plain.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sm.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.Loss-b.Loss) > 1e-5*math.Max(1, a.Loss) || a.Accuracy != b.Accuracy {
		t.Errorf("Evaluate with a trailing softmax %+v, without %+v", b, a)
	}
}
