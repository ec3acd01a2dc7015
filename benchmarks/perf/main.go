// Command perf times the toolkit's own spred training step: a zoo model
// with every prunable weight rewritten as u⊙v (compress.Split), SGD with
// momentum 0.9 and decay on u and v, batch 100, float32, through train.Fit
// exactly as `spred compress` runs it. It prints one JSON line: seconds per
// step and per epoch (600 steps of 100, extrapolated), peak RSS and heap
// allocations per step. With -gemm N it instead measures the float32
// matrix product N×N×N through the BLAS the graphs use, in GFLOP/s.
//
// benchmarks/perf.sh runs it against benchmarks/torch_ref.py, which
// trains the same architecture with the same parametrisation in PyTorch.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/compress"
	"github.com/spred-go/spred/dataset"
	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/models"
	"github.com/spred-go/spred/train"
)

// Result is what one run prints.
type Result struct {
	Impl     string `json:"impl"`
	Model    string `json:"model"`
	Threads  int    `json:"threads"`
	Procs    int    `json:"gomaxprocs,omitempty"`
	BLAS     string `json:"blas"`
	BLASCore string `json:"blas_core,omitempty"`
	// BLASMisdetected is the generic kernels OpenBLAS first took for this
	// CPU when it was loaded again with BLASCore (graph.BLASMisdetected).
	BLASMisdetected string  `json:"blas_misdetected,omitempty"`
	Conv            string  `json:"conv"` // the convolutions' backend (graph.ConvBackend)
	Batch           int     `json:"batch"`
	Steps           int     `json:"steps"`
	SecondsPerStep  float64 `json:"seconds_per_step"`
	StepsPerSecond  float64 `json:"steps_per_second"`
	SecondsEpoch    float64 `json:"seconds_per_epoch"`
	PeakRSSMB       float64 `json:"peak_rss_mb"`
	AllocsPerStep   float64 `json:"allocs_per_step,omitempty"`
	BytesPerStep    float64 `json:"bytes_per_step,omitempty"`
	GFLOPs          float64 `json:"gflop_per_s,omitempty"`
	EpochGFLOP      float64 `json:"epoch_gflop,omitempty"`
}

func main() {
	model := flag.String("model", "lenet-300-100", "zoo model")
	input := flag.String("input", "", "input shape of a zoo model that takes any (the ResNets), e.g. 1,28,28 (Fashion-MNIST's; the default for them)")
	steps := flag.Int("steps", 50, "timed training steps")
	warmup := flag.Int("warmup", 5, "untimed steps first")
	batch := flag.Int("batch", 100, "samples per step")
	seed := flag.Int64("seed", 1, "seed of the weights and data")
	gemmN := flag.Int("gemm", 0, "measure an N×N×N float32 matrix product instead")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	spare := flag.Bool("spare-proc", true, "raise GOMAXPROCS by one above the CPUs at work, as the spred command does (graph.SpareProc)")
	flag.Parse()
	if *spare {
		graph.SpareProc()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "perf:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var r *Result
	var err error
	if *gemmN > 0 {
		r, err = gemm(*gemmN)
	} else {
		r, err = step(*model, *input, *steps, *warmup, *batch, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	r.Impl, r.Threads, r.Procs, r.BLAS = "go", graph.CPUs(), runtime.GOMAXPROCS(0), graph.BLASBackend
	r.Conv = graph.ConvBackend
	r.BLASCore, r.BLASMisdetected = graph.BLASCore, graph.BLASMisdetected
	r.PeakRSSMB = peakRSS()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func step(name, input string, steps, warmup, batch int, seed int64) (*Result, error) {
	entry, err := models.LookupEntry(name)
	if err != nil {
		return nil, err
	}
	spec := entry.Spec
	if strings.HasPrefix(name, "resnet") && input == "" {
		input = "1,28,28"
	}
	if input != "" {
		var shape []int
		for _, f := range strings.Split(input, ",") {
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("-input %q: %v", input, err)
			}
			shape = append(shape, v)
		}
		if spec, err = entry.ForInput(shape); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewSource(seed))
	m, err := models.New(spec, tensor.Float32, rng)
	if err != nil {
		return nil, err
	}
	f, err := compress.Split(m)
	if err != nil {
		return nil, err
	}
	n := (warmup + steps) * batch
	d := &dataset.Dataset{Shape: spec.Input, Classes: spec.Classes(), X: make([]float32, n*spec.InputSize()), Y: make([]int, n)}
	for i := range d.X {
		d.X[i] = rng.Float32()
	}
	for i := range d.Y {
		d.Y[i] = rng.Intn(d.Classes)
	}
	var start time.Time
	var before, after runtime.MemStats
	var elapsed time.Duration
	hooks := train.Hooks{AfterStep: func(epoch, s, total int) error {
		switch s {
		case warmup:
			runtime.ReadMemStats(&before)
			start = time.Now()
		case total:
			elapsed = time.Since(start)
			runtime.ReadMemStats(&after)
		}
		return nil
	}}
	cfg := train.Config{Epochs: 1, Batch: batch, LR: 0.01, Momentum: 0.9, WeightDecay: 1e-4, Seed: seed, Dtype: tensor.Float32}
	if _, err := train.Fit(context.Background(), m, train.Data{Train: d}, cfg, f, hooks, nil); err != nil {
		return nil, err
	}
	if elapsed == 0 {
		return nil, fmt.Errorf("no timed steps")
	}
	per := elapsed.Seconds() / float64(steps)
	flops, err := trainingFLOPs(spec)
	if err != nil {
		return nil, err
	}
	return &Result{
		Model: name, Batch: batch, Steps: steps,
		SecondsPerStep: per, StepsPerSecond: 1 / per, SecondsEpoch: per * 60000 / float64(batch),
		AllocsPerStep: float64(after.Mallocs-before.Mallocs) / float64(steps),
		BytesPerStep:  float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
		EpochGFLOP:    flops * 60000 / 1e9,
	}, nil
}

// trainingFLOPs is the arithmetic of one training example: the forward
// multiply-adds of every dense and conv layer, twice that backward (input
// and weight gradients) less the input gradient of the layers that read the
// model's input, which nothing needs; two FLOPs per multiply-add.
// Element-wise work (u⊙v, activations, batch norm, pooling, the update) is
// left out: it is a few percent.
func trainingFLOPs(s models.Spec) (float64, error) {
	nodes, err := s.Nodes()
	if err != nil {
		return 0, err
	}
	var fwd, first float64
	for _, nd := range nodes {
		k := models.Kind(nd.Layer.Kind)
		if k.MACs == nil {
			continue
		}
		macs := float64(k.MACs(nd.Layer, nd.InShapes, nd.Out))
		fwd += macs
		if len(nd.Inputs) == 1 && nd.Inputs[0] == models.InputIndex {
			first += macs
		}
	}
	return 2 * (3*fwd - first), nil
}

// gemm times c = a·b for n×n float32 matrices through Gorgonia's BLAS.
func gemm(n int) (*Result, error) {
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	rng := rand.New(rand.NewSource(1))
	for i := range a {
		a[i], b[i] = rng.Float32(), rng.Float32()
	}
	bl := gorgonia.WhichBLAS()
	bl.Sgemm('N', 'N', n, n, n, 1, a, n, b, n, 0, c, n) // warm-up
	best := time.Duration(1 << 62)
	for i := 0; i < 5; i++ {
		t := time.Now()
		bl.Sgemm('N', 'N', n, n, n, 1, a, n, b, n, 0, c, n)
		best = min(best, time.Since(t))
	}
	return &Result{Model: fmt.Sprintf("sgemm-%d", n), GFLOPs: 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9}, nil
}

// peakRSS is the process's high-water resident set, in MB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
