// Package par runs loops over independent ranges on all CPUs.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For splits [0, n) into at most one contiguous range per CPU, each of at
// least grain elements, and runs fn on the ranges concurrently. The ranges
// must write disjoint memory; the result is then the same for any number of
// CPUs.
//
// The ranges after the first go to workers that keep running for a while
// after each range (spinFor), waiting for the next, and the caller waits
// for them running too: on the 2-core machines this toolkit is measured
// on, waking a parked thread took longer than the 0.1–1 ms loops of a
// training step, so a goroutine started per loop made the loops no faster
// on two CPUs than on one. A range whose worker is busy (For called from
// inside another For's fn, or by two goroutines at once) runs on the
// caller after its own.
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
	ws := pool(workers - 1)
	b := batches.Get().(*batch)
	defer batches.Put(b)
	b.done.Store(0)
	js := b.jobs[:0]
	for w := 1; w < workers; w++ {
		js = append(js, job{fn: fn, lo: n * w / workers, hi: n * (w + 1) / workers, done: &b.done})
	}
	for i := range js {
		js[i].inline = !ws[i].give(&js[i])
	}
	fn(0, n/workers)
	for i := range js {
		if js[i].inline {
			fn(js[i].lo, js[i].hi)
			b.done.Add(1)
		}
	}
	for spins := 0; b.done.Load() != int32(len(js)); spins++ {
		if spins >= 64 {
			osYield()
		}
	}
	clear(js) // drop fn, which the pool would keep alive
	b.jobs = js[:0]
}

// batch is the ranges of one For after the first, kept for reuse.
type batch struct {
	done atomic.Int32 // ranges finished
	jobs []job
}

var batches = sync.Pool{New: func() any { return new(batch) }}

// spinFor is how long a worker keeps running after a range, waiting for
// the next, before it parks until a caller wakes it. It yields its CPU
// to any other thread ready to run meanwhile (OpenBLAS's, say).
const spinFor = 200 * time.Microsecond

// job is one range of a For.
type job struct {
	fn     func(lo, hi int)
	lo, hi int
	done   *atomic.Int32 // counts the caller's finished ranges
	inline bool          // its worker was busy: the caller runs it
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
		j := w.next()
		j.fn(j.lo, j.hi)
		w.busy.Store(false)
		j.done.Add(1)
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
