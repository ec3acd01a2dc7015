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

func TestGrain(t *testing.T) {
	for _, c := range []struct{ n, work, want int }{
		{0, 0, 1}, {10, 0, 10}, {10, MinWork, 10}, // too little work: one range
		{10, 2 * MinWork, 5}, {10, 10 * MinWork, 1}, {1000, 4 * MinWork, 250},
		{3, 1 << 40, 1},
	} {
		if g := Grain(c.n, c.work); g != c.want {
			t.Errorf("Grain(%d, %d) = %d, want %d", c.n, c.work, g, c.want)
		}
	}
}
