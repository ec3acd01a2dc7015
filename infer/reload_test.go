package infer

import (
	"math"
	"testing"

	"github.com/spred-go/spred/models"
)

// TestReload: a reloaded engine computes what an engine built afresh from
// the changed weights computes, bit for bit, chooses its kernels again and
// keeps its buffers.
func TestReload(t *testing.T) {
	spec := everyKindSpec()
	m := randomModel(t, spec, []float64{0}, 7)
	const n = 9
	x := randomInput(spec, n, 8)
	e, err := New(m, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	buf, sc := &e.bufs[0][0], &e.sc.f[0]
	before := append([]float32(nil), forwardAll(t, e, x, n)...)
	pruned := randomModel(t, spec, []float64{0.99}, 7) // same values where not pruned
	if err := e.Reload(pruned); err != nil {
		t.Fatal(err)
	}
	fresh, err := New(pruned, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := forwardAll(t, fresh, x, n)
	got := forwardAll(t, e, x, n)
	same := true
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("value %d: reloaded %v, fresh %v", i, got[i], want[i])
		}
		same = same && got[i] == before[i]
	}
	if same {
		t.Fatal("the reloaded engine computes what it did before")
	}
	sparse := 0
	for i, p := range e.Plan() {
		if p != fresh.Plan()[i] {
			t.Errorf("plan %v, fresh %v", p, fresh.Plan()[i])
		}
		if p.Sparse {
			sparse++
		}
	}
	if sparse == 0 {
		t.Error("no layer of the pruned model is sparse")
	}
	if &e.bufs[0][0] != buf || &e.sc.f[0] != sc {
		t.Error("Reload allocated new buffers")
	}
	if e.Batch() != 4 {
		t.Errorf("batch %d after Reload, want 4", e.Batch())
	}
}

// TestLogitsOption: with Options.Logits a trailing softmax is left out.
func TestLogitsOption(t *testing.T) {
	spec := unfoldableSpec()
	withSM := spec
	withSM.Layers = append(append([]models.Layer(nil), spec.Layers...), models.Layer{Kind: models.Softmax})
	m := randomModel(t, spec, []float64{0}, 3)
	const n = 5
	x := randomInput(spec, n, 4)
	plain, err := New(m, Options{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := New(&models.Model{Spec: withSM, Params: m.Params}, Options{Batch: 4, Logits: true})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), forwardAll(t, plain, x, n)...)
	got := forwardAll(t, lg, x, n)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, want the logit %v", i, got[i], want[i])
		}
	}
}

// TestTally scores rows by hand.
func TestTally(t *testing.T) {
	var tl Tally
	if mt := tl.Metrics(); mt != (Metrics{}) {
		t.Errorf("empty tally: %+v", mt)
	}
	// Logits (0, ln 3): p = (1/4, 3/4).
	if err := Add(&tl, []float64{0, math.Log(3), 0, math.Log(3)}, []int{1, 0}, 2, false); err != nil {
		t.Fatal(err)
	}
	if err := Add(&tl, []float32{0.5, 0.25}, []int{0}, 2, true); err != nil {
		t.Fatal(err)
	}
	if err := Add(&tl, []float32{0.5, 0.25}, []int{2}, 2, true); err == nil {
		t.Error("label 2 of 2 classes accepted")
	}
	if err := Add(&tl, []float32{0.5}, []int{0}, 2, true); err == nil {
		t.Error("one score for two classes accepted")
	}
	mt := tl.Metrics()
	want := (math.Log(4.0/3) + math.Log(4) + math.Log(2)) / 3
	if mt.N != 3 || mt.Correct != 2 || mt.Accuracy != 2.0/3 || math.Abs(mt.Loss-want) > 1e-12 {
		t.Errorf("%+v, want loss %v, 2 of 3 correct", mt, want)
	}
}
