// Command infer prepares and times the pruned-inference comparison with ONNX
// Runtime that benchmarks/infer.sh runs.
//
//	infer -prepare DENSE.safetensors -dir DIR
//
// writes, for every sparsity of -sparsities (every prunable layer pruned
// by magnitude to that fraction of zeros), DIR/NAME-sSS.safetensors and the
// same model as dense ONNX (DIR/NAME-sSS.onnx), and for the highest
// sparsity also the thinned model (units with no surviving weight removed,
// models.Thin) as DIR/NAME-sSS-thin.{safetensors,onnx}; it prints one file
// name per line.
//
//	infer -time MODEL.safetensors -batch B -kernels dense|sparse|auto
//
// times this toolkit's engine (package infer, the one spred predict and
// spred eval run) on random input and prints one JSON line:
// milliseconds per batch, the median of 5 timings of enough repetitions
// for at least 100 ms. -cpuprofile FILE writes a CPU profile of the
// timings (go tool pprof).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spred-go/spred/infer"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

func main() {
	prepare := flag.String("prepare", "", "dense model file to prune and export")
	dir := flag.String("dir", "", "folder for -prepare's files")
	sparsities := flag.String("sparsities", "0,0.9,0.95,0.99", "comma-separated fractions of zeros per prunable layer")
	timeModel := flag.String("time", "", "model file to time")
	batch := flag.Int("batch", 1, "samples per forward pass")
	kernels := flag.String("kernels", "auto", "dense, sparse or auto (per layer, as spred predict)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of -time's runs to this file")
	flag.Parse()
	var err error
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "infer:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	switch {
	case *prepare != "" && *dir != "":
		err = prepareModels(*prepare, *dir, *sparsities)
	case *timeModel != "":
		err = timeEngine(*timeModel, *batch, *kernels)
	default:
		err = fmt.Errorf("give -prepare FILE -dir DIR, or -time FILE")
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "infer:", err)
		os.Exit(1)
	}
}

func prepareModels(path, dir, list string) error {
	dense, err := models.ReadFile(path)
	if err != nil {
		return err
	}
	var sps []float64
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v < 0 || v >= 1 {
			return fmt.Errorf("-sparsities: %q is not a fraction in [0, 1)", f)
		}
		sps = append(sps, v)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sort.Float64s(sps)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	write := func(base string, m *models.Model) error {
		p := filepath.Join(dir, base)
		if err := models.WriteFile(p+".safetensors", m); err != nil {
			return err
		}
		if err := interop.WriteFile(p+".onnx", m, interop.ExportOptions{}); err != nil {
			return err
		}
		fmt.Println(p)
		return nil
	}
	for i, sp := range sps {
		m := &models.Model{Spec: dense.Spec, Params: dense.Params.Clone(), Meta: dense.Meta}
		for _, p := range m.Params.All() {
			if p.Prunable {
				pruneLayer(p, sp)
			}
		}
		base := fmt.Sprintf("%s-s%02d", name, int(math.Round(sp*100)))
		if err := write(base, m); err != nil {
			return err
		}
		if i == len(sps)-1 && sp > 0 {
			thin, _, err := models.Thin(m)
			if err != nil {
				return err
			}
			if err := write(base+"-thin", thin); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneLayer zeroes the smallest-magnitude fraction sp of p's values.
func pruneLayer(p *models.Param, sp float64) {
	v := p.Float64s()
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(v[idx[a]]) < math.Abs(v[idx[b]]) })
	for _, i := range idx[:int(math.Round(sp*float64(len(v))))] {
		v[i] = 0
	}
	_ = p.SetFloat64s(v)
}

// Result is one timing.
type Result struct {
	Impl       string  `json:"impl"`
	File       string  `json:"file"`
	Kernels    string  `json:"kernels"`
	Batch      int     `json:"batch"`
	MsPerBatch float64 `json:"ms_per_batch"`
	CSRLayers  int     `json:"csr_layers"`
}

func timeEngine(path string, batch int, kernels string) error {
	m, err := models.ReadFile(path)
	if err != nil {
		return err
	}
	k, err := infer.ParseKernels(kernels)
	if err != nil {
		return err
	}
	e, err := infer.New(m, infer.Options{Batch: batch, Kernels: k})
	if err != nil {
		return err
	}
	csr := 0
	for _, p := range e.Plan() {
		if p.Sparse {
			csr++
		}
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, batch*m.Spec.InputSize())
	for i := range x {
		x[i] = rng.Float32()
	}
	run := func(reps int) (time.Duration, error) {
		t := time.Now()
		for i := 0; i < reps; i++ {
			if _, err := e.Forward(x, batch); err != nil {
				return 0, err
			}
		}
		return time.Since(t), nil
	}
	reps := 1
	for {
		d, err := run(reps)
		if err != nil {
			return err
		}
		if d > 100*time.Millisecond {
			break
		}
		reps *= 2
	}
	var ts []float64
	for r := 0; r < 5; r++ {
		d, err := run(reps)
		if err != nil {
			return err
		}
		ts = append(ts, d.Seconds()*1e3/float64(reps))
	}
	sort.Float64s(ts)
	b, _ := json.Marshal(Result{Impl: "go", File: filepath.Base(path), Kernels: k.String(), Batch: batch, MsPerBatch: ts[2], CSRLayers: csr})
	fmt.Println(string(b))
	return nil
}
