package featsel

import (
	"context"
	"math"
	"testing"

	"github.com/spred-go/spred/lasso"
)

// TestGateIsL1Logistic: with two classes the linear gated head is an exact
// L1-logistic regression. Its logit difference is b_j = V_j2 − V_j1 with
// V_j = s_j·W1_j, and min ‖V_j‖ subject to V_j2 − V_j1 = b_j is |b_j|/√2,
// so the group lasso at λ is the Lasso at λ/√2. The spred fit (working
// set, thresholding) must find lasso.Solve's support and coefficients.
func TestGateIsL1Logistic(t *testing.T) {
	X, y := synthetic(120, 300, 2, []int{0, 10, 20, 30, 40}, 3)
	yf := make([]float64, len(y))
	for i, v := range y {
		yf[i] = float64(v)
	}
	p := problem{X: X, y: y, c: 2}
	for _, lam := range []float64{0.15, 0.08, 0.04} {
		f, err := spredFit(context.Background(), p, Config{}, lam, nil)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := lasso.Solve(context.Background(), X.Data, X.Rows, X.Cols, yf,
			lasso.Config{Family: lasso.FamilyBinomial, Lambda: lam / math.Sqrt2, Intercept: true})
		if err != nil {
			t.Fatal(err)
		}
		a := len(f.feats)
		got := make([]float64, X.Cols)
		for k, j := range f.feats {
			got[j] = f.x[k] * (f.x[a+2*k+1] - f.x[a+2*k])
		}
		maxErr, maxB := 0.0, 0.0
		for j, b := range ref.Coef {
			if (b != 0) != (got[j] != 0) {
				t.Errorf("λ=%g feature %d: spred %g, lasso %g", lam, j, got[j], b)
			}
			maxErr = math.Max(maxErr, math.Abs(got[j]-b))
			maxB = math.Max(maxB, math.Abs(b))
		}
		t.Logf("λ=%g: %d non-zero (lasso %d), max |b − b_lasso| = %.2g (max |b| %.3g)", lam, a, ref.NonZero, maxErr, maxB)
		if a != ref.NonZero || maxErr > 1e-6*math.Max(1, maxB) {
			t.Errorf("λ=%g: %d features, lasso %d; max coefficient error %g", lam, a, ref.NonZero, maxErr)
		}
	}
}

// TestSelectCoefAgree: through Select, spred-linear at λ and l1-logistic at
// λ/√2 report the same features with the same signed coefficients.
func TestSelectCoefAgree(t *testing.T) {
	X, y := synthetic(100, 200, 2, []int{5, 6, 7}, 9)
	a, err := Select(context.Background(), X, y, 2, Config{Lambda: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Select(context.Background(), X, y, 2, Config{Method: MethodL1Logistic, Lambda: 0.1 / math.Sqrt2})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Features) == 0 || len(a.Features) != len(b.Features) {
		t.Fatalf("spred %v, l1-logistic %v", a.Features, b.Features)
	}
	for r := range a.Features {
		if a.Features[r] != b.Features[r] || math.Abs(a.Coef[r]-b.Coef[r]) > 1e-6 {
			t.Errorf("rank %d: spred feature %d coef %g, l1-logistic feature %d coef %g", r, a.Features[r], a.Coef[r], b.Features[r], b.Coef[r])
		}
	}
}
