package train

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/models"
)

// pixelImages returns the same random 1×6×6 images of 3 classes held as
// bytes and as float32 (the loaders' former float32(p)/255).
func pixelImages(n int, seed int64) (b, f *dataset.Dataset) {
	rng := rand.New(rand.NewSource(seed))
	b = &dataset.Dataset{Name: "img", Pixels: make([]uint8, n*36), Y: make([]int, n), Shape: []int{1, 6, 6}, Classes: 3}
	for i := range n {
		c := i % 3
		b.Y[i] = c
		for j := range 36 {
			v := rng.Intn(128)
			if j/12 == c { // rows 2c and 2c+1
				v += 120
			}
			b.Pixels[i*36+j] = uint8(v)
		}
	}
	f = &dataset.Dataset{Name: b.Name, X: make([]float32, len(b.Pixels)), Y: append([]int(nil), b.Y...), Shape: []int{1, 6, 6}, Classes: 3}
	for i, p := range b.Pixels {
		f.X[i] = float32(p) / 255
	}
	return b, f
}

// TestFitBytesAsFloats checks that training (with augmentation) and
// evaluation on a data set held as bytes give the same parameters and
// metrics, bit for bit, as on the same data held as float32.
func TestFitBytesAsFloats(t *testing.T) {
	spec := models.Spec{Name: "tiny", Input: []int{1, 6, 6}, Loss: models.LossSoftmaxCrossEntropy, Layers: []models.Layer{
		{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc1", Units: 8}, {Kind: models.ReLU},
		{Kind: models.Dense, Name: "fc2", Units: 3}}}
	trB, trF := pixelImages(90, 1)
	teB, teF := pixelImages(31, 2)
	cfg := Config{Epochs: 3, Batch: 10, LR: 0.1, Momentum: 0.9, Seed: 4, EvalBatch: 8, Augment: dataset.Augment{Pad: 1, Flip: true}}
	run := func(data Data) (*models.Model, []EpochStats) {
		m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(5)))
		if err != nil {
			t.Fatal(err)
		}
		h, err := Fit(context.Background(), m, data, cfg, nil, Hooks{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m, h
	}
	mB, hB := run(Data{Train: trB, Test: teB})
	mF, hF := run(Data{Train: trF, Test: teF})
	for i := range hF {
		b, f := hB[i], hF[i]
		if b.TrainLoss != f.TrainLoss || b.TestLoss != f.TestLoss || b.TestAcc != f.TestAcc {
			t.Errorf("epoch %d: bytes %+v, floats %+v", i+1, b, f)
		}
	}
	if hF[len(hF)-1].TestAcc < 0.5 {
		t.Errorf("test accuracy %v: the model did not learn", hF[len(hF)-1].TestAcc)
	}
	for _, p := range mF.Params.All() {
		q := mB.Params.Get(p.Name)
		a, b := p.Value.Data().([]float32), q.Value.Data().([]float32)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s[%d]: bytes %v, floats %v", p.Name, i, b[i], a[i])
			}
		}
	}
	for _, ev := range []*Evaluator{NewEvaluator(mF, nil, 7), NewGraphEvaluator(mF, nil, 7)} {
		gB, err := ev.Evaluate(teB)
		if err != nil {
			t.Fatal(err)
		}
		gF, _ := ev.Evaluate(teF)
		pB, _ := ev.Predict(teB)
		pF, _ := ev.Predict(teF)
		if gB != gF || len(pB) != 31*3 || len(pB) != len(pF) {
			t.Errorf("infer %v: Evaluate bytes %+v, floats %+v; %d, %d logits", ev.Infer(), gB, gF, len(pB), len(pF))
		}
		for i := range pF {
			if pB[i] != pF[i] {
				t.Fatalf("infer %v: logit %d: bytes %v, floats %v", ev.Infer(), i, pB[i], pF[i])
			}
		}
		ev.Close()
	}
}
