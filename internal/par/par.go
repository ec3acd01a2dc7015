// Package par runs loops over independent ranges on all CPUs.
package par

import (
	"runtime"
	"sync"
)

// For splits [0, n) into at most one contiguous range per CPU, each of at
// least grain elements, and runs fn on the ranges concurrently. The ranges
// must write disjoint memory; the result is then the same for any number of
// CPUs.
func For(n, grain int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if grain > 0 {
		workers = min(workers, n/grain)
	}
	workers = min(workers, n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/workers)
	wg.Wait()
}

// MinWork is the least work worth handing to another CPU, in units of
// about a nanosecond (a vector multiply-add, a value copied): below it,
// waking a goroutine and waiting for it costs about as much as it saves.
const MinWork = 1 << 15

// Grain is the grain for For over n items that cost work units together,
// so that each CPU gets at least MinWork of them (n: one CPU when the whole
// is below MinWork).
func Grain(n, work int) int {
	if n <= 0 || work <= MinWork {
		return max(n, 1)
	}
	return max(1, int(int64(MinWork)*int64(n)/int64(work)))
}
