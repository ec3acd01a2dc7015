package featsel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math/rand"
	"testing"

	"github.com/spred-go/spred/dataset"
)

// toDataset turns a synthetic matrix into a dataset with named features.
func toDataset(X *Matrix, y []int, classes int) *dataset.Dataset {
	d := &dataset.Dataset{Name: "synthetic", X: make([]float32, len(X.Data)), Y: y,
		Shape: []int{X.Cols}, Classes: classes}
	for k, v := range X.Data {
		d.X[k] = float32(v)
	}
	for c := 0; c < classes; c++ {
		d.ClassNames = append(d.ClassNames, fmt.Sprintf("c%d", c))
	}
	for j := 0; j < X.Cols; j++ {
		d.Features = append(d.Features, fmt.Sprintf("f%d", j))
	}
	return d
}

func TestStratifiedFolds(t *testing.T) {
	y := make([]int, 0, 53)
	for i := 0; i < 53; i++ {
		y = append(y, map[bool]int{true: 0, false: 1}[i%4 != 0]) // 39 of class 0, 14 of class 1
	}
	folds, err := StratifiedFolds(y, 2, 5, nil, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, len(y))
	for f, idx := range folds {
		per := [2]int{}
		for _, i := range idx {
			seen[i]++
			per[y[i]]++
		}
		// 39/5 and 14/5: 7 or 8 of class 0, 2 or 3 of class 1.
		if per[0] < 7 || per[0] > 8 || per[1] < 2 || per[1] > 3 {
			t.Errorf("fold %d holds %v per class", f, per)
		}
	}
	for i, s := range seen {
		if s != 1 {
			t.Fatalf("sample %d is in %d folds", i, s)
		}
	}
	again, _ := StratifiedFolds(y, 2, 5, nil, rand.New(rand.NewSource(1)))
	if fmt.Sprint(again) != fmt.Sprint(folds) {
		t.Error("same seed, different folds")
	}
	other, _ := StratifiedFolds(y, 2, 5, nil, rand.New(rand.NewSource(2)))
	if fmt.Sprint(other) == fmt.Sprint(folds) {
		t.Error("another seed gave the same folds")
	}
	_, err = StratifiedFolds(y, 2, 15, []string{"a", "b"}, rand.New(rand.NewSource(1)))
	if !errors.Is(err, ErrSmallClass) || err.Error() != `class "b" has 14 samples, fewer than 15 folds: a class has fewer samples than folds` {
		t.Errorf("15 folds: got %v", err)
	}
}

func TestScaler(t *testing.T) {
	// Three columns: varying, constant, varying; rows 0-2 train, row 3 held out.
	X := []float32{1, 5, 0, 2, 5, 0, 3, 5, 3, 100, 7, -100}
	sc, err := FitScaler(X, 3, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Mean[0] != 2 || sc.Mean[1] != 5 || sc.Mean[2] != 1 || sc.Constant() != 1 {
		t.Fatalf("mean %v std %v", sc.Mean, sc.Std)
	}
	m := sc.Apply(X, 3, []int{0, 3})
	want0 := -1 / sc.Std[0]
	if m.Row(0)[0] != want0 || m.Row(0)[1] != 0 || m.Row(1)[1] != 0 {
		t.Errorf("standardised rows %v", m.Data)
	}
	// The held-out row (100) did not move the training mean.
	if m.Row(1)[0] != 98/sc.Std[0] {
		t.Errorf("held-out row standardised to %v", m.Row(1)[0])
	}
}

// TestNoLeakage: on pure noise (labels independent of 2,000 features, 60
// samples) selection on all samples would find features that separate
// them; cross-validation with the selection inside the folds must stay
// near chance.
func TestNoLeakage(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	X := &Matrix{Rows: 60, Cols: 2000, Data: make([]float64, 60*2000)}
	for i := range X.Data {
		X.Data[i] = rng.NormFloat64()
	}
	y := make([]int, 60)
	for i := range y {
		y[i] = i % 2
	}
	rng.Shuffle(len(y), func(a, b int) { y[a], y[b] = y[b], y[a] })
	data := toDataset(X, y, 2)
	rep, err := CrossValidate(context.Background(), data, Config{}, []Target{{Features: 5}}, CVConfig{Folds: 5, Repeats: 2, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Points[0]
	t.Logf("noise: CV accuracy %.3f ± %.3f, on all samples (training) %.3f", p.Accuracy, p.AccuracyStd, p.All.TrainAccuracy)
	if p.Accuracy > 0.7 {
		t.Errorf("cross-validated accuracy %.3f on noise: the folds leak", p.Accuracy)
	}
	if p.All.TrainAccuracy < 0.8 {
		t.Errorf("training accuracy %.3f: the selection found nothing to overfit, the test proves little", p.All.TrainAccuracy)
	}
}

// TestCrossValidate: on synthetic data the cross-validation finds the
// informative features in every fold, is accurate, and the same seed
// gives the same report byte for byte.
func TestCrossValidate(t *testing.T) {
	informative := []int{2, 50, 99}
	X, y := synthetic(150, 300, 2, informative, 7)
	data := toDataset(X, y, 2)
	targets := []Target{{Features: 3}, {Lambda: 0.5}}
	run := func(seed int64) []byte {
		rep, err := CrossValidate(context.Background(), data, Config{Head: HeadMLP, Hidden: 8}, targets, CVConfig{Folds: 3, Repeats: 2, Seed: seed}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := rep.Points[0]
		if p.Accuracy < 0.85 || p.SelectedMean != 3 || len(p.Folds) != 6 {
			t.Errorf("K=3: accuracy %.3f, %.1f features, %d folds", p.Accuracy, p.SelectedMean, len(p.Folds))
		}
		top := map[string]int{}
		for _, f := range p.Frequency[:3] {
			top[f.Name] = f.Count
		}
		for _, j := range informative {
			if c := top[fmt.Sprintf("f%d", j)]; c < 5 {
				t.Errorf("f%d selected in %d of 6 folds, want ≥ 5 (frequencies %+v)", j, c, p.Frequency)
			}
		}
		if p.Overlap < 0.8 {
			t.Errorf("overlap %v, want ≥ 0.8", p.Overlap)
		}
		b, _ := json.Marshal(rep)
		return b
	}
	a, b := run(1), run(1)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different reports")
	}
	if c := run(2); bytes.Equal(a, c) {
		t.Error("another seed gave the same report")
	}
}

// TestMultiClass: three classes, softmax heads; l1-logistic refuses.
func TestMultiClass(t *testing.T) {
	informative := []int{10, 20, 30, 40}
	X, y := synthetic(150, 400, 3, informative, 11)
	for _, head := range []Head{HeadLinear, HeadMLP} {
		sel, err := Select(context.Background(), X, y, 3, Config{Head: head, Features: 4, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sortedCopy(sel.Features)) != fmt.Sprint(informative) {
			t.Errorf("%s: selected %v, want %v", head, sortedCopy(sel.Features), informative)
		}
		Xt, yt := synthetic(300, 400, 3, informative, 12)
		ok := 0
		for i, p := range sel.Model.Predict(Xt) {
			if p == yt[i] {
				ok++
			}
		}
		t.Logf("%s: held-out accuracy %.3f", head, float64(ok)/300)
		if float64(ok)/300 < 0.8 {
			t.Errorf("%s: held-out accuracy %.3f", head, float64(ok)/300)
		}
	}
	if _, err := Select(context.Background(), X, y, 3, Config{Method: MethodL1Logistic, Features: 4}); err == nil {
		t.Error("l1-logistic accepted 3 classes")
	}
}

func TestPlotNotBlank(t *testing.T) {
	X, y := synthetic(60, 100, 2, []int{1, 2}, 3)
	rep, err := CrossValidate(context.Background(), toDataset(X, y, 2), Config{}, []Target{{Features: 1}, {Features: 2}, {Features: 4}}, CVConfig{Folds: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Plot([]*Report{rep}, "test", &buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	colors := map[[3]uint32]int{}
	for yy := b.Min.Y; yy < b.Max.Y; yy++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			r, g, bl, _ := img.At(xx, yy).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	white := colors[[3]uint32{255, 255, 255}]
	if b.Dx() != 800 || b.Dy() != 500 || len(colors) < 10 || white > b.Dx()*b.Dy()*99/100 {
		t.Errorf("plot %v: %d colours, %d of %d pixels white", b, len(colors), white, b.Dx()*b.Dy())
	}
	if md := string(Table([]*Report{rep})); !bytes.Contains([]byte(md), []byte("| ≤ 2 features |")) {
		t.Errorf("table:\n%s", md)
	}
}
