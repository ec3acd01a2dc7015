package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/graph"
)

// TestVersion checks that `spred version` and `spred --version` name the
// version, the Go version, the BLAS backend actually in use and the CPUs
// the loops run on.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"spred", "version"}, {"spred", "--version"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		got := out.String()
		wants := []string{"spred-go " + spred.Version + "\n", "\ngo       go1.", "\nblas     " + graph.BLASBackend, "\nconv     " + graph.ConvBackend, "\ncommit   "}
		if graph.BLASCore != "" {
			wants = append(wants, "("+graph.BLASCore+" kernels")
		}
		if graph.BLASMisdetected != "" {
			wants = append(wants, "took this CPU for a "+graph.BLASMisdetected)
		}
		wants = append(wants, fmt.Sprintf("\ncpus     %d", graph.CPUs()))
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%v: output %q lacks %q", args, got, want)
			}
		}
	}
}
