//go:build linux || darwin || freebsd

package openblas

import (
	"strings"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// openBLASNames are the shared-library names tried, in order, when
// SPRED_BLAS does not give a path: Debian's and Fedora's runtime package
// name first, then the development link, then macOS's.
var openBLASNames = []string{"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"}

// cblas holds the CBLAS entry points loaded from a shared library at run
// time (dlopen, no cgo): the plain go build uses OpenBLAS when it is
// installed. The arguments are CBLAS's, with its 32-bit integers.
type cblas struct {
	sgemm      func(order, tA, tB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm      func(order, tA, tB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
	setThreads func(n int32)
	// corename is OpenBLAS's name of the kernels it chose for the CPU
	// (nil when the library does not export it).
	corename func() string
}

// loadOpenBLAS opens the first library of paths that loads and has the
// three functions used.
func loadOpenBLAS(paths []string) (*cblas, error) {
	var errs []string
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		lib := &cblas{}
		ok := true
		for _, f := range []struct {
			ptr  any
			name string
		}{{&lib.sgemm, "cblas_sgemm"}, {&lib.dgemm, "cblas_dgemm"}, {&lib.setThreads, "openblas_set_num_threads"}} {
			sym, err := purego.Dlsym(h, f.name)
			if err != nil {
				errs = append(errs, p+": "+err.Error())
				ok = false
				break
			}
			purego.RegisterFunc(f.ptr, sym)
		}
		if ok {
			if sym, err := purego.Dlsym(h, "openblas_get_corename"); err == nil {
				purego.RegisterFunc(&lib.corename, sym)
			}
			return lib, nil
		}
		purego.Dlclose(h)
	}
	return nil, errors.Errorf("OpenBLAS not loaded (%s)", joinCapped(errs))
}

func joinCapped(errs []string) string {
	s := strings.Join(errs, "; ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
