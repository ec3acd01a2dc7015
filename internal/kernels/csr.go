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
	if n == 1 {
		par.For(m.Rows, par.Grain(m.Rows, m.NNZ()), func(lo, hi int) { m.mulVec(b, c, lo, hi) })
		return
	}
	if m32, ok := any(m).(*CSR[float32]); ok && hasAVX2 && n >= 8 {
		b32, c32 := any(b).([]float32), any(c).([]float32)
		_, _ = b32[m.Cols*n-1], c32[m.Rows*n-1]
		par.For(m.Rows, par.Grain(m.Rows, m.NNZ()*n/4), func(lo, hi int) { m32.mulBlocks(b32, n, c32, lo, hi) })
		return
	}
	par.For(m.Rows, par.Grain(m.Rows, m.NNZ()*n), func(lo, hi int) {
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

// mulBlocks is MulDense for the rows [lo, hi) in AVX2 blocks: each row of
// c is summed 64, 32 or 8 columns at a time in registers over the row's
// entries, in their order from zero (the rounding of clear then Axpy), the
// last n mod 8 columns under a mask. b holds Cols rows of n.
func (m *CSR[T]) mulBlocks(b []float32, n int, c []float32, lo, hi int) {
	val, col := any(m.Val).([]float32), m.Col
	n64, n32, n8 := n&^63, n&^31, n&^7
	var mask [8]int32
	for q := range n - n8 {
		mask[q] = -1
	}
	for i := lo; i < hi; i++ {
		ci := c[i*n : (i+1)*n]
		p0, p1 := m.RowPtr[i], m.RowPtr[i+1]
		if p0 == p1 {
			clear(ci)
			continue
		}
		v, k, nnz := &val[p0], &col[p0], int(p1-p0)
		j := 0
		for ; j < n64; j += 64 {
			csrBlock64AVX2(v, k, nnz, &b[j], n, &ci[j])
		}
		if j < n32 {
			csrBlock32AVX2(v, k, nnz, &b[j], n, &ci[j])
			j += 32
		}
		for ; j < n8; j += 8 {
			csrBlock8AVX2(v, k, nnz, &b[j], n, &ci[j])
		}
		if j < n {
			csrBlockMaskAVX2(v, k, nnz, &b[j], n, &ci[j], &mask[0])
		}
	}
}

// mulVec sets c[i] = Σ_p Val[p]·b[Col[p]] for the rows i in [lo, hi): the
// product with one column. Each row's sum is a chain of dependent additions
// (accumulated in the order of its entries from zero, rounded exactly as
// MulDense rounds every column when n > 1), so four rows are summed at a
// time, interleaved, for the CPU to overlap their chains.
func (m *CSR[T]) mulVec(b, c []T, lo, hi int) {
	rp, col, val := m.RowPtr, m.Col, m.Val
	i := lo
	for ; i+4 <= hi; i += 4 {
		p0, p1, p2, p3 := rp[i], rp[i+1], rp[i+2], rp[i+3]
		e0, e1, e2, e3 := p1, p2, p3, rp[i+4]
		k := min(e0-p0, e1-p1, e2-p2, e3-p3)
		var s0, s1, s2, s3 T
		for q := int32(0); q < k; q++ {
			s0 += val[p0+q] * b[col[p0+q]]
			s1 += val[p1+q] * b[col[p1+q]]
			s2 += val[p2+q] * b[col[p2+q]]
			s3 += val[p3+q] * b[col[p3+q]]
		}
		c[i] = rowTail(s0, val[p0+k:e0], col[p0+k:e0], b)
		c[i+1] = rowTail(s1, val[p1+k:e1], col[p1+k:e1], b)
		c[i+2] = rowTail(s2, val[p2+k:e2], col[p2+k:e2], b)
		c[i+3] = rowTail(s3, val[p3+k:e3], col[p3+k:e3], b)
	}
	for ; i < hi; i++ {
		c[i] = rowTail(0, val[rp[i]:rp[i+1]], col[rp[i]:rp[i+1]], b)
	}
}

// rowTail adds Σ vals[p]·b[cols[p]] to s, in order.
func rowTail[T float32 | float64](s T, vals []T, cols []int32, b []T) T {
	cols = cols[:len(vals)]
	for p, v := range vals {
		s += v * b[cols[p]]
	}
	return s
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
