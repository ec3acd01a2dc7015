package graph

import (
	"os"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/spred-go/spred/internal/dnnl"
)

// ConvBackend names the implementation of the float32 convolutions of
// the training graphs (Conv2D, and GroupedConv2D with one group): "onednn"
// when oneDNN 2.x (Debian's libdnnl2, which python3-torch depends on) was
// found and loaded at start, "go" (this package's im2col and matrix
// products) otherwise. float64 graphs and grouped convolutions always run
// on "go"; the inference engine (package infer) has its own. The two
// round differently: the same seed gives the same bytes on the same
// backend (oneDNN's on its fixed thread count, see package dnnl).
//
// The environment variable SPRED_CONV chooses: unset or "auto" loads
// oneDNN when it is installed; "go" never loads it; "onednn" requires it
// (ConvError says why it could not be loaded).
var ConvBackend, ConvVersion, ConvError = convBackend(os.Getenv("SPRED_CONV"))

func convBackend(choice string) (backend, version string, err error) {
	switch choice {
	case "go":
		return "go", "", nil
	case "", "auto", "onednn":
		if err := dnnl.Load(); err != nil {
			if choice == "onednn" {
				return "go", "", err
			}
			return "go", "", nil
		}
		return "onednn", dnnl.Version(), nil
	}
	return "go", "", errors.Errorf("want auto, onednn or go, not %q", choice)
}

// onednn is op's convolution on oneDNN, made on first use; nil when the
// backend is "go", the convolution is grouped or oneDNN refused it.
func (op *convOp) onednn() *dnnl.Conv {
	op.dnOnce.Do(func() {
		if ConvBackend != "onednn" || op.groups != 1 {
			return
		}
		g := op.convGeom
		// The bottom and right padding that the output reads, which may
		// be less than the caller's: what lies past the last window.
		pb := max(0, (g.OH-1)*g.S+g.K-g.H-g.PT)
		pr := max(0, (g.OW-1)*g.S+g.K-g.W-g.PL)
		c, err := dnnl.NewConv(dnnl.Geom{N: g.Batch, C: g.Ch, H: g.H, W: g.W, K: g.Filters, R: g.K,
			Stride: g.S, Pads: [4]int{g.PT, g.PL, pb, pr}, Bias: g.bias})
		if err == nil {
			op.dn = c
		}
	})
	return op.dn
}

// ReleaseConvs frees the oneDNN primitives and buffers of g's
// convolutions now rather than when the garbage collector finds them (it
// does not see their memory, which is the library's), for a program that
// builds and drops its own graphs of Conv2D; Session.Close calls it. g's
// convolutions must not run after it.
func ReleaseConvs(g *gorgonia.ExprGraph) {
	for _, n := range g.AllNodes() {
		if op, ok := n.Op().(*convOp); ok {
			op.dnOnce.Do(func() {}) // no convolution made after this
			if op.dn != nil {
				op.dn.Close()
			}
		}
	}
}

func convForwardDNNL(op *convOp, dn *dnnl.Conv, x []float32, wv, bv any) (gorgonia.Value, error) {
	w, ok1 := wv.([]float32)
	bias, ok2 := bv.([]float32)
	if !ok1 || (op.bias && !ok2) {
		return nil, errors.New("Conv2D: mixed dtypes")
	}
	t, y := output[float32](&op.y, op.yShape())
	if err := dn.Forward(x, w, bias, y); err != nil {
		return nil, errors.Wrapf(err, "Conv2D %v", op.convGeom)
	}
	return t, nil
}

func convBackwardDNNL(op *convGradOp, dn *dnnl.Conv, first any, dy []float32) (gorgonia.Value, error) {
	in, ok := first.([]float32)
	if !ok {
		return nil, errors.Errorf("Conv2DGrad %v: mixed dtypes", op.convGeom)
	}
	if op.wrt == wrtWeight {
		t, dw := output[float32](&op.out, op.wShape())
		if err := dn.BackwardWeights(in, dy, dw); err != nil {
			return nil, errors.Wrapf(err, "Conv2DGrad %v", op.convGeom)
		}
		return t, nil
	}
	t, dx := output[float32](&op.out, op.xShape())
	if err := dn.BackwardData(in, dy, dx); err != nil {
		return nil, errors.Wrapf(err, "Conv2DGrad %v", op.convGeom)
	}
	return t, nil
}
