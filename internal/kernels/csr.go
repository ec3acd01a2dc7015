package kernels

import "github.com/spred-go/spred/internal/par"

// CSR is a sparse matrix in compressed-sparse-row form: the non-zeros of
// row i are Val[RowPtr[i]:RowPtr[i+1]], in columns Col[...], ascending.
type CSR[T float32 | float64] struct {
	Rows, Cols int
	RowPtr     []int32
	Col        []int32
	Val        []T
}

// NewCSR compresses the row-major rows×cols matrix a, keeping the entries
// that are not exactly zero.
func NewCSR[T float32 | float64](a []T, rows, cols int) *CSR[T] {
	m := &CSR[T]{Rows: rows, Cols: cols, RowPtr: make([]int32, rows+1)}
	for i := 0; i < rows; i++ {
		for j, v := range a[i*cols : (i+1)*cols] {
			if v != 0 {
				m.Col = append(m.Col, int32(j))
				m.Val = append(m.Val, v)
			}
		}
		m.RowPtr[i+1] = int32(len(m.Val))
	}
	return m
}

// NNZ is the number of stored entries.
func (m *CSR[T]) NNZ() int { return len(m.Val) }

// MulDense sets c (Rows×n) to m·b for b Cols×n, all row-major: every
// non-zero adds a scaled row of b to a row of c (Axpy). Rows of c are spread over
// the CPUs.
func (m *CSR[T]) MulDense(b []T, n int, c []T) {
	par.For(m.Rows, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ci := c[i*n : (i+1)*n]
			clear(ci)
			for p := m.RowPtr[i]; p < m.RowPtr[i+1]; p++ {
				v, bj := m.Val[p], b[int(m.Col[p])*n:][:n]
				if n >= axpyMin {
					Axpy(v, bj, ci)
					continue
				}
				for q, x := range bj { // short rows: no call
					ci[q] += v * x
				}
			}
		}
	})
}

// DenseMul sets c (rows×Cols) to x·m for x rows×Rows, all row-major: for
// every non-zero x[r,k], row k of m is scattered into row r of c (zeros of
// x, common after a ReLU, cost nothing). Rows of c are spread over the CPUs.
func (m *CSR[T]) DenseMul(x []T, rows int, c []T) {
	par.For(rows, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			cr := c[r*m.Cols : (r+1)*m.Cols]
			clear(cr)
			for k, xv := range x[r*m.Rows : (r+1)*m.Rows] {
				if xv == 0 {
					continue
				}
				lo, hi := m.RowPtr[k], m.RowPtr[k+1]
				cols, vals := m.Col[lo:hi], m.Val[lo:hi]
				for p, j := range cols {
					cr[j] += xv * vals[p]
				}
			}
		}
	})
}
