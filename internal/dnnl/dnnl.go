// Package dnnl runs 2-d float32 convolutions, forward and both gradients,
// on oneDNN (Intel's Deep Neural Network Library, the convolutions PyTorch
// runs on x86) loaded at run time from the system's shared library
// (Debian's libdnnl2, a dependency of python3-torch), without cgo: dlopen
// through purego, as package openblas loads OpenBLAS.
//
// The caller's tensors stay in its layouts, activations NCHW and weights
// OIHW. oneDNN's direct convolutions run on channels-last (NHWC)
// activations and on the weight layout oneDNN picks for the CPU; on NCHW
// it falls back to im2col and matrix products, slower than package graph's
// own. A Conv therefore reorders: the input and the output gradient into
// NHWC, the output and the input gradient back, and the weights both ways.
// The reordered input of the last Forward is kept for BackwardWeights.
//
// Only oneDNN 2.x (soname libdnnl.so.2) is loaded: its C API passes
// operation descriptors by pointer, which later major versions replaced.
//
// oneDNN splits a convolution over its OpenMP threads, and the split of
// a weight gradient's sums decides its rounding. So that the same seed
// gives the same bits whatever the machine's CPUs, the package sets
// OMP_NUM_THREADS to Threads (2) before it loads the library, unless the
// variable is already set, and OMP_WAIT_POLICY to PASSIVE likewise (its
// threads then sleep between convolutions instead of spinning against
// the Go workers of package par that run the loops between them).
package dnnl

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
)

// Threads is the number of OpenMP threads oneDNN runs on unless
// OMP_NUM_THREADS says otherwise.
const Threads = 2

// Names of the library tried in order.
var libNames = []string{"libdnnl.so.2"}

// lib holds the entry points; nil until load succeeds.
var (
	loadOnce sync.Once
	lib      *api
	loadErr  error
	version  string
)

// Load opens the library once and reports why it could not be used.
// Every other function calls it.
func Load() error {
	loadOnce.Do(func() { lib, version, loadErr = open() })
	return loadErr
}

// Version is the loaded library's version ("2.6.3") and its threading
// runtime, empty when it is not loaded.
func Version() string {
	if Load() != nil {
		return ""
	}
	return version
}

// status codes of dnnl_status_t.
const success = 0

// The enumeration values of oneDNN 2.x's dnnl_types.h.
const (
	dtF32 = 3

	tagAny  = 1
	tagX    = 2
	tagNCHW = 5 // abcd: also OIHW
	tagNHWC = 20

	propForwardTraining = 64
	propBackwardData    = 160
	propBackwardWeights = 192
	algConvDirect       = 1

	engineCPU          = 1
	streamDefaultFlags = 1

	argSrc         = 1
	argDst         = 17
	argWeights     = 33
	argBias        = 41
	argDiffSrc     = 129
	argDiffDst     = 145
	argDiffWeights = 161
	argFrom        = argSrc
	argTo          = argDst

	querySrcMD         = 129
	queryDiffSrcMD     = 130
	queryWeightsMD     = 131
	queryDiffWeightsMD = 132
	queryDstMD         = 133
	queryDiffDstMD     = 134
	queryImplInfoStr   = 8

	runtimeOMP = 2
)

// memoryAllocate is DNNL_MEMORY_ALLOCATE: the library allocates the buffer.
const memoryAllocate = ^uintptr(0)

// The opaque structures oneDNN fills in place, sized with room to spare
// over oneDNN 2.6's (696 and 5976 bytes).
type (
	memDesc  [128]uint64
	convDesc [1024]uint64
	dims     [12]int64
)

type execArg struct {
	arg int32
	_   int32
	mem uintptr
}

// dnnlVersion is dnnl_version_t.
type dnnlVersion struct {
	major, minor, patch int32
	_                   int32
	hash                *byte
	cpuRuntime          uint32
	gpuRuntime          uint32
}

type api struct {
	version              func() *dnnlVersion
	engineCreate         func(eng *uintptr, kind int32, index uintptr) int32
	streamCreate         func(str *uintptr, eng uintptr, flags uint32) int32
	streamDestroy        func(str uintptr) int32
	streamWait           func(str uintptr) int32
	mdInitByTag          func(md *memDesc, ndims int32, d *dims, dt int32, tag int32) int32
	mdEqual              func(a, b unsafe.Pointer) int32
	mdGetSize            func(md unsafe.Pointer) uintptr
	convForwardDescInit  func(cd *convDesc, prop, alg int32, src, wei, bias, dst *memDesc, strides, padL, padR *dims) int32
	convBackDataDescInit func(cd *convDesc, alg int32, diffSrc, wei, diffDst *memDesc, strides, padL, padR *dims) int32
	convBackWeiDescInit  func(cd *convDesc, alg int32, src, diffWei, diffBias, diffDst *memDesc, strides, padL, padR *dims) int32
	pdCreate             func(pd *uintptr, opDesc unsafe.Pointer, attr, eng, hint uintptr) int32
	pdDestroy            func(pd uintptr) int32
	pdQueryMD            func(pd uintptr, what int32, index int32) unsafe.Pointer
	pdQuery              func(pd uintptr, what int32, index int32, result unsafe.Pointer) int32
	reorderPDCreate      func(pd *uintptr, src unsafe.Pointer, srcEng uintptr, dst unsafe.Pointer, dstEng uintptr, attr uintptr) int32
	primitiveCreate      func(p *uintptr, pd uintptr) int32
	primitiveDestroy     func(p uintptr) int32
	primitiveExecute     func(p, str uintptr, nargs int32, args *execArg) int32
	memoryCreate         func(m *uintptr, md unsafe.Pointer, eng uintptr, handle uintptr) int32
	memoryDestroy        func(m uintptr) int32
	memorySetHandle      func(m uintptr, handle unsafe.Pointer) int32

	engine uintptr
}

// open sets the OpenMP environment, loads the library and creates its
// CPU engine.
func open() (*api, string, error) {
	for k, v := range map[string]string{"OMP_NUM_THREADS": strconv.Itoa(Threads), "OMP_WAIT_POLICY": "PASSIVE"} {
		if _, set := os.LookupEnv(k); !set {
			if err := os.Setenv(k, v); err != nil {
				return nil, "", errors.Wrapf(err, "setting %s", k)
			}
		}
	}
	a, err := dlopen(libNames)
	if err != nil {
		return nil, "", err
	}
	v := a.version()
	if v == nil || v.major != 2 {
		return nil, "", errors.Errorf("oneDNN not used: version %v, want 2.x", v)
	}
	rt := "threads"
	if v.cpuRuntime == runtimeOMP {
		rt = "OpenMP"
	}
	if st := a.engineCreate(&a.engine, engineCPU, 0); st != success {
		return nil, "", errors.Errorf("oneDNN: creating the CPU engine: status %d", st)
	}
	return a, fmt.Sprintf("%d.%d.%d (%s, %s threads)", v.major, v.minor, v.patch, rt, threadCount()), nil
}

// threadCount is OMP_NUM_THREADS as oneDNN read it.
func threadCount() string {
	if v := os.Getenv("OMP_NUM_THREADS"); v != "" {
		return v
	}
	return strconv.Itoa(runtime.NumCPU())
}

func check(st int32, what string) error {
	if st != success {
		return errors.Errorf("oneDNN: %s: status %d", what, st)
	}
	return nil
}
