//go:build !linux

package par

import "runtime"

// osYield gives the CPU to another goroutine ready to run, if there is one.
func osYield() { runtime.Gosched() }
