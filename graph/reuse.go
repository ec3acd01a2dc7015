package graph

import (
	"fmt"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
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

// doElementwise is the Do of an op whose forward op reads x and whose
// gradient op reads x (or the output) and dy: it checks the inputs and
// calls f32 or f64 with x and, for the gradient, dy's data.
func doElementwise[Op fmt.Stringer](op Op, arity int, grad bool, inputs []gorgonia.Value,
	f32 func(Op, []float32, any) (gorgonia.Value, error), f64 func(Op, []float64, any) (gorgonia.Value, error)) (gorgonia.Value, error) {
	if len(inputs) != arity {
		return nil, errors.Errorf("%v: %d inputs", op, len(inputs))
	}
	var dy any
	if grad {
		dy = inputs[1].Data()
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		return f32(op, x, dy)
	case []float64:
		return f64(op, x, dy)
	}
	return nil, errors.Errorf("%v: unsupported %T", op, inputs[0].Data())
}
