package train

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/graph"
	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
	"github.com/spred-go/spred/models"
)

// SGD is stochastic gradient descent with momentum and decoupled-from-Gorgonia
// weight decay (see the package documentation for the exact update). Its
// velocity buffers are keyed by learnable name, so they follow a parameter
// across graphs.
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	// L1 adds L1·sign(w) (sign(0) = 0) to the gradient of every decayed
	// learnable: subgradient descent on the penalty L1·‖w‖₁.
	L1 float64
	// Scale multiplies WeightDecay and L1 for the decayed learnables it
	// names (a name it does not hold: 1), for a penalty per layer.
	Scale map[string]float64

	vel map[string]interface{}
}

// Step updates every learnable in place with its gradient at learning rate
// lr.
func (o *SGD) Step(ls []*graph.Learnable, grads []*tensor.Dense, lr float64) error {
	if len(ls) != len(grads) {
		return errors.Errorf("%d learnables, %d gradients", len(ls), len(grads))
	}
	if o.vel == nil {
		o.vel = map[string]interface{}{}
	}
	for i, l := range ls {
		wd, l1 := 0.0, 0.0
		if l.Decay {
			wd, l1 = o.WeightDecay, o.L1
			if f, ok := o.Scale[l.Name]; ok {
				wd, l1 = wd*f, l1*f
			}
		}
		switch w := l.Value.Data().(type) {
		case []float32:
			g, ok := grads[i].Data().([]float32)
			if !ok || len(g) != len(w) {
				return errors.Errorf("gradient of %q does not match its value", l.Name)
			}
			v := velocity[float32](o, l.Name, len(w))
			update(w, g, v, float32(lr), float32(o.Momentum), float32(wd), float32(l1), o.Nesterov)
		case []float64:
			g, ok := grads[i].Data().([]float64)
			if !ok || len(g) != len(w) {
				return errors.Errorf("gradient of %q does not match its value", l.Name)
			}
			v := velocity[float64](o, l.Name, len(w))
			update(w, g, v, lr, o.Momentum, wd, l1, o.Nesterov)
		default:
			return errors.Errorf("learnable %q has unsupported storage %T", l.Name, w)
		}
	}
	return nil
}

// Velocity returns the momentum buffer of the named learnable as float64
// (nil before its first step).
func (o *SGD) Velocity(name string) []float64 {
	return models.Float64s(o.vel[name])
}

// ZeroVelocity sets the momentum of the listed entries of the named
// learnable to zero; a learnable that has no momentum buffer yet is left
// alone, and so is everything on a nil *SGD. Indices out of range are
// ignored.
func (o *SGD) ZeroVelocity(name string, idx []int) {
	if o == nil {
		return
	}
	switch v := o.vel[name].(type) {
	case []float32:
		for _, i := range idx {
			if i >= 0 && i < len(v) {
				v[i] = 0
			}
		}
	case []float64:
		for _, i := range idx {
			if i >= 0 && i < len(v) {
				v[i] = 0
			}
		}
	}
}

func velocity[T float32 | float64](o *SGD, name string, n int) []T {
	if v, ok := o.vel[name].([]T); ok && len(v) == n {
		return v
	}
	v := make([]T, n)
	o.vel[name] = v
	return v
}

// updateGrain is the fewest elements per worker of an update: like the
// product u⊙v (graph's productGrain) it is bound by memory, and split in
// halves it made a LeNet-300-100 spred step slower on two cores.
const updateGrain = 1 << 20

// update applies one step to w in place, spread over the CPUs in
// contiguous ranges of at least updateGrain (every element is independent,
// so the result does not depend on the split).
func update[T float32 | float64](w, g, v []T, lr, mu, wd, l1 T, nesterov bool) {
	par.For(len(w), updateGrain, func(lo, hi int) {
		w, g, v := w[lo:hi], g[lo:hi], v[lo:hi]
		if mu != 0 && !nesterov && l1 == 0 {
			momentum(w, g, v, lr, mu, wd)
			return
		}
		updateRange(w, g, v, lr, mu, wd, l1, nesterov)
	})
}

// momentum is updateRange for the common case: heavy-ball momentum, no L1.
func momentum[T float32 | float64](w, g, v []T, lr, mu, wd T) {
	g, v = g[:len(w)], v[:len(w)]
	if wd == 0 {
		for i := range w {
			v[i] = mu*v[i] + g[i]
			w[i] -= lr * v[i]
		}
		return
	}
	kernels.Momentum(w, g, v, lr, mu, wd)
}

func updateRange[T float32 | float64](w, g, v []T, lr, mu, wd, l1 T, nesterov bool) {
	for i := range w {
		d := g[i]
		if wd != 0 {
			d += wd * w[i]
		}
		if l1 != 0 {
			switch {
			case w[i] > 0:
				d += l1
			case w[i] < 0:
				d -= l1
			}
		}
		if mu != 0 {
			v[i] = mu*v[i] + d
			if nesterov {
				d += mu * v[i]
			} else {
				d = v[i]
			}
		}
		w[i] -= lr * d
	}
}

// SetVelocity replaces the momentum buffer of the named learnable (stored as
// float32 when f32 is set), for resuming a run.
func (o *SGD) SetVelocity(name string, f32 bool, v []float64) {
	if o.vel == nil {
		o.vel = map[string]interface{}{}
	}
	if f32 {
		b := make([]float32, len(v))
		for i, x := range v {
			b[i] = float32(x)
		}
		o.vel[name] = b
		return
	}
	o.vel[name] = append([]float64(nil), v...)
}
