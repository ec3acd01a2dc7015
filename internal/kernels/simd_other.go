//go:build !amd64

package kernels

var hasAVX2 = false

func axpy32AVX2(a float32, x, y []float32, n int) {
	panic("kernels: no AVX2 loop on this architecture")
}

func transpose8x8AVX(src *float32, ss int, dst *float32, ds int) {
	panic("kernels: no AVX2 transpose on this architecture")
}
