package compress_test

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
)

// Spred on a network written in plain Gorgonia and trained with Gorgonia's
// own solver: the two weight matrices are rewritten as u⊙v, the penalty is
// added to the loss, thresholding runs at every epoch, and the collapsed
// weights come out dense with exact zeros.
func ExampleRewrite_plainGorgonia() {
	const n, features, hidden, classes, batch = 300, 20, 8, 3, 30
	rng := rand.New(rand.NewSource(1))
	// Data: only feature c tells class c.
	xs, ys := make([]float64, n*features), make([]float64, n*classes)
	for i := 0; i < n; i++ {
		c := i % classes
		for j := 0; j < features; j++ {
			xs[i*features+j] = rng.NormFloat64()
		}
		xs[i*features+c] += 3
		ys[i*classes+c] = 1
	}
	// Initial values drawn from the seed (Gorgonia's initialisers seed
	// themselves from the clock).
	normal := func(scale float64, shape ...int) *tensor.Dense {
		t := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
		for i := range t.Data().([]float64) {
			t.Data().([]float64)[i] = rng.NormFloat64() * scale
		}
		return t
	}

	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, features), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, classes), gorgonia.WithName("y"))
	fc1, err := compress.Rewrite(g, "fc1/W", normal(0.3, features, hidden))
	if err != nil {
		fmt.Println(err)
		return
	}
	fc2, err := compress.Rewrite(g, "fc2/W", normal(0.5, hidden, classes))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := gorgonia.Must(gorgonia.Rectify(gorgonia.Must(gorgonia.Mul(x, fc1.W))))
	logits := gorgonia.Must(gorgonia.Mul(h, fc2.W))
	// The mean over the batch of each sample's cross-entropy: the scale λ is
	// meant for (a mean over batch × classes would make λ 3 times stronger).
	loss, err := graph.SoftmaxCrossEntropy(logits, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	penalty, err := compress.Penalty(0.02, fc1, fc2)
	if err != nil {
		fmt.Println(err)
		return
	}
	cost := gorgonia.Must(gorgonia.Add(loss, penalty))
	learnables := compress.Learnables(fc1, fc2)
	if _, err := gorgonia.Grad(cost, learnables...); err != nil {
		fmt.Println(err)
		return
	}
	var out gorgonia.Value
	gorgonia.Read(logits, &out)
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(learnables...))
	defer vm.Close()
	solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.5)) // no WithL2Reg, no WithBatchSize

	// run binds batch b, runs the graph and returns how many it classified right.
	run := func(b int) (int, error) {
		xb := tensor.New(tensor.WithShape(batch, features), tensor.WithBacking(xs[b*batch*features:(b+1)*batch*features]))
		yb := tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(ys[b*batch*classes:(b+1)*batch*classes]))
		if err := gorgonia.Let(x, xb); err != nil {
			return 0, err
		}
		if err := gorgonia.Let(y, yb); err != nil {
			return 0, err
		}
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		right, scores := 0, out.Data().([]float64)
		for i := 0; i < batch; i++ {
			best := 0
			for c := range classes {
				if scores[i*classes+c] > scores[i*classes+best] {
					best = c
				}
			}
			if ys[(b*batch+i)*classes+best] == 1 {
				right++
			}
		}
		return right, nil
	}
	for epoch := 1; epoch <= 30; epoch++ {
		for _, p := range []*compress.NodePair{fc1, fc2} {
			if _, err := p.Threshold(1e-3); err != nil { // the vanilla solver keeps no velocity
				fmt.Println(err)
				return
			}
		}
		for b := 0; b < n/batch; b++ {
			if _, err := run(b); err != nil {
				fmt.Println(err)
				return
			}
			if err := solver.Step(gorgonia.NodesToValueGrads(learnables)); err != nil {
				fmt.Println(err)
				return
			}
		}
	}
	right := 0
	for _, p := range []*compress.NodePair{fc1, fc2} {
		if _, err := p.Threshold(1e-3); err != nil {
			fmt.Println(err)
			return
		}
	}
	for b := 0; b < n/batch; b++ {
		r, err := run(b)
		if err != nil {
			fmt.Println(err)
			return
		}
		right += r
	}
	weights, err := compress.Collapse(fc1, fc2)
	if err != nil {
		fmt.Println(err)
		return
	}
	zeros, all := 0, 0
	for _, w := range weights.All() {
		fmt.Printf("%s: %d of %d weights non-zero\n", w.Name, w.NonZero(), w.Len())
		zeros, all = zeros+w.Len()-w.NonZero(), all+w.Len()
	}
	fmt.Printf("sparsity %.0f%%\n", 100*float64(zeros)/float64(all))
	fmt.Printf("training accuracy ≥ 95%%: %v\n", float64(right)/n >= 0.95)
	// Write them as plain safetensors (or, with the biases and a spec of
	// one's own, as a models.Model with models.WriteFile).
	dir, err := os.MkdirTemp("", "spred-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := models.WriteTensorsFile(filepath.Join(dir, "mlp.safetensors"), weights); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrote mlp.safetensors")
	// Output:
	// fc1/W: 42 of 160 weights non-zero
	// fc2/W: 13 of 24 weights non-zero
	// sparsity 70%
	// training accuracy ≥ 95%: true
	// wrote mlp.safetensors
}
