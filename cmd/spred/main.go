// Command spred trains, inspects and compresses neural networks with spred.
// Run `spred --help` for the commands.
package main

import (
	"os"
	"runtime/debug"

	"github.com/spred-go/spred/graph"
)

// gcPercent is the garbage collector's target unless GOGC is set. Most of
// the heap is the data sets and the model, alive for the whole run: the
// default 100 would let garbage grow to their size again (MNIST alone is
// 220 MB of float32). Their slices hold no pointers, so the extra
// collections scan little.
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	graph.SpareProc()
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
