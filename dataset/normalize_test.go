package dataset

import (
	"math"
	"math/rand"
	"testing"
)

func TestChannelStats(t *testing.T) {
	// Two samples of shape [2,1,2]: channel 0 holds 0,2,4,6 (mean 3, std
	// √5), channel 1 holds 1,1,1,1 (mean 1, std 0).
	d := &Dataset{Name: "two", X: []float32{0, 2, 1, 1, 4, 6, 1, 1}, Y: []int{0, 1}, Shape: []int{2, 1, 2}, Classes: 2}
	mean, std := d.ChannelStats()
	if len(mean) != 2 || mean[0] != 3 || mean[1] != 1 || !close32(std[0], float32(math.Sqrt(5))) || std[1] != 0 {
		t.Errorf("ChannelStats = %v, %v; want [3 1], [√5 0]", mean, std)
	}
	flat, err := d.Reshape([]int{4})
	if err != nil {
		t.Fatal(err)
	}
	if mean, std := flat.ChannelStats(); flat.Channels() != 1 || len(mean) != 1 || mean[0] != 2 || !close32(std[0], float32(math.Sqrt(3.5))) {
		t.Errorf("one channel: %v, %v", mean, std)
	}
	if mean, std := (&Dataset{Shape: []int{1, 2, 2}}).ChannelStats(); mean != nil || std != nil {
		t.Errorf("no samples: %v, %v", mean, std)
	}
}

func TestNormalize(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	images := func(name string, n int) *Dataset {
		d := &Dataset{Name: name, X: make([]float32, n*3*4*5), Y: make([]int, n), Shape: []int{3, 4, 5}, Classes: 1}
		for i := range d.X {
			d.X[i] = float32(rng.Intn(256)) / 255
		}
		return d
	}
	train, test := images("train", 6), images("test", 2)
	trainMean, trainStd := train.ChannelStats()
	rawTest := append([]float32(nil), test.X...)
	for _, d := range []*Dataset{train, test} {
		if err := d.Normalize(trainMean, trainStd); err != nil {
			t.Fatal(err)
		}
	}
	mean, std := train.ChannelStats()
	for c := range 3 {
		if math.Abs(float64(mean[c])) > 1e-5 || math.Abs(float64(std[c])-1) > 1e-5 {
			t.Errorf("channel %d after Normalize: mean %v, std %v; want 0, 1", c, mean[c], std[c])
		}
	}
	// The test set uses the training set's statistics.
	for _, i := range []int{0, 25, 60 + 45, len(rawTest) - 1} {
		c := (i % 60) / 20
		want := (rawTest[i] - trainMean[c]) / trainStd[c]
		if !close32(test.X[i], want) {
			t.Errorf("test value %d (channel %d): %v, want %v", i, c, test.X[i], want)
		}
	}

	for _, c := range []struct {
		name      string
		mean, std []float32
	}{
		{"too few", []float32{0}, []float32{1}},
		{"zero std", []float32{0, 0, 0}, []float32{1, 0, 1}},
		{"NaN mean", []float32{0, float32(math.NaN()), 0}, []float32{1, 1, 1}},
		{"negative std", []float32{0, 0, 0}, []float32{1, 1, -1}},
	} {
		err := train.Normalize(c.mean, c.std)
		checkOneLine(t, c.name, err, "normalize train")
	}
}

func close32(a, b float32) bool {
	return math.Abs(float64(a-b)) <= 1e-6*math.Max(1, math.Abs(float64(b)))
}
