//go:build !amd64

package kernels

var hasAVX2 = false

func axpy32AVX2(a float32, x, y []float32, n int) {
	panic("kernels: no AVX2 loop on this architecture")
}

func transpose8x8AVX(src *float32, ss int, dst *float32, ds int) {
	panic("kernels: no AVX2 transpose on this architecture")
}

func csrBlock64AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32) {
	panic("kernels: no AVX2 CSR loop on this architecture")
}

func csrBlock8AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32) {
	panic("kernels: no AVX2 CSR loop on this architecture")
}

func csrBlock32AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32) {
	panic("kernels: no AVX2 CSR loop on this architecture")
}

func csrBlockMaskAVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32, mask *int32) {
	panic("kernels: no AVX2 CSR loop on this architecture")
}

func allFinite32AVX2(x *float32, n int) bool {
	panic("kernels: no AVX2 loop on this architecture")
}

func momentum32AVX2(w, grad, v *float32, n int, lr, mu, wd float32) {
	panic("kernels: no AVX2 loop on this architecture")
}

func biasOutRowsAVX2(dst, src *float32, rows, cols, stride int, b float32, relu bool, tail *int32) {
	panic("kernels: no AVX2 loop on this architecture")
}

func addReLUAVX2(y, a, b *float32, n int) {
	panic("kernels: no AVX2 loop on this architecture")
}

func copyRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32) {
	panic("kernels: no AVX2 loop on this architecture")
}

func addRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32) {
	panic("kernels: no AVX2 loop on this architecture")
}

func pool22PlaneAVX2(x, y *float32, arg *int32, rows, cols, w, base int, ma, mb, mo *int32) bool {
	panic("kernels: no AVX2 pooling loop on this architecture")
}

func mul32AVX2(y, a, b *float32, n int) {
	panic("kernels: no AVX2 product loop on this architecture")
}
