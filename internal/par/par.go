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
