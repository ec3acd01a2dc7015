package featsel

import (
	"math"

	"github.com/pkg/errors"
)

// Matrix is an n×d row-major table of float64 values: row i is
// Data[i*Cols:(i+1)*Cols].
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// Row returns row i as a sub-slice, not a copy.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// columns copies the columns cols of m into a new len(cols)-column matrix.
func (m *Matrix) columns(cols []int) *Matrix {
	out := &Matrix{Rows: m.Rows, Cols: len(cols), Data: make([]float64, m.Rows*len(cols))}
	for i := 0; i < m.Rows; i++ {
		src, dst := m.Row(i), out.Row(i)
		for k, j := range cols {
			dst[k] = src[j]
		}
	}
	return out
}

// Scaler standardises features: x ↦ (x − Mean_j)/Std_j. A constant
// column (Std_j = 0) maps to 0, so it can never be selected.
type Scaler struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// FitScaler computes the mean and the population standard deviation of
// every column of the rows idx of the row-major float32 table X with d
// columns. Only those rows are read: fitted on a training fold, the
// held-out rows leak nothing into the scaling.
func FitScaler(X []float32, d int, idx []int) (*Scaler, error) {
	if d <= 0 || len(idx) == 0 {
		return nil, errors.Errorf("featsel: cannot fit a scaler on %d rows × %d columns", len(idx), d)
	}
	s := &Scaler{Mean: make([]float64, d), Std: make([]float64, d)}
	for _, i := range idx {
		row := X[i*d : (i+1)*d]
		for j, v := range row {
			s.Mean[j] += float64(v)
		}
	}
	inv := 1 / float64(len(idx))
	for j := range s.Mean {
		s.Mean[j] *= inv
	}
	for _, i := range idx {
		row := X[i*d : (i+1)*d]
		for j, v := range row {
			r := float64(v) - s.Mean[j]
			s.Std[j] += r * r
		}
	}
	for j, v := range s.Std {
		sd := math.Sqrt(v * inv)
		// Relative to the mean's size, a spread below float32 resolution
		// is rounding, not signal.
		if !(sd > 1e-6*math.Max(1, math.Abs(s.Mean[j]))) {
			sd = 0
		}
		s.Std[j] = sd
	}
	return s, nil
}

// Constant returns the number of columns with Std 0.
func (s *Scaler) Constant() int {
	c := 0
	for _, v := range s.Std {
		if v == 0 {
			c++
		}
	}
	return c
}

// Apply returns the standardised rows idx of X (d columns) as a new
// float64 matrix.
func (s *Scaler) Apply(X []float32, d int, idx []int) *Matrix {
	m := &Matrix{Rows: len(idx), Cols: d, Data: make([]float64, len(idx)*d)}
	for r, i := range idx {
		src, dst := X[i*d:(i+1)*d], m.Row(r)
		for j, v := range src {
			if sd := s.Std[j]; sd > 0 {
				dst[j] = (float64(v) - s.Mean[j]) / sd
			}
		}
	}
	return m
}
