package featsel

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/dataset"
)

// ErrSmallClass is returned (wrapped) when a class has fewer samples than
// folds, so that stratified folds cannot all hold it.
var ErrSmallClass = errors.New("a class has fewer samples than folds")

// Target is one point of a cross-validation: a penalty λ, or a number of
// features K for which λ is searched. Exactly one is set.
type Target struct {
	Lambda   float64 `json:"lambda,omitempty"`
	Features int     `json:"features,omitempty"`
}

func (t Target) String() string {
	if t.Features > 0 {
		return fmt.Sprintf("K=%d", t.Features)
	}
	return fmt.Sprintf("λ=%g", t.Lambda)
}

// CVConfig configures CrossValidate.
type CVConfig struct {
	// Folds is the number of stratified folds; 0 means 5. At least 2.
	Folds int `json:"folds"`
	// Repeats is the number of times the whole k-fold split is redrawn,
	// with seeds Seed, Seed+1, ...; 0 means 1.
	Repeats int `json:"repeats"`
	// Seed draws the folds of the first repeat; the selection of repeat r
	// uses Config.Seed = Seed + r.
	Seed int64 `json:"seed"`
}

func (c CVConfig) folds() int {
	if c.Folds == 0 {
		return 5
	}
	return c.Folds
}

func (c CVConfig) repeats() int {
	if c.Repeats == 0 {
		return 1
	}
	return c.Repeats
}

// Validate checks the configuration on its own.
func (c CVConfig) Validate() error {
	if c.Folds < 0 || c.Folds == 1 || c.Folds > 1000 {
		return errors.Errorf("featsel: folds must be in [2, 1000], got %d", c.Folds)
	}
	if c.Repeats < 0 || c.Repeats > 1000 {
		return errors.Errorf("featsel: repeats must be in [1, 1000], got %d", c.Repeats)
	}
	return nil
}

// StratifiedFolds splits the sample indices 0..len(y)−1 into k folds that
// each hold every class in proportion (up to one sample): the samples of
// each class are shuffled with rng and dealt out in turn, continuing where
// the previous class stopped. It returns the held-out indices of every
// fold, sorted. A class with fewer than k samples is an error (ErrSmallClass).
func StratifiedFolds(y []int, classes, k int, names []string, rng *rand.Rand) ([][]int, error) {
	byClass := make([][]int, classes)
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	for c, idx := range byClass {
		if len(idx) < k {
			name := fmt.Sprint(c)
			if c < len(names) {
				name = fmt.Sprintf("%q", names[c])
			}
			return nil, errors.Wrapf(ErrSmallClass, "class %s has %d samples, fewer than %d folds", name, len(idx), k)
		}
	}
	folds := make([][]int, k)
	next := 0
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		sort.Ints(f)
	}
	return folds, nil
}

// Report is the result of CrossValidate.
type Report struct {
	Data       string   `json:"data"`
	Samples    int      `json:"samples"`
	Features   int      `json:"features"`
	Classes    []string `json:"classes"`
	ClassSizes []int    `json:"class_sizes"`
	// Constant counts the features constant over all samples; they are
	// never selected.
	Constant int      `json:"constant_features"`
	Config   Config   `json:"config"`
	CV       CVConfig `json:"cv"`
	Points   []Point  `json:"points"`
}

// Point is the cross-validated result for one Target.
type Point struct {
	Target Target `json:"target"`
	// Accuracy is the mean over repeats of the cross-validated accuracy
	// (each repeat pools the held-out predictions of its folds);
	// AccuracyStd is their sample standard deviation (0 for one repeat).
	Accuracy       float64   `json:"accuracy"`
	AccuracyStd    float64   `json:"accuracy_std"`
	RepeatAccuracy []float64 `json:"repeat_accuracy"`
	// SelectedMean and SelectedStd: the number of features selected per
	// fold, over all folds of all repeats.
	SelectedMean float64 `json:"selected_mean"`
	SelectedStd  float64 `json:"selected_std"`
	// Overlap is the mean Jaccard index |A∩B|/|A∪B| over all pairs of fold
	// selections (1 when every fold picks the same set).
	Overlap float64 `json:"overlap"`
	// Frequency lists every feature selected in at least one fold, with
	// the number of folds that selected it, most frequent first.
	Frequency []FeatureCount `json:"frequency"`
	Folds     []Fold         `json:"folds"`
	// All is the selection on all samples (standardised on all of them):
	// the features to use.
	All Chosen `json:"all"`
}

// FeatureCount is how many folds selected a feature.
type FeatureCount struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	Count int    `json:"count"`
}

// Fold is one fold's selection and held-out result.
type Fold struct {
	Repeat   int      `json:"repeat"`
	Fold     int      `json:"fold"`
	Lambda   float64  `json:"lambda"`
	Features []string `json:"features"`
	Correct  int      `json:"correct"`
	Total    int      `json:"total"`
}

// Chosen is a ranked selection with the feature names.
type Chosen struct {
	Lambda    float64         `json:"lambda"`
	LambdaMax float64         `json:"lambda_max"`
	Features  []ChosenFeature `json:"features"`
	// TrainAccuracy is the refitted model's accuracy on all samples.
	TrainAccuracy float64 `json:"train_accuracy"`
}

// ChosenFeature is one selected feature: its column name and index among
// the features, |s_j| (|b_j| for l1-logistic), ‖s_j·W1_j‖ and, for linear
// models of two classes, the signed coefficient.
type ChosenFeature struct {
	Name  string  `json:"name"`
	Index int     `json:"index"`
	Score float64 `json:"score"`
	Norm  float64 `json:"norm"`
	// Coef is Selection.Coef's entry (linear models of two classes only).
	Coef float64 `json:"coef,omitempty"`
}

// CrossValidate estimates the held-out accuracy of selecting features with
// cfg (its Lambda and Features are taken from each target) on data, by
// stratified k-fold cross-validation repeated cv.Repeats times, the whole
// pipeline (standardisation, λ search, selection, refit) redone inside
// every fold on its training rows alone. It also selects on all samples.
// progress, if not nil, gets one line per finished fold. The same inputs
// give the same report, bit for bit.
func CrossValidate(ctx context.Context, data *dataset.Dataset, cfg Config, targets []Target, cv CVConfig, progress func(string)) (*Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := cv.Validate(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("featsel: no λ or number of features to try")
	}
	d := data.Size()
	n := data.N()
	if len(data.Shape) != 1 || d == 0 || n == 0 || len(data.X) != n*d {
		return nil, errors.New("featsel: data must be a non-empty table of samples × features")
	}
	for i, t := range targets {
		c := cfg
		c.Lambda, c.Features = t.Lambda, t.Features
		if (t.Lambda > 0) == (t.Features > 0) {
			return nil, errors.Errorf("featsel: target %d: set exactly one of lambda and features", i)
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		if t.Features > d {
			return nil, errors.Errorf("featsel: %d features wanted, the data has only %d", t.Features, d)
		}
	}
	if cfg.method() == MethodL1Logistic && data.Classes != 2 {
		return nil, errors.Errorf("featsel: l1-logistic needs exactly 2 classes, got %d (filter the labels to two classes)", data.Classes)
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	scAll, err := FitScaler(data.X, d, all)
	if err != nil {
		return nil, err
	}
	if scAll.Constant() == d {
		return nil, errors.Errorf("featsel: every one of the %d features is constant", d)
	}
	rep := &Report{
		Data: data.Name, Samples: n, Features: d,
		Classes: append([]string(nil), data.ClassNames...), ClassSizes: make([]int, data.Classes),
		Constant: scAll.Constant(), Config: cfg, CV: cv, Points: make([]Point, len(targets)),
	}
	rep.CV.Folds, rep.CV.Repeats = cv.folds(), cv.repeats()
	for _, y := range data.Y {
		rep.ClassSizes[y]++
	}
	for i, t := range targets {
		rep.Points[i].Target = t
	}
	k := cv.folds()
	correct := make([][]int, len(targets)) // per target, per repeat
	total := make([]int, cv.repeats())
	for i := range correct {
		correct[i] = make([]int, cv.repeats())
	}
	for r := 0; r < cv.repeats(); r++ {
		folds, err := StratifiedFolds(data.Y, data.Classes, k, data.ClassNames, rand.New(rand.NewSource(cv.Seed+int64(r))))
		if err != nil {
			return nil, errors.Wrap(err, "featsel")
		}
		for fi, test := range folds {
			train := complement(n, test)
			sc, err := FitScaler(data.X, d, train)
			if err != nil {
				return nil, err
			}
			Xtr, Xte := sc.Apply(data.X, d, train), sc.Apply(data.X, d, test)
			ytr, yte := pick(data.Y, train), pick(data.Y, test)
			total[r] += len(test)
			var msg []string
			c := cfg
			c.Seed = cfg.Seed + int64(r)
			sels, err := SelectTargets(ctx, Xtr, ytr, data.Classes, c, targets)
			if err != nil {
				return nil, errors.Wrapf(err, "repeat %d fold %d", r+1, fi+1)
			}
			for ti, t := range targets {
				sel := sels[ti]
				ok := 0
				for i, p := range sel.Model.Predict(Xte) {
					if p == yte[i] {
						ok++
					}
				}
				correct[ti][r] += ok
				names := make([]string, len(sel.Features))
				for q, j := range sel.Features {
					names[q] = featureName(data, j)
				}
				rep.Points[ti].Folds = append(rep.Points[ti].Folds, Fold{
					Repeat: r + 1, Fold: fi + 1, Lambda: sel.Lambda, Features: names, Correct: ok, Total: len(test),
				})
				msg = append(msg, fmt.Sprintf("%s: %d features %d/%d", t, len(names), ok, len(test)))
			}
			if progress != nil {
				progress(fmt.Sprintf("repeat %d/%d fold %d/%d: %v", r+1, cv.repeats(), fi+1, k, msg))
			}
		}
	}
	// The selection on all samples.
	Xall := scAll.Apply(data.X, d, all)
	sels, err := SelectTargets(ctx, Xall, data.Y, data.Classes, cfg, targets)
	if err != nil {
		return nil, errors.Wrap(err, "all samples")
	}
	for ti, sel := range sels {
		ok := 0
		for i, p := range sel.Model.Predict(Xall) {
			if p == data.Y[i] {
				ok++
			}
		}
		ch := Chosen{Lambda: sel.Lambda, LambdaMax: sel.LambdaMax, TrainAccuracy: float64(ok) / float64(n)}
		for q, j := range sel.Features {
			cf := ChosenFeature{Name: featureName(data, j), Index: j, Score: sel.Score[q], Norm: sel.Norm[q]}
			if sel.Coef != nil {
				cf.Coef = sel.Coef[q]
			}
			ch.Features = append(ch.Features, cf)
		}
		pt := &rep.Points[ti]
		pt.All = ch
		pt.summarise(correct[ti], total, data)
	}
	return rep, nil
}

// summarise fills in the accuracy, the counts, the frequencies and the
// overlap of a point from its folds.
func (pt *Point) summarise(correct, total []int, data *dataset.Dataset) {
	pt.RepeatAccuracy = make([]float64, len(correct))
	for r := range correct {
		pt.RepeatAccuracy[r] = float64(correct[r]) / float64(total[r])
	}
	pt.Accuracy, pt.AccuracyStd = meanStd(pt.RepeatAccuracy)
	counts := make([]float64, len(pt.Folds))
	freq := map[string]int{}
	sets := make([]map[string]bool, len(pt.Folds))
	for i, f := range pt.Folds {
		counts[i] = float64(len(f.Features))
		sets[i] = map[string]bool{}
		for _, name := range f.Features {
			freq[name]++
			sets[i][name] = true
		}
	}
	pt.SelectedMean, pt.SelectedStd = meanStd(counts)
	index := map[string]int{}
	for j, name := range data.Features {
		index[name] = j
	}
	for name, c := range freq {
		j, ok := index[name]
		if !ok {
			j = -1
		}
		pt.Frequency = append(pt.Frequency, FeatureCount{Name: name, Index: j, Count: c})
	}
	sort.Slice(pt.Frequency, func(a, b int) bool {
		fa, fb := pt.Frequency[a], pt.Frequency[b]
		if fa.Count != fb.Count {
			return fa.Count > fb.Count
		}
		return fa.Index < fb.Index
	})
	var sum float64
	pairs := 0
	for a := range sets {
		for b := a + 1; b < len(sets); b++ {
			inter := 0
			for name := range sets[a] {
				if sets[b][name] {
					inter++
				}
			}
			union := len(sets[a]) + len(sets[b]) - inter
			if union == 0 {
				sum++ // two empty selections agree
			} else {
				sum += float64(inter) / float64(union)
			}
			pairs++
		}
	}
	if pairs > 0 {
		pt.Overlap = sum / float64(pairs)
	} else {
		pt.Overlap = 1
	}
}

func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

func featureName(d *dataset.Dataset, j int) string {
	if j < len(d.Features) {
		return d.Features[j]
	}
	return fmt.Sprintf("x%d", j+1)
}

// complement returns 0..n−1 without the sorted indices held.
func complement(n int, held []int) []int {
	out := make([]int, 0, n-len(held))
	k := 0
	for i := 0; i < n; i++ {
		if k < len(held) && held[k] == i {
			k++
			continue
		}
		out = append(out, i)
	}
	return out
}

func pick(y []int, idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}
