// Package par runs loops over independent ranges on all CPUs.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For splits [0, n) into at most one contiguous range per CPU (CPUs), each
// of at least grain elements, and runs fn on the ranges concurrently. The
// ranges must write disjoint memory; the result is then the same for any
// number of CPUs.
//
// The caller runs the first range, then any range whose worker has not
// started it yet: a worker woken late is taken back rather than waited
// for. The workers keep running for a while after each range (spinFor),
// waiting for the next: on the 2-core machines this toolkit is measured
// on, waking a parked thread took longer than the 0.1–1 ms loops of a
// training step. A worker busy elsewhere (For called from inside another
// For's fn, or by two goroutines at once) is not used. (Four ranges per
// CPU, taken in turn, made LeNet-5's step 4% slower than one and
// resnet-20's 7% slower: each CPU's share of a product is then smaller
// and less of its data is in its own cache.)
func For(n, grain int, fn func(lo, hi int)) {
	cpus := CPUs()
	ranges := min(n, cpus)
	if grain > 0 {
		ranges = min(ranges, n/grain)
	}
	if cpus <= 1 || ranges <= 1 {
		fn(0, n)
		return
	}
	k := ranges - 1 // ranges for workers
	ws := pool(k)
	b := batches.Get().(*batch)
	defer batches.Put(b)
	b.fn, b.n, b.ranges = fn, n, int32(ranges)
	b.next.Store(0)
	b.done.Store(0)
	if cap(b.jobs) < k {
		b.jobs = make([]job, k)
	}
	js := b.jobs[:k]
	given := 0
	for i := range k {
		js[given] = job{b: b, w: ws[i]}
		if ws[i].give(&js[given]) {
			given++
		}
	}
	js = js[:given]
	b.run()
	left := int32(given)
	for i := range js {
		if js[i].w.slot.CompareAndSwap(&js[i], nil) {
			js[i].w.busy.Store(false) // taken back before it started
			left--
		}
	}
	for spins := 0; b.done.Load() != left; spins++ {
		if spins >= 64 {
			osYield()
		}
	}
	b.fn = nil // which the pool would keep alive
	clear(b.jobs[:k])
}

// CPUs is the number of CPUs For runs ranges on: GOMAXPROCS, or the
// CPUs SpareProc kept when it raised GOMAXPROCS.
func CPUs() int {
	c := runtime.GOMAXPROCS(0)
	if l := int(limit.Load()); l > 0 {
		c = min(c, l)
	}
	return c
}

var limit atomic.Int32

// SpareProc raises GOMAXPROCS by one and keeps For on the CPUs it gave
// before, and returns that number. Each OpenBLAS product is a cgo call,
// which the Go runtime counts as a system call: when one lasts longer
// than about 20 µs and no P is idle, the runtime takes its P and starts
// a thread to look for other goroutines, which then competes with the
// product and the other CPU's share of it for the two CPUs, and the
// caller waits for a P when the product returns. With one P more than
// the CPUs at work, one is always idle and neither happens: on a 2-core
// machine a LeNet-5 training step took 15 ms instead of 20, resnet-20's
// 0.30 s instead of 0.40. Calling it again keeps the first count.
func SpareProc() int {
	if l := int(limit.Load()); l > 0 {
		return l
	}
	n := runtime.GOMAXPROCS(0)
	if limit.CompareAndSwap(0, int32(n)) {
		runtime.GOMAXPROCS(n + 1)
	}
	return int(limit.Load())
}

// batch is one For's state, kept for reuse.
type batch struct {
	fn     func(lo, hi int)
	n      int
	ranges int32
	next   atomic.Int32 // the next range to take
	done   atomic.Int32 // workers finished
	jobs   []job
}

// run takes ranges until none is left.
func (b *batch) run() {
	for {
		i := b.next.Add(1) - 1
		if i >= b.ranges {
			return
		}
		p, n := int(b.ranges), b.n
		b.fn(n*int(i)/p, n*int(i+1)/p)
	}
}

var batches = sync.Pool{New: func() any { return new(batch) }}

// spinFor is how long a worker keeps running after a range, waiting for
// the next, before it parks until a caller wakes it. It yields its CPU
// to any other thread ready to run meanwhile (OpenBLAS's, say). With a
// spare P (SpareProc), waking a parked worker also wakes a thread for
// the idle P: at 200 µs the workers parked in the 1 ms a LeNet-300-100
// step spends between its loops, and the step took 1.90 ms against 1.72
// without the spare P; at 1 ms, 1.70 (and LeNet-5's 15.5 ms against 16.5).
const spinFor = time.Millisecond

// job is a worker's share of a For: the ranges it takes.
type job struct {
	b *batch
	w *worker // the worker it was given to
}

// worker runs the ranges handed to it, one at a time.
type worker struct {
	busy     atomic.Bool // claimed by a caller: from give until its range is done
	slot     atomic.Pointer[job]
	sleeping atomic.Bool // parked, waiting on wake
	wake     chan struct{}
}

var (
	poolMu  sync.Mutex
	workers atomic.Pointer[[]*worker]
)

// pool returns at least k workers, starting the missing ones. Workers
// live as long as the process.
func pool(k int) []*worker {
	if ws := workers.Load(); ws != nil && len(*ws) >= k {
		return *ws
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	var ws []*worker
	if p := workers.Load(); p != nil {
		ws = append(ws, *p...)
	}
	for len(ws) < k {
		w := &worker{wake: make(chan struct{}, 1)}
		go w.loop()
		ws = append(ws, w)
	}
	workers.Store(&ws)
	return ws
}

// give hands j to w unless another caller holds it.
func (w *worker) give(j *job) bool {
	if !w.busy.CompareAndSwap(false, true) {
		return false
	}
	w.slot.Store(j)
	// The worker sets sleeping before it looks at slot a last time, and
	// the caller stores slot before it looks at sleeping: one of the two
	// sees the other's store, so a job is never left unseen.
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (w *worker) loop() {
	for {
		b := w.next().b
		b.run()
		w.busy.Store(false)
		b.done.Add(1)
	}
}

// next waits for a range: running for spinFor, then parked.
func (w *worker) next() *job {
	start := time.Now()
	for spins := 0; ; spins++ {
		if j := w.slot.Swap(nil); j != nil {
			return j
		}
		if spins < 64 {
			continue
		}
		osYield()
		if spins%16 != 0 || time.Since(start) < spinFor {
			continue
		}
		w.sleeping.Store(true)
		if j := w.slot.Swap(nil); j != nil {
			w.sleeping.Store(false)
			return j
		}
		<-w.wake
		w.sleeping.Store(false)
		start, spins = time.Now(), 0
	}
}

// MinWork is the least work worth handing to another CPU, in units of
// about a nanosecond (a vector multiply-add, a value copied): below it,
// handing a range over and waiting for it costs about as much as it saves.
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
