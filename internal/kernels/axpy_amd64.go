package kernels

import "golang.org/x/sys/cpu"

// hasAVX2: the float32 Axpy runs its 8-wide assembly loop.
var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func axpy32AVX2(a float32, x, y []float32, n int)
