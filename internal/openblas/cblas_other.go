//go:build !linux && !darwin && !freebsd

package openblas

import "github.com/pkg/errors"

var openBLASNames []string

type cblas struct {
	sgemm      func(order, tA, tB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm      func(order, tA, tB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
	setThreads func(n int32)
	corename   func() string
	path       string
	handle     uintptr
}

func loadOpenBLAS([]string) (*cblas, error) {
	return nil, errors.New("OpenBLAS is loaded only on Linux, macOS and FreeBSD")
}

func reloadAs(*cblas, string) (*cblas, error) {
	return nil, errors.New("OpenBLAS is loaded only on Linux, macOS and FreeBSD")
}
