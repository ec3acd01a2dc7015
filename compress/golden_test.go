package compress

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
)

// TestRunGolden pins the outcome of Run, bit for bit, for spred runs that
// exercise every part of the spred phase (epoch thresholding with momentum,
// Nesterov, from-scratch factors, float64, a schedule, fine-tuning): the
// SHA-256 of the output parameters and of the per-epoch history. The file
// is per BLAS backend, whose products round differently, and for OpenBLAS
// per kernel set where that rounds differently too: run-openblas-CORE.txt
// when it exists (graph.BLASCore), run-openblas.txt otherwise. go test
// -update rewrites the file used; go test -update -golden-core writes this
// machine's core's own file.
func TestRunGolden(t *testing.T) {
	data := Data{Train: sparseTask(300, 1), Test: sparseTask(90, 2)}
	cfgs := []Config{
		{Lambda: 0.06, Threshold: 1e-3, EpochThreshold: true, Epochs: 4, Batch: 30, LR: 0.1, Momentum: 0.9, Seed: 1},
		{Lambda: 0.05, Threshold: 3e-3, EpochThreshold: true, Epochs: 3, Batch: 20, LR: 0.2, Momentum: 0.9, Nesterov: true, Seed: 2,
			FinetuneEpochs: 2, FinetuneLR: 0.01},
		{Lambda: 0.01, Epochs: 3, Batch: 30, LR: 0.1, Momentum: 0.5, Seed: 5, FromScratch: true},
		{Lambda: 0.08, Threshold: 2e-3, EpochThreshold: true, Epochs: 3, Batch: 25, LR: 0.1, Momentum: 0.9, Seed: 3,
			Dtype: tensor.Float64},
	}
	cfgs[3].Schedule.Kind = "cosine"
	var b strings.Builder
	for i, cfg := range cfgs {
		m := trainedLinear(t)
		rep, err := Run(context.Background(), m, data, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, p := range m.Params.All() {
			for _, v := range p.Float64s() {
				binary.Write(h, binary.LittleEndian, math.Float64bits(v))
			}
		}
		params := fmt.Sprintf("%x", h.Sum(nil))
		h.Reset()
		for _, s := range rep.History {
			fmt.Fprintf(h, "%s %d %v %v %v %v %v %v\n", s.Phase, s.Epoch, s.LR, s.TrainLoss, s.TrainAcc, s.TestAcc, s.Sparsity, s.Imbalance)
		}
		fmt.Fprintf(&b, "run %d: %d of %d non-zero, params %s, history %x\n", i, rep.Totals.PrunableNonZero, rep.Totals.PrunableParams, params, h.Sum(nil))
	}
	path := goldenPath("run", *goldenCore)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%v (go test -update writes it for this BLAS backend)", err)
	}
	if b.String() != string(want) {
		t.Errorf("Run's results changed:\n--- got\n%s--- want (%s)\n%s", b.String(), path, want)
	}
}

var goldenCore = flag.Bool("golden-core", false, "with -update: write the golden file of this OpenBLAS kernel set (graph.BLASCore)")

// goldenPath is testdata/NAME-BACKEND.txt, or with OpenBLAS
// testdata/NAME-openblas-CORE.txt when that exists or own is set.
func goldenPath(name string, own bool) string {
	path := filepath.Join("testdata", name+"-"+graph.BLASBackend+".txt")
	if graph.BLASCore == "" {
		return path
	}
	core := filepath.Join("testdata", name+"-"+graph.BLASBackend+"-"+graph.BLASCore+".txt")
	if _, err := os.Stat(core); err == nil || own {
		return core
	}
	return path
}
