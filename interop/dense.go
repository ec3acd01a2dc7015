package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// gemm maps Gemm(x, B, C) = alpha·x·op(B) + beta·C onto a dense layer.
func (r *reader) gemm(where string, n *onnx.NodeProto) error {
	known := append([]string{"alpha", "beta", "transA", "transB"}, r.before(7, "broadcast")...)
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return err
	}
	if len(n.GetInput()) < 3 && r.opset < 11 {
		return errors.Wrapf(ErrFormat, "%s has %d inputs; C is required before opset 11 (the file's is %d)", where, len(n.GetInput()), r.opset)
	}
	x, in, err := r.actInput(where, n, 2, 3)
	if err != nil {
		return err
	}
	if r.opset < 7 {
		// C is broadcast to [batch, units] only with broadcast=1.
		if bc, err := a.int("broadcast", 0); err != nil || bc != 1 {
			if err != nil {
				return err
			}
			return a.unsupportedAt("broadcast", bc, "C must then have the output's whole shape [batch, units]; only broadcast=1, a bias per unit")
		}
	}
	alpha, err := a.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := a.float("beta", 1)
	if err != nil {
		return err
	}
	if ta, err := a.int("transA", 0); err != nil || ta != 0 {
		if err != nil {
			return err
		}
		return a.unsupported("transA", ta, "the input must not be transposed")
	}
	tb, err := a.int("transB", 0)
	if err != nil {
		return err
	}
	if len(in) != 1 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; Gemm needs [batch, features]", where, in)
	}
	bv, err := r.weightInput(where, n, 1, false)
	if err != nil {
		return err
	}
	if len(bv.dims) != 2 {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v; want 2", where, bv.dims)
	}
	rows, cols := bv.dims[0], bv.dims[1]
	units, fanin := cols, rows
	if tb != 0 {
		units, fanin = rows, cols
	}
	if fanin != in[0] {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v (transB=%d) for %d input features", where, bv.dims, tb, in[0])
	}
	w := &value{dims: []int{fanin, units}, floats: make([]float32, fanin*units)}
	for i := 0; i < fanin; i++ {
		for o := 0; o < units; o++ {
			x := bv.floats[i*units+o]
			if tb != 0 {
				x = bv.floats[o*fanin+i]
			}
			w.floats[i*units+o] = alpha * x
		}
	}
	b := &value{dims: []int{units}, floats: make([]float32, units)}
	c, err := r.weightInput(where, n, 2, true)
	if err != nil {
		return err
	}
	if c != nil {
		if c.size() != 1 && c.size() != units || (len(c.dims) > 0 && c.dims[len(c.dims)-1] != c.size()) {
			return errors.Wrapf(ErrShape, "%s: bias of dimensions %v for %d units", where, c.dims, units)
		}
		for o := range b.floats {
			b.floats[o] = beta * c.floats[min(o, c.size()-1)]
		}
	}
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units}, []string{x},
		map[string]*value{models.RoleWeight: w, models.RoleBias: b})
}

// matmul maps MatMul(x, W) with a constant [in, out] W onto a dense layer
// without a bias (a following Add gives it one).
func (r *reader) matmul(where string, n *onnx.NodeProto) error {
	if _, err := r.nodeAttrs(where, n); err != nil {
		return err
	}
	x, in, err := r.actInput(where, n, 2, 2)
	if err != nil {
		return err
	}
	if len(in) != 1 {
		return errors.Wrapf(ErrShape, "%s: input of shape [batch %v]; MatMul needs [batch, features]", where, in)
	}
	w, err := r.weightInput(where, n, 1, false)
	if err != nil {
		return err
	}
	if len(w.dims) != 2 || w.dims[0] != in[0] {
		return errors.Wrapf(ErrShape, "%s: weight of dimensions %v for %d input features; want [%d, units]", where, w.dims, in[0], in[0])
	}
	units := w.dims[1]
	return r.addLayer(where, n, models.Layer{Kind: models.Dense, Units: units, NoBias: true}, []string{x},
		map[string]*value{models.RoleWeight: w})
}
