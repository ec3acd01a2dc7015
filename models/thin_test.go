package models_test

import (
	"bytes"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/spred-go/spred/models"
	"gorgonia.org/tensor"
)

// forward runs spec on one flat input sample in float64, straight from the
// definitions of the layers (dropout is the identity at inference).
func forward(t testing.TB, m *models.Model, x []float64) []float64 {
	t.Helper()
	shape := append([]int(nil), m.Spec.Input...)
	for _, l := range m.Spec.Layers {
		switch l.Kind {
		case models.Dense:
			w, b := m.Params.Get(models.WeightName(l.Name)).Float64s(), m.Params.Get(models.BiasName(l.Name)).Float64s()
			y := append([]float64(nil), b...)
			for i, xi := range x {
				for j := range y {
					y[j] += xi * w[i*l.Units+j]
				}
			}
			x, shape = y, []int{l.Units}
		case models.Conv2d:
			w, b := m.Params.Get(models.WeightName(l.Name)).Float64s(), m.Params.Get(models.BiasName(l.Name)).Float64s()
			c, h, wd := shape[0], shape[1], shape[2]
			k, s, p := l.Kernel, l.StrideOrDefault(), l.Padding
			oh, ow := (h+2*p-k)/s+1, (wd+2*p-k)/s+1
			y := make([]float64, l.Filters*oh*ow)
			for f := 0; f < l.Filters; f++ {
				for r := 0; r < oh; r++ {
					for q := 0; q < ow; q++ {
						v := b[f]
						for ch := 0; ch < c; ch++ {
							for a := 0; a < k; a++ {
								for e := 0; e < k; e++ {
									ir, iq := r*s+a-p, q*s+e-p
									if ir < 0 || iq < 0 || ir >= h || iq >= wd {
										continue
									}
									v += w[((f*c+ch)*k+a)*k+e] * x[(ch*h+ir)*wd+iq]
								}
							}
						}
						y[(f*oh+r)*ow+q] = v
					}
				}
			}
			x, shape = y, []int{l.Filters, oh, ow}
		case models.MaxPool2d:
			c, h, wd := shape[0], shape[1], shape[2]
			k, s := l.Kernel, l.StrideOrDefault()
			oh, ow := (h-k)/s+1, (wd-k)/s+1
			y := make([]float64, c*oh*ow)
			for ch := 0; ch < c; ch++ {
				for r := 0; r < oh; r++ {
					for q := 0; q < ow; q++ {
						v := math.Inf(-1)
						for a := 0; a < k; a++ {
							for e := 0; e < k; e++ {
								v = math.Max(v, x[(ch*h+r*s+a)*wd+q*s+e])
							}
						}
						y[(ch*oh+r)*ow+q] = v
					}
				}
			}
			x, shape = y, []int{c, oh, ow}
		case models.ReLU:
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = math.Max(v, 0)
			}
			x = y
		case models.Clip:
			lo, hi := l.ClipBounds()
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = math.Min(math.Max(v, lo), hi)
			}
			x = y
		case models.Flatten:
			shape = []int{len(x)}
		case models.Dropout:
		default:
			t.Fatalf("forward: layer kind %q", l.Kind)
		}
	}
	return x
}

func thinMLPSpec() models.Spec {
	return models.Spec{
		Name:  "mlp",
		Input: []int{12},
		Layers: []models.Layer{
			{Kind: models.Dense, Name: "fc1", Units: 10}, {Kind: models.ReLU}, {Kind: models.Dropout, Rate: 0.5},
			{Kind: models.Dense, Name: "fc2", Units: 8}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc3", Units: 4},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// thinConvSpec is LeNet-5-like: conv, pool, conv, pool, flatten, dense,
// dense. pad sets the padding of the second conv layer.
func thinConvSpec(pad int) models.Spec {
	return models.Spec{
		Name:  "lenet-like",
		Input: []int{1, 14, 14},
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 6, Kernel: 3},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Conv2d, Name: "conv2", Filters: 8, Kernel: 3, Padding: pad}, {Kind: models.ReLU},
			{Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten},
			{Kind: models.Dense, Name: "fc1", Units: 10}, {Kind: models.ReLU},
			{Kind: models.Dense, Name: "fc2", Units: 4},
		},
		Loss: models.LossSoftmaxCrossEntropy,
	}
}

// randomModel makes a float32 model of spec with random weights and biases
// of both signs.
func randomModel(t testing.TB, spec models.Spec, seed int64) *models.Model {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params.All() {
		if p.Prunable {
			continue
		}
		v := make([]float64, p.Len())
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		if err := p.SetFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// killIn zeroes the incoming weights of the given units of layer name.
func killIn(t testing.TB, m *models.Model, name string, units ...int) {
	t.Helper()
	p := m.Params.Get(models.WeightName(name))
	w, sh := p.Float64s(), p.Shape()
	for _, j := range units {
		if len(sh) == 2 { // dense [in, out]
			for i := 0; i < sh[0]; i++ {
				w[i*sh[1]+j] = 0
			}
		} else { // conv [out, in, k, k]
			n := sh[1] * sh[2] * sh[3]
			for i := j * n; i < (j+1)*n; i++ {
				w[i] = 0
			}
		}
	}
	if err := p.SetFloat64s(w); err != nil {
		t.Fatal(err)
	}
}

// killInputs zeroes the weights of layer name that read inputs [from, to)
// (input features of a dense layer, channels of a conv layer), for every
// unit, or for the given units only.
func killInputs(t testing.TB, m *models.Model, name string, from, to int, units ...int) {
	t.Helper()
	p := m.Params.Get(models.WeightName(name))
	w, sh := p.Float64s(), p.Shape()
	all := len(units) == 0
	has := func(j int) bool {
		for _, u := range units {
			if u == j {
				return true
			}
		}
		return all
	}
	for i := from; i < to; i++ {
		if len(sh) == 2 {
			for j := 0; j < sh[1]; j++ {
				if has(j) {
					w[i*sh[1]+j] = 0
				}
			}
		} else {
			k2 := sh[2] * sh[3]
			for j := 0; j < sh[0]; j++ {
				if has(j) {
					for e := 0; e < k2; e++ {
						w[(j*sh[1]+i)*k2+e] = 0
					}
				}
			}
		}
	}
	if err := p.SetFloat64s(w); err != nil {
		t.Fatal(err)
	}
}

// sameFunction checks that a and b give the same outputs, to float32
// rounding, on random inputs.
func sameFunction(t testing.TB, a, b *models.Model, seed int64) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	for n := 0; n < 20; n++ {
		x := make([]float64, a.Spec.InputSize())
		for i := range x {
			x[i] = float64(float32(rng.NormFloat64()))
		}
		ya, yb := forward(t, a, x), forward(t, b, x)
		if len(ya) != len(yb) {
			t.Fatalf("outputs of %d and %d values", len(ya), len(yb))
		}
		for i := range ya {
			if d := math.Abs(ya[i] - yb[i]); d > 1e-5*(1+math.Abs(ya[i])) {
				t.Fatalf("input %d, output %d: %v before thinning, %v after (difference %g)", n, i, ya[i], yb[i], d)
			}
		}
	}
}

func units(rep *models.ThinReport) map[string][4]int {
	out := map[string][4]int{}
	for _, l := range rep.Layers {
		out[l.Name] = [4]int{l.UnitsBefore, l.UnitsAfter, l.InputsBefore, l.InputsAfter}
	}
	return out
}

func checkUnits(t testing.TB, rep *models.ThinReport, want map[string][4]int) {
	t.Helper()
	got := units(rep)
	if len(got) != len(want) {
		t.Fatalf("report layers %v, want %v", got, want)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("layer %s: units before/after, inputs before/after %v, want %v", name, got[name], w)
		}
	}
}

func encodeModel(t testing.TB, m *models.Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := models.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func thinChecked(t testing.TB, m *models.Model) (*models.Model, *models.ThinReport) {
	t.Helper()
	before := encodeModel(t, m)
	th, rep, err := models.Thin(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, encodeModel(t, m)) {
		t.Fatal("Thin modified its input model")
	}
	if err := th.Check(); err != nil {
		t.Fatal(err)
	}
	if f, err := models.FLOPs(th.Spec); err != nil || f != rep.FLOPsAfter {
		t.Errorf("FLOPsAfter %d, FLOPs of the thinned spec %d (%v)", rep.FLOPsAfter, f, err)
	}
	if f, err := models.FLOPs(m.Spec); err != nil || f != rep.FLOPsBefore {
		t.Errorf("FLOPsBefore %d, FLOPs of the spec %d (%v)", rep.FLOPsBefore, f, err)
	}
	return th, rep
}

func TestThinMLP(t *testing.T) {
	m := randomModel(t, thinMLPSpec(), 1)
	killIn(t, m, "fc1", 1, 4, 7)                // dead: constants relu(b) folded into fc2
	killInputs(t, m, "fc2", 2, 3)               // fc1 unit 2 is read by nobody
	killIn(t, m, "fc2", 3)                      // dead
	killInputs(t, m, "fc2", 0, 10, 5)           // fc2 unit 5 reads only ...
	restore := randomModel(t, thinMLPSpec(), 2) // ... fc1 units 1 and 4, which die
	w5 := restore.Params.Get("fc2/W").Float64s()
	p := m.Params.Get("fc2/W")
	w := p.Float64s()
	w[1*8+5], w[4*8+5] = w5[1*8+5], w5[4*8+5]
	if err := p.SetFloat64s(w); err != nil {
		t.Fatal(err)
	}
	th, rep := thinChecked(t, m)
	checkUnits(t, rep, map[string][4]int{
		"fc1": {10, 6, 12, 12},
		"fc2": {8, 6, 10, 6},
		"fc3": {4, 4, 8, 6},
	})
	if want := int64(12*6 + 6*6 + 6*4); rep.FLOPsAfter != want || rep.FLOPsBefore != 12*10+10*8+8*4 {
		t.Errorf("FLOPs %d → %d, want %d → %d", rep.FLOPsBefore, rep.FLOPsAfter, 12*10+10*8+8*4, want)
	}
	sameFunction(t, m, th, 3)
}

func TestThinConv(t *testing.T) {
	m := randomModel(t, thinConvSpec(0), 1)
	killIn(t, m, "conv1", 0, 3)       // dead filters: constant b through the pool into conv2's biases
	killIn(t, m, "conv2", 2, 5)       // dead filters: relu(b) through pool and flatten into fc1's biases
	killInputs(t, m, "fc1", 6*4, 7*4) // conv2 filter 6 is read by no fc1 unit
	killIn(t, m, "fc1", 7)            // dead neuron
	th, rep := thinChecked(t, m)
	checkUnits(t, rep, map[string][4]int{
		"conv1": {6, 4, 1, 1},
		"conv2": {8, 5, 6, 4},
		"fc1":   {10, 9, 32, 20},
		"fc2":   {4, 4, 10, 9},
	})
	sameFunction(t, m, th, 3)
	if th.Spec.Layers[0].Filters != 4 || th.Spec.Layers[2].Filters != 5 || th.Spec.Layers[6].Units != 9 {
		t.Errorf("thinned spec %+v", th.Spec.Layers)
	}
}

// A dead filter feeding a zero-padded conv layer is removed only when its
// constant output is zero: a non-zero constant would differ at the border.
func TestThinPaddedConvKeepsNonZeroConstants(t *testing.T) {
	spec := thinConvSpec(1)
	spec.Layers[1] = models.Layer{Kind: models.ReLU} // conv1 → relu → conv2 (padded)
	spec.Input = []int{1, 7, 7}
	m := randomModel(t, spec, 1)
	b := m.Params.Get("conv1/b")
	bv := b.Float64s()
	bv[1], bv[4] = 0.5, -0.5
	if err := b.SetFloat64s(bv); err != nil {
		t.Fatal(err)
	}
	killIn(t, m, "conv1", 1, 4) // relu(0.5) = 0.5 must stay, relu(-0.5) = 0 can go
	th, rep := thinChecked(t, m)
	if u := units(rep)["conv1"]; u[1] != 5 {
		t.Errorf("conv1 keeps %d filters, want 5", u[1])
	}
	sameFunction(t, m, th, 3)
}

// A dead unit before a clip presents its clipped bias to the next layer,
// which folds it in.
func TestThinThroughClip(t *testing.T) {
	spec := thinMLPSpec()
	spec.Layers[1] = models.Layer{Kind: models.Clip, Min: ptr(-0.2), Max: ptr(0.3)}
	m := randomModel(t, spec, 4)
	b := m.Params.Get("fc1/b")
	bv := b.Float64s()
	bv[1], bv[4], bv[7] = 0.9, -0.9, 0.1 // clipped to 0.3, -0.2, kept 0.1
	if err := b.SetFloat64s(bv); err != nil {
		t.Fatal(err)
	}
	killIn(t, m, "fc1", 1, 4, 7)
	th, rep := thinChecked(t, m)
	if u := units(rep)["fc1"]; u[1] != 7 {
		t.Errorf("fc1 keeps %d units, want 7", u[1])
	}
	if !strings.Contains(th.Spec.String(), "clip [-0.2, 0.3]") {
		t.Errorf("thinned spec:\n%s", th.Spec)
	}
	sameFunction(t, m, th, 3)
}

// When every unit of a hidden layer is dead the network is constant; one
// unit that outputs zero keeps the spec valid.
func TestThinWholeLayerDead(t *testing.T) {
	m := randomModel(t, thinMLPSpec(), 1)
	killIn(t, m, "fc2", 0, 1, 2, 3, 4, 5, 6, 7)
	th, rep := thinChecked(t, m)
	checkUnits(t, rep, map[string][4]int{
		"fc1": {10, 1, 12, 12},
		"fc2": {8, 1, 10, 1},
		"fc3": {4, 4, 8, 1},
	})
	sameFunction(t, m, th, 3)
}

// On random dead units, thinning keeps the function, and a thinned model
// has nothing left to remove.
func TestThinRandomDeadUnits(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		for _, spec := range []models.Spec{thinMLPSpec(), thinConvSpec(0)} {
			m := randomModel(t, spec, seed)
			rng := rand.New(rand.NewSource(seed))
			for _, p := range m.Params.Prunable() {
				name := p.Name[:len(p.Name)-2]
				sh := p.Shape()
				outUnits, inUnits := sh[0], sh[1]
				if len(sh) == 2 {
					outUnits, inUnits = sh[1], sh[0]
				}
				for j := 0; j < outUnits; j++ {
					if rng.Float64() < 0.3 {
						killIn(t, m, name, j)
					}
				}
				for i := 0; i < inUnits; i++ {
					if rng.Float64() < 0.1 {
						killInputs(t, m, name, i, i+1)
					}
				}
			}
			th, rep := thinChecked(t, m)
			sameFunction(t, m, th, seed)
			again, rep2, err := models.Thin(th)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range rep2.Layers {
				if l.UnitsAfter != l.UnitsBefore || l.UnitsBefore != rep.Layers[i].UnitsAfter {
					t.Errorf("seed %d %s: thinning twice removes more: %+v after %+v", seed, spec.Name, l, rep.Layers[i])
				}
			}
			sameFunction(t, th, again, seed)
		}
	}
}

func TestThinFloat64AndProvenance(t *testing.T) {
	m, err := models.New(thinMLPSpec(), tensor.Float64, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	acc := 0.97
	m.Meta = models.Provenance{Seed: 7, Accuracy: &acc, Extra: map[string]string{"k": "v"}}
	killIn(t, m, "fc1", 0)
	th, _ := thinChecked(t, m)
	if dt := th.Params.Get("fc1/W").Value.Dtype(); dt != tensor.Float64 {
		t.Errorf("dtype %v, want float64", dt)
	}
	if th.Meta.Seed != 7 || *th.Meta.Accuracy != 0.97 || th.Meta.Extra["k"] != "v" {
		t.Errorf("provenance %+v", th.Meta)
	}
	th.Meta.Extra["k"] = "changed"
	if m.Meta.Extra["k"] != "v" {
		t.Error("the thinned model shares its provenance map with the input")
	}
}

func TestThinNothingToRemove(t *testing.T) {
	m := randomModel(t, thinConvSpec(0), 1)
	th, rep := thinChecked(t, m)
	if !bytes.Equal(encodeModel(t, m), encodeModel(t, th)) {
		t.Error("thinning a model without dead units changed it")
	}
	if rep.FLOPsAfter != rep.FLOPsBefore {
		t.Errorf("FLOPs %d → %d", rep.FLOPsBefore, rep.FLOPsAfter)
	}
}

func TestThinErrors(t *testing.T) {
	if _, _, err := models.Thin(nil); err == nil {
		t.Error("Thin(nil): no error")
	}
	m := randomModel(t, thinMLPSpec(), 1)
	m.Spec.Layers[0].Units = 11
	if _, _, err := models.Thin(m); err == nil {
		t.Error("parameters that disagree with the spec: no error")
	}
}

func TestFLOPsZoo(t *testing.T) {
	for name, want := range map[string]int64{
		"lenet-300-100": 784*300 + 300*100 + 100*10,
		// conv1 20·1·25·24·24, conv2 50·20·25·8·8, fc1 800·500, fc2 500·10
		"lenet-5": 20*25*24*24 + 50*20*25*8*8 + 800*500 + 500*10,
	} {
		s, err := models.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := models.FLOPs(s)
		if err != nil || got != want {
			t.Errorf("FLOPs(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := models.FLOPs(models.Spec{}); err == nil {
		t.Error("FLOPs of an empty spec: no error")
	}
}

func ptr(v float64) *float64 { return &v }
