package lbfgs

import (
	"math"
	"math/rand"
	"testing"
)

// TestDirectionSecant checks the defining property of the update: the
// estimate H maps the newest y onto the newest s (H·y = s), whatever H₀
// and the older pairs, so Direction(y) = −s.
func TestDirectionSecant(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const n = 7
	// A symmetric positive definite A gives pairs with y = A·s.
	A := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := rng.NormFloat64() * 0.3
			A[i*n+j], A[j*n+i] = v, v
		}
		A[i*n+i] += 3
	}
	mul := func(x []float64) []float64 {
		y := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				y[i] += A[i*n+j] * x[j]
			}
		}
		return y
	}
	scale := func(q, y []float64, rho float64) {
		gamma := 0.5
		if y != nil {
			gamma = 1 / (rho * Dot(y, y))
		}
		for i := range q {
			q[i] *= gamma
		}
	}
	m := New(4)
	x := make([]float64, n)
	g := mul(x)
	for step := 0; step < 9; step++ {
		xNew := make([]float64, n)
		for i := range xNew {
			xNew[i] = x[i] + rng.NormFloat64()
		}
		gNew := mul(xNew)
		if !m.Push(xNew, x, gNew, g) {
			t.Fatalf("step %d: a pair of positive curvature was refused", step)
		}
		if want := min(step+1, 4); m.Len() != want {
			t.Fatalf("step %d: %d pairs kept, want %d", step, m.Len(), want)
		}
		s, y := make([]float64, n), make([]float64, n)
		for i := range s {
			s[i], y[i] = xNew[i]-x[i], gNew[i]-g[i]
		}
		dir := make([]float64, n)
		m.Direction(y, dir, scale)
		for i := range dir {
			if math.Abs(dir[i]+s[i]) > 1e-9*(1+math.Abs(s[i])) {
				t.Fatalf("step %d: H·y ≠ s at %d: %g against %g", step, i, -dir[i], s[i])
			}
		}
		x, g = xNew, gNew
	}
}

// TestEmptyMemory checks that without pairs the direction is −H₀·g and
// that a pair of non-positive curvature is refused (after the oldest pair
// of a full memory was dropped).
func TestEmptyMemory(t *testing.T) {
	m := New(1)
	g := []float64{1, -2, 3}
	dir := make([]float64, 3)
	m.Direction(g, dir, func(q, y []float64, rho float64) {
		if y != nil || rho != 0 {
			t.Errorf("empty memory passed y %v, rho %v", y, rho)
		}
		for i := range q {
			q[i] *= 2
		}
	})
	for i, want := range []float64{-2, 4, -6} {
		if dir[i] != want {
			t.Fatalf("direction %v, want [-2 4 -6]", dir)
		}
	}
	zero := []float64{0, 0, 0}
	if !m.Push([]float64{1, 0, 0}, zero, []float64{1, 0, 0}, zero) {
		t.Fatal("positive curvature refused")
	}
	if m.Push([]float64{1, 0, 0}, zero, []float64{-1, 0, 0}, zero) {
		t.Fatal("negative curvature kept")
	}
	if m.Len() != 0 {
		t.Fatalf("%d pairs after a full memory refused a pair, want 0 (the oldest is dropped first)", m.Len())
	}
	m.Push([]float64{1, 0, 0}, zero, []float64{1, 0, 0}, zero)
	m.Reset()
	if m.Len() != 0 {
		t.Fatal("Reset kept pairs")
	}
}
