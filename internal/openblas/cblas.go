//go:build linux || darwin || freebsd

package openblas

import (
	"os"
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

	path   string  // the library's path or name, as opened
	handle uintptr // dlopen's handle
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
			lib.path, lib.handle = p, h
			return lib, nil
		}
		purego.Dlclose(h)
	}
	return nil, errors.Errorf("OpenBLAS not loaded (%s)", joinCapped(errs))
}

// reloadAs closes lib and opens its library again with the environment
// variable OPENBLAS_CORETYPE set to core, which OpenBLAS reads as it
// loads, then restores the variable. On failure lib may no longer be
// usable and the caller loads the library again without it.
func reloadAs(lib *cblas, core string) (*cblas, error) {
	old, had := os.LookupEnv("OPENBLAS_CORETYPE")
	if err := os.Setenv("OPENBLAS_CORETYPE", core); err != nil {
		return nil, errors.Wrap(err, "setting OPENBLAS_CORETYPE")
	}
	defer func() {
		if had {
			os.Setenv("OPENBLAS_CORETYPE", old)
		} else {
			os.Unsetenv("OPENBLAS_CORETYPE")
		}
	}()
	if err := purego.Dlclose(lib.handle); err != nil {
		return nil, errors.Wrapf(err, "closing %s", lib.path)
	}
	return loadOpenBLAS([]string{lib.path})
}

func joinCapped(errs []string) string {
	s := strings.Join(errs, "; ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
