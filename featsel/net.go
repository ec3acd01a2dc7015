package featsel

import (
	"math"
)

// net is the objective of the gated model on a set of a feature columns z
// (n×a, standardised): mean softmax cross-entropy plus the decay.
//
// The parameter vector x holds, in order: the gate s (a values, only when
// gate is set), the first layer W1 (a×h1, row j belongs to feature j), its
// bias b1 (h1), and for the MLP head the output layer W2 (h1×c) and b2 (c).
// The linear head has h1 = c and no output layer: logits = (s⊙z)·W1 + b1.
// The MLP head is logits = relu((s⊙z)·W1 + b1)·W2 + b2.
//
// The decay is (lam/2)(‖s‖² + ‖W1‖²); biases are not decayed. The MLP's
// output layer is weight-normalised: its parameter is U and every row is
// used at unit length, W2_k = U_k/‖U_k‖. Without that, scaling W1 and b1
// down and W2 up would leave the ReLU network's function unchanged and
// drive the penalty on W1 to 0; and decaying W2 instead would make the
// origin of (s, W1, W2), a product of three factors, a local minimum for
// every λ > 0, into which the fits collapse.
type net struct {
	z      *Matrix
	y      []int
	c      int  // classes
	hidden int  // 0: linear head, else the hidden width
	gate   bool // s is a parameter; without it the first layer is W1 alone
	lam    float64

	a, h1 int
	// scratch, sized once
	v      []float64 // effective first-layer weights s_j·W1_jk (a×h1)
	pre    []float64 // n×h1
	logits []float64 // n×c
	r      []float64 // dLoss/dlogits (with the 1/n), n×c
	delta  []float64 // dLoss/dpre, n×h1
	g      []float64 // zᵀ·delta, a×h1
	w2     []float64 // the unit-row output layer, h1×c
	w2norm []float64 // ‖U_k‖
}

func newNet(z *Matrix, y []int, c, hidden int, gate bool, lam float64) *net {
	h1 := c
	if hidden > 0 {
		h1 = hidden
	}
	n, a := z.Rows, z.Cols
	nt := &net{z: z, y: y, c: c, hidden: hidden, gate: gate, lam: lam, a: a, h1: h1}
	nt.w2 = make([]float64, h1*c)
	nt.w2norm = make([]float64, h1)
	nt.v = make([]float64, a*h1)
	nt.pre = make([]float64, n*h1)
	nt.logits = make([]float64, n*c)
	nt.r = make([]float64, n*c)
	nt.delta = make([]float64, n*h1)
	nt.g = make([]float64, a*h1)
	return nt
}

// Offsets into the parameter vector.
func (nt *net) offW1() int {
	if nt.gate {
		return nt.a
	}
	return 0
}
func (nt *net) offB1() int { return nt.offW1() + nt.a*nt.h1 }
func (nt *net) offW2() int { return nt.offB1() + nt.h1 }
func (nt *net) offB2() int { return nt.offW2() + nt.h1*nt.c }
func (nt *net) size() int {
	if nt.hidden > 0 {
		return nt.offB2() + nt.c
	}
	return nt.offW2()
}

// forward computes pre and logits for the rows of z at x.
func (nt *net) forward(z *Matrix, x []float64, pre, logits []float64) {
	a, h1, c := nt.a, nt.h1, nt.c
	W1 := x[nt.offW1():nt.offB1()]
	b1 := x[nt.offB1():nt.offW2()]
	for j := 0; j < a; j++ {
		sj := 1.0
		if nt.gate {
			sj = x[j]
		}
		for k := 0; k < h1; k++ {
			nt.v[j*h1+k] = sj * W1[j*h1+k]
		}
	}
	if nt.hidden > 0 {
		U := x[nt.offW2():nt.offB2()]
		for k := 0; k < h1; k++ {
			u := U[k*c : (k+1)*c]
			nrm := math.Sqrt(dot(u, u))
			nt.w2norm[k] = nrm
			for m, v := range u {
				if nrm > 0 {
					nt.w2[k*c+m] = v / nrm
				} else {
					nt.w2[k*c+m] = 0
				}
			}
		}
	}
	for i := 0; i < z.Rows; i++ {
		p := pre[i*h1 : (i+1)*h1]
		copy(p, b1)
		for j, zij := range z.Row(i) {
			if zij == 0 {
				continue
			}
			vj := nt.v[j*h1 : (j+1)*h1]
			for k, w := range vj {
				p[k] += zij * w
			}
		}
		l := logits[i*c : (i+1)*c]
		if nt.hidden == 0 {
			copy(l, p)
			continue
		}
		W2 := nt.w2
		copy(l, x[nt.offB2():nt.offB2()+c])
		for k, pk := range p {
			if pk <= 0 {
				continue
			}
			w := W2[k*c : (k+1)*c]
			for m := range l {
				l[m] += pk * w[m]
			}
		}
	}
}

// eval returns the objective at x and, if grad is not nil, writes its
// gradient there. It leaves delta = dLoss/dpre (mean loss, no decay) for
// the KKT check of the features outside z.
func (nt *net) eval(x, grad []float64) float64 {
	z := nt.z
	n, a, h1, c := z.Rows, nt.a, nt.h1, nt.c
	nt.forward(z, x, nt.pre, nt.logits)
	inv := 1 / float64(n)
	var loss float64
	for i := 0; i < n; i++ {
		l := nt.logits[i*c : (i+1)*c]
		r := nt.r[i*c : (i+1)*c]
		mx := math.Inf(-1)
		for _, v := range l {
			mx = math.Max(mx, v)
		}
		var sum float64
		for m, v := range l {
			r[m] = math.Exp(v - mx)
			sum += r[m]
		}
		loss += mx + math.Log(sum) - l[nt.y[i]]
		for m := range r {
			r[m] *= inv / sum
		}
		r[nt.y[i]] -= inv
	}
	loss *= inv

	var pen float64
	for _, v := range x[:nt.offB1()] {
		pen += v * v
	}
	f := loss + 0.5*nt.lam*pen

	// delta = dLoss/dpre.
	if nt.hidden == 0 {
		copy(nt.delta, nt.r)
	} else {
		W2 := nt.w2
		var gW2, gb2 []float64
		if grad != nil {
			gW2 = grad[nt.offW2():nt.offB2()]
			gb2 = grad[nt.offB2() : nt.offB2()+c]
			for k := range gW2 {
				gW2[k] = 0
			}
			for m := range gb2 {
				gb2[m] = 0
			}
		}
		for i := 0; i < n; i++ {
			p := nt.pre[i*h1 : (i+1)*h1]
			r := nt.r[i*c : (i+1)*c]
			d := nt.delta[i*h1 : (i+1)*h1]
			if grad != nil {
				for m, rm := range r {
					gb2[m] += rm
				}
			}
			for k, pk := range p {
				if pk <= 0 {
					d[k] = 0
					continue
				}
				w := W2[k*c : (k+1)*c]
				var s float64
				for m, rm := range r {
					s += rm * w[m]
				}
				d[k] = s
				if grad != nil {
					g := gW2[k*c : (k+1)*c]
					for m, rm := range r {
						g[m] += pk * rm
					}
				}
			}
		}
		if grad != nil {
			// Through the normalisation: ∂/∂U_k = (I − ŵŵᵀ)·g_k/‖U_k‖.
			for k := 0; k < h1; k++ {
				g, w := gW2[k*c:(k+1)*c], W2[k*c:(k+1)*c]
				if nt.w2norm[k] == 0 {
					continue
				}
				proj := dot(g, w)
				for m := range g {
					g[m] = (g[m] - proj*w[m]) / nt.w2norm[k]
				}
			}
		}
	}
	if grad == nil {
		return f
	}

	// g = zᵀ·delta, then the first layer, the gate and b1.
	for k := range nt.g {
		nt.g[k] = 0
	}
	gb1 := grad[nt.offB1():nt.offW2()]
	for k := range gb1 {
		gb1[k] = 0
	}
	for i := 0; i < n; i++ {
		d := nt.delta[i*h1 : (i+1)*h1]
		for k, dk := range d {
			gb1[k] += dk
		}
		for j, zij := range z.Row(i) {
			if zij == 0 {
				continue
			}
			g := nt.g[j*h1 : (j+1)*h1]
			for k, dk := range d {
				g[k] += zij * dk
			}
		}
	}
	W1 := x[nt.offW1():nt.offB1()]
	gW1 := grad[nt.offW1():nt.offB1()]
	for j := 0; j < a; j++ {
		sj := 1.0
		if nt.gate {
			sj = x[j]
		}
		var gs float64
		for k := 0; k < h1; k++ {
			gjk := nt.g[j*h1+k]
			gW1[j*h1+k] = sj*gjk + nt.lam*W1[j*h1+k]
			gs += W1[j*h1+k] * gjk
		}
		if nt.gate {
			grad[j] = gs + nt.lam*x[j]
		}
	}
	return f
}

// predict returns the predicted class of every row of z (the same columns
// as the net's) at x.
func (nt *net) predict(z *Matrix, x []float64) []int {
	pre := make([]float64, z.Rows*nt.h1)
	logits := make([]float64, z.Rows*nt.c)
	nt.forward(z, x, pre, logits)
	out := make([]int, z.Rows)
	for i := range out {
		l := logits[i*nt.c : (i+1)*nt.c]
		best := 0
		for m, v := range l {
			if v > l[best] {
				best = m
			}
		}
		out[i] = best
	}
	return out
}

// groupGradients returns the d×h1 matrix G with row j = X_jᵀ·delta, the
// gradient of the mean loss with respect to the effective first-layer row
// V_j = s_j·W1_j of every column j of X (the full n×d training matrix,
// the same rows as z), with delta from the last eval. A feature outside the
// model (s_j = 0 and W1_j = 0) sits at a local minimum of the objective
// exactly when ‖G_j‖ ≤ lam: the Hessian block of (s_j, W1_j) there is
// [[lam, gᵀ], [g, lam·I]], positive semi-definite iff ‖g‖ ≤ lam.
func (nt *net) groupGradients(X *Matrix) []float64 {
	h1 := nt.h1
	g := make([]float64, X.Cols*h1)
	for i := 0; i < X.Rows; i++ {
		dl := nt.delta[i*h1 : (i+1)*h1]
		for j, xij := range X.Row(i) {
			if xij == 0 {
				continue
			}
			gj := g[j*h1 : (j+1)*h1]
			for k, dk := range dl {
				gj[k] += xij * dk
			}
		}
	}
	return g
}
