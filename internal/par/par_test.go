package par

import (
	"runtime"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 5} {
		old := runtime.GOMAXPROCS(procs)
		for _, c := range []struct{ n, grain int }{{0, 0}, {1, 0}, {7, 0}, {1000, 10}, {1000, 600}, {3, 100}} {
			hits := make([]int32, c.n)
			For(c.n, c.grain, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("GOMAXPROCS %d, n %d grain %d: index %d visited %d times", procs, c.n, c.grain, i, h)
				}
			}
		}
		runtime.GOMAXPROCS(old)
	}
}
