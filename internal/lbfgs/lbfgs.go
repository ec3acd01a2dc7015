// Package lbfgs holds the part of limited-memory BFGS that the solvers of
// this module share: the ring of correction pairs and the two-loop
// recursion that turns a gradient into a quasi-Newton direction (Nocedal &
// Wright, Algorithm 7.4). Line searches, preconditioners and stopping rules
// differ between the solvers and stay with them.
package lbfgs

import "math"

// Memory keeps the newest correction pairs s = x₊ − x, y = ∇f(x₊) − ∇f(x)
// of a minimisation. The zero value is not usable; make one with New.
type Memory struct {
	s, y  [][]float64
	rho   []float64
	alpha []float64
	size  int
}

// New returns an empty memory of at most size pairs.
func New(size int) *Memory {
	return &Memory{
		s:     make([][]float64, 0, size),
		y:     make([][]float64, 0, size),
		rho:   make([]float64, 0, size),
		alpha: make([]float64, size),
		size:  size,
	}
}

// Len is the number of pairs kept.
func (m *Memory) Len() int { return len(m.s) }

// Reset forgets every pair (the next direction is H₀'s alone).
func (m *Memory) Reset() { m.s, m.y, m.rho = m.s[:0], m.y[:0], m.rho[:0] }

// Push records the step from (x, g) to (xNew, gNew). A full memory drops
// its oldest pair first; the new pair is kept only when its curvature sᵀy
// exceeds 1e-16·‖s‖·‖y‖ (otherwise the inverse-Hessian update would not
// stay positive definite), which Push reports.
func (m *Memory) Push(xNew, x, gNew, g []float64) bool {
	var s, y []float64
	if len(m.s) == m.size {
		s, y = m.s[0], m.y[0]
		copy(m.s, m.s[1:])
		copy(m.y, m.y[1:])
		copy(m.rho, m.rho[1:])
		m.s, m.y, m.rho = m.s[:m.size-1], m.y[:m.size-1], m.rho[:m.size-1]
	} else {
		s, y = make([]float64, len(x)), make([]float64, len(x))
	}
	for i := range s {
		s[i] = xNew[i] - x[i]
		y[i] = gNew[i] - g[i]
	}
	sy := Dot(s, y)
	if !(sy > 1e-16*math.Sqrt(Dot(s, s))*math.Sqrt(Dot(y, y))) {
		return false
	}
	m.s = append(m.s, s)
	m.y = append(m.y, y)
	m.rho = append(m.rho, 1/sy)
	return true
}

// Direction writes −H·g into dir, H the L-BFGS inverse-Hessian estimate
// built on H₀: between the two loops h0 is called with the intermediate
// vector q, which it must replace by H₀·q, and with the newest pair's y
// and 1/(sᵀy) (nil and 0 when the memory is empty), from which the usual
// scaling sᵀy/yᵀy is made.
func (m *Memory) Direction(g, dir []float64, h0 func(q, y []float64, rho float64)) {
	copy(dir, g)
	k := len(m.s)
	for i := k - 1; i >= 0; i-- {
		m.alpha[i] = m.rho[i] * Dot(m.s[i], dir)
		Axpy(-m.alpha[i], m.y[i], dir)
	}
	if k > 0 {
		h0(dir, m.y[k-1], m.rho[k-1])
	} else {
		h0(dir, nil, 0)
	}
	for i := 0; i < k; i++ {
		beta := m.rho[i] * Dot(m.y[i], dir)
		Axpy(m.alpha[i]-beta, m.s[i], dir)
	}
	for i := range dir {
		dir[i] = -dir[i]
	}
}

// Dot is aᵀb.
func Dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// Axpy adds alpha·x to y.
func Axpy(alpha float64, x, y []float64) {
	for i, v := range x {
		y[i] += alpha * v
	}
}
