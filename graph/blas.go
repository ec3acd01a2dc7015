package graph

import (
	"github.com/spred-go/spred/internal/openblas"
	"github.com/spred-go/spred/internal/par"
)

// BLASBackend names the implementation of the matrix products, which
// dominate training time: "openblas" when the system's OpenBLAS shared
// library (Debian's libopenblas0) was found and loaded at start, "gonum"
// (gonum's pure-Go BLAS) otherwise. It is set once, before main runs, for
// the training graphs and the inference engine (package infer) alike.
//
// The environment variable SPRED_BLAS chooses: unset or "auto" loads
// OpenBLAS when it is installed; "gonum" never loads it; "openblas"
// requires it (BLASError says why it could not be loaded); any other value
// is the path of the shared library to load.
var BLASBackend = openblas.Backend

// BLASCore is the name of the kernels OpenBLAS chose for this CPU at load
// (such as "Haswell", "Zen" or "SkylakeX"; the environment variable
// OPENBLAS_CORETYPE, read by OpenBLAS itself, chooses instead), empty
// with gonum or when the library does not say. The products' rounding
// depends on it: the same seed gives the same bytes on machines whose
// OpenBLAS runs the same kernels (Haswell's and Zen's agree, AVX-512
// SkylakeX's differ from them in float64).
var BLASCore = openblas.Core

// BLASMisdetected is the generic kernels OpenBLAS first chose for a CPU
// it did not recognise, when the library was loaded again with the
// kernels the CPU's features call for (BLASCore); empty otherwise.
var BLASMisdetected = openblas.Misdetected

// BLASError is why OpenBLAS was not loaded when SPRED_BLAS asked for it by
// name or path; nil otherwise.
var BLASError = openblas.Error

// CPUs is the number of CPUs the graphs' ops and the inference engine
// split their loops and matrix products over: GOMAXPROCS, or the number
// SpareProc kept.
func CPUs() int { return par.CPUs() }

// SpareProc raises GOMAXPROCS by one while the ops keep to the CPUs it
// gave before (returned), which makes training on OpenBLAS faster: each
// product is a cgo call, which the Go runtime treats as a system call,
// and when one runs longer than about 20 µs with no P idle, the runtime
// takes the caller's P and starts a thread to look for other work, which
// competes with the products for the CPUs. The spred command calls it at
// start; a program that trains through this package can call it first
// thing in main (on a 2-core machine it took a LeNet-5 training step
// from 20 to 15 ms and resnet-20's from 0.40 to 0.30 s). Calling it again
// keeps the first count. Results do not depend on it.
func SpareProc() int { return par.SpareProc() }
