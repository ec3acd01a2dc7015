package lasso

import "math"

// Objective returns L(b, b0) + λ‖b‖₁ for the family fam ("" means
// gaussian) on the n×d row-major X and y (see FamilyGaussian and
// FamilyBinomial for L). It does not validate its inputs: lengths must
// match (len(X) = n·d, len(y) = n, len(b) = d), and it returns NaN for an
// unknown family.
func Objective(X []float64, n, d int, y []float64, b []float64, b0 float64, fam Family, lambda float64) float64 {
	fam = fam.orDefault()
	if fam != FamilyGaussian && fam != FamilyBinomial {
		return math.NaN()
	}
	var loss float64
	for i := 0; i < n; i++ {
		row := X[i*d : (i+1)*d]
		eta := b0
		for j, x := range row {
			eta += x * b[j]
		}
		loss += pointLoss(fam, eta, y[i])
	}
	loss /= float64(n)
	var l1 float64
	for _, v := range b {
		l1 += math.Abs(v)
	}
	return loss + lambda*l1
}

// pointLoss is one sample's loss (before the 1/n).
func pointLoss(fam Family, eta, y float64) float64 {
	if fam == FamilyBinomial {
		return log1pExp(eta) - y*eta
	}
	r := eta - y
	return 0.5 * r * r
}

// log1pExp is log(1 + exp(x)) without overflow or loss of precision.
func log1pExp(x float64) float64 {
	switch {
	case x > 35:
		return x + math.Exp(-x)
	case x > -37:
		return math.Log1p(math.Exp(x))
	default:
		return math.Exp(x)
	}
}

// sigmoid is 1/(1 + exp(−x)) without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
