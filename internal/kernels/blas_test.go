package kernels

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/openblas"
)

// TestGemmUsesOpenBLAS checks that the kernels reach OpenBLAS by
// themselves, without package graph (which infer does not import), when
// it was loaded.
func TestGemmUsesOpenBLAS(t *testing.T) {
	_, isGonum := gorgonia.WhichBLAS().(gonum.Implementation)
	switch openblas.Backend {
	case "openblas":
		if isGonum {
			t.Fatal("OpenBLAS was loaded but the kernels' products run on gonum")
		}
	case "gonum":
		if !isGonum {
			t.Fatalf("the gonum backend, but the products run on %T", gorgonia.WhichBLAS())
		}
	}
}

// TestInferLoadsOpenBLAS checks that the inference engine's package
// depends on the loader through these kernels, not through package graph.
func TestInferLoadsOpenBLAS(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/spred-go/spred/infer").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/spred-go/spred/internal/openblas") {
		t.Error("package infer does not import the OpenBLAS loader")
	}
	if slices.Contains(deps, "github.com/spred-go/spred/graph") {
		t.Error("package infer imports graph (the training graphs)")
	}
}
