package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the Go version, the backends of the matrix products and convolutions, and the commit",
		Description: "The BLAS backend is openblas when the system's OpenBLAS shared library was loaded\n" +
			"(Debian: apt-get install libopenblas0), gonum (pure Go, slower) otherwise; SPRED_BLAS=gonum\n" +
			"forces gonum, SPRED_BLAS=openblas requires OpenBLAS, SPRED_BLAS=PATH loads that library.\n" +
			"The convolution backend of training is onednn when oneDNN 2.x was loaded (Debian: apt-get\n" +
			"install libdnnl2, which python3-torch depends on), go otherwise; SPRED_CONV=go forces go,\n" +
			"SPRED_CONV=onednn requires oneDNN. Each backend rounds its own way: the same seed gives the\n" +
			"same bytes on the same backends.",
		Action: func(c *cli.Context) error {
			printVersion(c.App.Writer)
			return nil
		},
	}
}

// printVersion writes the version lines of `spred version` and `--version`.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "spred-go %s\n", spred.Version)
	fmt.Fprintf(w, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "blas     %s\n", blasLine())
	fmt.Fprintf(w, "conv     %s\n", convLine())
	fmt.Fprintf(w, "cpus     %s\n", cpusLine())
	fmt.Fprintf(w, "commit   %s\n", commit())
}

// blasLine names the backend of the matrix products, with OpenBLAS's
// kernels and, where it took the CPU for another, the ones it chose first.
func blasLine() string {
	switch {
	case graph.BLASMisdetected != "":
		return fmt.Sprintf("%s (%s kernels; OpenBLAS took this CPU for a %s and was loaded again)",
			graph.BLASBackend, graph.BLASCore, graph.BLASMisdetected)
	case graph.BLASCore != "":
		return graph.BLASBackend + " (" + graph.BLASCore + " kernels)"
	}
	return graph.BLASBackend
}

// convLine names the backend of the training graphs' float32
// convolutions, with oneDNN's version.
func convLine() string {
	if graph.ConvVersion != "" {
		return graph.ConvBackend + " " + graph.ConvVersion
	}
	return graph.ConvBackend
}

// cpusLine is the number of CPUs the training and inference loops run
// on, with GOMAXPROCS when it holds a spare P (graph.SpareProc).
func cpusLine() string {
	n, procs := graph.CPUs(), runtime.GOMAXPROCS(0)
	if procs > n {
		return fmt.Sprintf("%d (GOMAXPROCS %d: one P spare for the OpenBLAS calls)", n, procs)
	}
	return fmt.Sprint(n)
}

// commit is the VCS revision the binary was built from, as the go command
// records it, with "+modified" for a dirty tree; "unknown" without one
// (go run, go test, or a build outside a checkout).
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev == "" {
		return "unknown"
	}
	return rev + modified
}
