package graph

import (
	"runtime"
	"sync"
)

// parallel splits [0, n) into one contiguous range per available CPU and
// runs fn on the ranges concurrently. The ranges must write disjoint
// memory; the result is then the same for any number of CPUs.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
