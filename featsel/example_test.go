package featsel_test

import (
	"context"
	"fmt"
	"math/rand"
	"sort"

	"github.com/spred-go/spred/featsel"
)

// Select finds the two features that decide the class among 500 noise
// features, and the refitted head classifies with them alone.
func ExampleSelect() {
	rng := rand.New(rand.NewSource(1))
	const n, d = 100, 500
	X32 := make([]float32, n*d)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			X32[i*d+j] = float32(rng.NormFloat64())
		}
		if X32[i*d+42]-X32[i*d+314] > 0 {
			y[i] = 1
		}
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	sc, _ := featsel.FitScaler(X32, d, all)
	X := sc.Apply(X32, d, all)

	sel, err := featsel.Select(context.Background(), X, y, 2, featsel.Config{Head: featsel.HeadMLP, Features: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	feats := append([]int(nil), sel.Features...)
	sort.Ints(feats)
	correct := 0
	for i, p := range sel.Model.Predict(X) {
		if p == y[i] {
			correct++
		}
	}
	fmt.Println("selected:", feats)
	fmt.Println("training accuracy ≥ 95%:", correct >= 95)
	// Output:
	// selected: [42 314]
	// training accuracy ≥ 95%: true
}
