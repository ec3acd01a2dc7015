package graph

import (
	"sync"

	"gorgonia.org/tensor"
)

// reuse is the output of one of this package's ops, kept from run to run.
//
// Allocating a fresh output on every run costs more than the arithmetic of
// the cheap ops: the Go runtime hands large allocations back to the OS, so
// every run takes page faults on memory it then zeroes. A value a run
// produces is only read within that run (the next run recomputes it before
// anything reads it), and Session copies out what it returns, so the op can
// write into the same tensor every time.
type reuse struct {
	mu sync.Mutex
	t  *tensor.Dense
}

// output returns the op's output tensor of the given shape and its data,
// allocating it on first use or when shape or type change. The contents
// are what the last run left: the caller overwrites or clears them.
func output[T float32 | float64](r *reuse, shape tensor.Shape) (*tensor.Dense, []T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.t != nil && r.t.Shape().Eq(shape) {
		if d, ok := r.t.Data().([]T); ok {
			return r.t, d
		}
	}
	d := make([]T, shape.TotalSize())
	r.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(d))
	return r.t, d
}
