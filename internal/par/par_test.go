package par

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// TestForNested checks that a For inside another For's ranges, whose
// workers are busy, still covers every index once (on the caller).
func TestForNested(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	const n, m = 8, 100
	hits := make([]int32, n*m)
	For(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			For(m, 1, func(a, b int) {
				for j := a; j < b; j++ {
					hits[i*m+j]++
				}
			})
		}
	})
	for k, h := range hits {
		if h != 1 {
			t.Fatalf("index %d visited %d times", k, h)
		}
	}
}

// TestForConcurrentCallers runs For from several goroutines at once, many
// times, with pauses longer than the workers' spinning between some calls
// so that they park and are woken: every index of every call once.
func TestForConcurrentCallers(t *testing.T) {
	old := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(old)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 300; r++ {
				if r%50 == 0 {
					time.Sleep(2 * spinFor)
				}
				n := 1 + (r*7+g)%64
				hits := make([]int32, n)
				For(n, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						errs <- fmt.Sprintf("goroutine %d call %d: index %d of %d visited %d times", g, r, i, n, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

var sink float32

// benchmarkGap sums n floats every 50 µs, as a training step's loops come
// between its matrix products, on one range (serial) or through For.
func benchmarkGap(b *testing.B, n int, split bool) {
	x := make([]float32, n)
	sums := make([]float32, 2)
	sum := func(lo, hi int) {
		s := float32(0)
		for _, v := range x[lo:hi] {
			s += v
		}
		sums[lo*2/n] += s
	}
	for i := 0; i < b.N; i++ {
		for t := time.Now(); time.Since(t) < 50*time.Microsecond; {
		}
		if split {
			For(n, n/2, sum)
		} else {
			sum(0, n)
		}
	}
	sink = sums[0] + sums[1]
}

func BenchmarkGapSerial16k(b *testing.B)  { benchmarkGap(b, 1<<14, false) }
func BenchmarkGapFor16k(b *testing.B)     { benchmarkGap(b, 1<<14, true) }
func BenchmarkGapSerial256k(b *testing.B) { benchmarkGap(b, 1<<18, false) }
func BenchmarkGapFor256k(b *testing.B)    { benchmarkGap(b, 1<<18, true) }

// TestSpareProc checks that SpareProc adds a P and keeps For to the CPUs
// GOMAXPROCS gave: For(n, 1, …) then makes that many ranges, not one per P.
func TestSpareProc(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer func() {
		limit.Store(0)
		runtime.GOMAXPROCS(old)
	}()
	if n := SpareProc(); n != 2 {
		t.Fatalf("SpareProc() = %d, want 2", n)
	}
	if p := runtime.GOMAXPROCS(0); p != 3 {
		t.Fatalf("GOMAXPROCS %d after SpareProc, want 3", p)
	}
	if n := SpareProc(); n != 2 || runtime.GOMAXPROCS(0) != 3 {
		t.Fatalf("a second SpareProc gave %d CPUs and GOMAXPROCS %d, want 2 and 3", n, runtime.GOMAXPROCS(0))
	}
	if c := CPUs(); c != 2 {
		t.Fatalf("CPUs() = %d, want 2", c)
	}
	var mu sync.Mutex
	var ranges [][2]int
	For(90, 1, func(lo, hi int) {
		mu.Lock()
		ranges = append(ranges, [2]int{lo, hi})
		mu.Unlock()
	})
	if len(ranges) != 2 {
		t.Fatalf("For made ranges %v, want 2", ranges)
	}
	runtime.GOMAXPROCS(1) // fewer Ps than kept: For follows GOMAXPROCS
	if c := CPUs(); c != 1 {
		t.Fatalf("CPUs() = %d at GOMAXPROCS 1, want 1", c)
	}
}
