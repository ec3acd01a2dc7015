package train

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
)

// TestSGDStepByHand checks two steps of the update against values computed
// by hand, for plain, momentum and Nesterov SGD with weight decay, and that
// decay is skipped for learnables not marked Decay.
func TestSGDStepByHand(t *testing.T) {
	const lr, mu, wd = 0.1, 0.9, 0.01
	w0, g := 2.0, 0.5
	// step 1: d = g + wd·w0 = 0.52; v1 = 0.52
	d1 := g + wd*w0
	cases := []struct {
		name    string
		opt     SGD
		decay   bool
		want1   float64
		want2fn func(w1 float64) float64
	}{
		{"plain", SGD{WeightDecay: wd}, true, w0 - lr*d1, func(w1 float64) float64 { return w1 - lr*(g+wd*w1) }},
		{"no-decay-mark", SGD{WeightDecay: wd}, false, w0 - lr*g, func(w1 float64) float64 { return w1 - lr*g }},
		{"momentum", SGD{Momentum: mu, WeightDecay: wd}, true, w0 - lr*d1, func(w1 float64) float64 {
			v2 := mu*d1 + (g + wd*w1)
			return w1 - lr*v2
		}},
		{"nesterov", SGD{Momentum: mu, Nesterov: true, WeightDecay: wd}, true, w0 - lr*(d1+mu*d1), func(w1 float64) float64 {
			d2 := g + wd*w1
			v2 := mu*d1 + d2
			return w1 - lr*(d2+mu*v2)
		}},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(c.name+"/"+dt.String(), func(t *testing.T) {
				val := tensor.New(tensor.Of(dt), tensor.WithShape(1))
				grad := tensor.New(tensor.Of(dt), tensor.WithShape(1))
				set := func(x *tensor.Dense, v float64) {
					if dt == tensor.Float32 {
						x.Data().([]float32)[0] = float32(v)
					} else {
						x.Data().([]float64)[0] = v
					}
				}
				get := func(x *tensor.Dense) float64 {
					if dt == tensor.Float32 {
						return float64(x.Data().([]float32)[0])
					}
					return x.Data().([]float64)[0]
				}
				set(val, w0)
				set(grad, g)
				l := &graph.Learnable{Name: "w", Value: val, Decay: c.decay}
				opt := c.opt
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-6
				}
				if err := opt.Step([]*graph.Learnable{l}, []*tensor.Dense{grad}, lr); err != nil {
					t.Fatal(err)
				}
				w1 := get(val)
				if math.Abs(w1-c.want1) > tol {
					t.Fatalf("step 1: w = %.12g, want %.12g", w1, c.want1)
				}
				if err := opt.Step([]*graph.Learnable{l}, []*tensor.Dense{grad}, lr); err != nil {
					t.Fatal(err)
				}
				if w2, want := get(val), c.want2fn(w1); math.Abs(w2-want) > tol {
					t.Fatalf("step 2: w = %.12g, want %.12g", w2, want)
				}
			})
		}
	}
}

// TestSGDL1ByHand checks the subgradient L1 term: d = g + λ₁·sign(w) with
// sign(0) = 0, only for learnables marked Decay, with momentum.
func TestSGDL1ByHand(t *testing.T) {
	const lr, mu, l1 = 0.5, 0.5, 0.25 // binary-exact, so the steps are exact
	w := []float64{2, -1, 0, 0.125}
	g := []float64{0.5, 0.5, 0, 0}
	// step 1: d = g + l1·sign(w) = [0.75, 0.25, 0, 0.25] = v1;
	//         w1 = w − 0.5·v1 = [1.625, −1.125, 0, 0]
	// step 2: d2 = g + l1·sign(w1) = [0.75, 0.25, 0, 0] (sign(0) = 0);
	//         v2 = 0.5·v1 + d2 = [1.125, 0.375, 0, 0.125];
	//         w2 = w1 − 0.5·v2 = [1.0625, −1.3125, 0, −0.0625]
	want1 := []float64{1.625, -1.125, 0, 0}
	want2 := []float64{1.0625, -1.3125, 0, -0.0625}
	for _, decay := range []bool{true, false} {
		val := tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), w...)))
		grad := tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), g...)))
		l := &graph.Learnable{Name: "w", Value: val, Decay: decay}
		opt := &SGD{Momentum: mu, L1: l1}
		for step, want := range [][]float64{want1, want2} {
			if err := opt.Step([]*graph.Learnable{l}, []*tensor.Dense{grad}, lr); err != nil {
				t.Fatal(err)
			}
			got := val.Data().([]float64)
			for i := range got {
				exp := want[i]
				if !decay {
					exp = noL1(w[i], g[i], lr, mu, step+1)
				}
				if math.Abs(got[i]-exp) > 1e-12 {
					t.Fatalf("decay=%v step %d: w[%d] = %.12g, want %.12g", decay, step+1, i, got[i], exp)
				}
			}
		}
	}
}

// noL1 is w after n steps of momentum SGD with the constant gradient g.
func noL1(w, g, lr, mu float64, n int) float64 {
	v := 0.0
	for i := 0; i < n; i++ {
		v = mu*v + g
		w -= lr * v
	}
	return w
}

func TestSchedule(t *testing.T) {
	cases := []struct {
		s     Schedule
		epoch int
		want  float64
	}{
		{Schedule{}, 5, 1},
		{Schedule{Kind: Step, StepEvery: 2, Gamma: 0.5}, 0, 1},
		{Schedule{Kind: Step, StepEvery: 2, Gamma: 0.5}, 3, 0.5},
		{Schedule{Kind: Step, StepEvery: 2, Gamma: 0.5}, 4, 0.25},
		{Schedule{Kind: Step}, 4, 0.1}, // every 10/3 = 3 epochs, gamma 0.1
		{Schedule{Kind: Cosine}, 0, 1},
		{Schedule{Kind: Cosine}, 5, 0.5},
	}
	for _, c := range cases {
		if got := c.s.Rate(1, c.epoch, 10); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v epoch %d: %v, want %v", c.s, c.epoch, got, c.want)
		}
	}
	if err := (Schedule{Kind: "warp"}).Validate(); err == nil {
		t.Error("unknown schedule accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{{Epochs: -1}, {Batch: -2}, {LR: -1}, {LR: math.NaN()}, {Momentum: 1}, {WeightDecay: -1}}
	for _, c := range bad {
		if err := c.Defaults().Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).Defaults().Validate(); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}

func TestZeroVelocity(t *testing.T) {
	w := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
	g := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 1, 1}))
	ls := []*graph.Learnable{{Name: "w", Value: w}}
	opt := &SGD{Momentum: 0.9}
	opt.ZeroVelocity("w", []int{0}) // before any step: nothing to zero
	if err := opt.Step(ls, []*tensor.Dense{g}, 0.1); err != nil {
		t.Fatal(err)
	}
	opt.ZeroVelocity("w", []int{1, -1, 7})
	if v := opt.Velocity("w"); v[0] == 0 || v[1] != 0 || v[2] == 0 {
		t.Errorf("velocity %v, want only entry 1 zeroed", v)
	}
	var none *SGD
	none.ZeroVelocity("w", []int{0}) // a nil optimizer has no state
}

// TestSGDScale: Scale multiplies the weight decay and the L1 coefficient
// of the learnables it names: a step with decay λ and scale f equals a step
// with decay f·λ, and a learnable it does not name keeps λ.
func TestSGDScale(t *testing.T) {
	const lr, mu = 0.5, 0.5
	w := []float64{2, -1, 0.5, 0.125}
	g := []float64{0.5, 0.5, 0, -0.25}
	run := func(opt *SGD, name string) []float64 {
		val := tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), w...)))
		grad := tensor.New(tensor.WithShape(4), tensor.WithBacking(append([]float64(nil), g...)))
		l := &graph.Learnable{Name: name, Value: val, Decay: true}
		for range 3 {
			if err := opt.Step([]*graph.Learnable{l}, []*tensor.Dense{grad}, lr); err != nil {
				t.Fatal(err)
			}
		}
		return val.Data().([]float64)
	}
	for _, tc := range []struct {
		name         string
		scaled, want *SGD
	}{
		{"decay", &SGD{Momentum: mu, WeightDecay: 0.25, Scale: map[string]float64{"w": 0.5}}, &SGD{Momentum: mu, WeightDecay: 0.125}},
		{"l1", &SGD{Momentum: mu, L1: 0.25, Scale: map[string]float64{"w": 2}}, &SGD{Momentum: mu, L1: 0.5}},
		{"zero", &SGD{Momentum: mu, WeightDecay: 0.25, L1: 0.25, Scale: map[string]float64{"w": 0}}, &SGD{Momentum: mu}},
		{"other name", &SGD{Momentum: mu, WeightDecay: 0.25, Scale: map[string]float64{"v": 0}}, &SGD{Momentum: mu, WeightDecay: 0.25}},
	} {
		got, want := run(tc.scaled, "w"), run(tc.want, "w")
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: w[%d] = %v, want %v", tc.name, i, got[i], want[i])
			}
		}
	}
	if err := (Config{DecayScale: map[string]float64{"w": -1}}).Defaults().Validate(); err == nil {
		t.Error("a negative decay scale accepted")
	}
}
