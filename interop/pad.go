package interop

import (
	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// padded is the output of a Pad with zeros: the activation it pads and
// the padding of its height and width, [top, left, bottom, right].
type padded struct {
	src   string
	p     [4]int
	where string
}

// pad records a Pad with zeros of the height and width, the same on every
// side, which the Conv or AveragePool that reads it takes as its padding.
func (r *reader) pad(where string, n *onnx.NodeProto) error {
	// The amounts are the attribute paddings at opset 1, pads at 2 to 10,
	// and an input from 11 (the layout is the same).
	padsAttr := "pads"
	if r.opset < 2 {
		padsAttr = "paddings"
	}
	known := append([]string{"mode"}, r.before(11, padsAttr, "value")...)
	a, err := r.nodeAttrs(where, n, known...)
	if err != nil {
		return err
	}
	maxIn := 1
	if r.opset >= 18 {
		maxIn = 4
	} else if r.opset >= 11 {
		maxIn = 3
	}
	x, in, err := r.actInput(where, n, 1, maxIn)
	if err != nil {
		return err
	}
	out, err := outputs(where, n, 1)
	if err != nil {
		return err
	}
	if mode, err := a.str("mode", "constant"); err != nil || mode != "constant" {
		if err != nil {
			return err
		}
		return a.unsupported("mode", mode, "only constant padding with zeros")
	}
	rank := len(in) + 1
	var pads []int64
	value := float32(0)
	if r.opset < 11 {
		ps, ok, err := a.ints(padsAttr)
		if err != nil {
			return err
		}
		if !ok {
			return errors.Wrapf(ErrFormat, "%s: no %s", where, padsAttr)
		}
		pads = ps
		if value, err = a.float("value", 0); err != nil {
			return err
		}
	} else {
		ins := n.GetInput()
		if len(ins) < 2 || ins[1] == "" {
			return errors.Wrapf(ErrFormat, "%s: no pads", where)
		}
		pv, ok := r.consts[ins[1]]
		if !ok || pv.ints == nil {
			return errors.Wrapf(ErrUnsupported, "%s: pads %q must be a constant integer tensor", where, ins[1])
		}
		for _, d := range pv.ints {
			if d.batch {
				return errors.Wrapf(ErrShape, "%s: pads depend on the batch size", where)
			}
			pads = append(pads, d.n)
		}
		if len(ins) > 2 && ins[2] != "" {
			cv, ok := r.consts[ins[2]]
			if !ok || cv.size() != 1 {
				return errors.Wrapf(ErrUnsupported, "%s: constant_value %q must be a constant scalar", where, ins[2])
			}
			if cv.floats != nil {
				value = cv.floats[0]
			} else if cv.ints[0].n != 0 || cv.ints[0].batch {
				value = 1
			}
		}
		if len(ins) > 3 && ins[3] != "" {
			av, ok := r.consts[ins[3]]
			if !ok || av.ints == nil || len(av.ints) > rank || 2*len(av.ints) != len(pads) {
				return errors.Wrapf(ErrUnsupported, "%s: axes %q must be a constant list of at most %d axes, half as long as pads", where, ins[3], rank)
			}
			full := make([]int64, 2*rank)
			seen := map[int64]bool{}
			for i, d := range av.ints {
				ax := d.n
				if ax < 0 {
					ax += int64(rank)
				}
				if d.batch || ax < 0 || ax >= int64(rank) || seen[ax] {
					return errors.Wrapf(ErrFormat, "%s: axes %v out of range or repeated for rank %d", where, av.ints, rank)
				}
				seen[ax] = true
				full[ax], full[int64(rank)+ax] = pads[i], pads[len(av.ints)+i]
			}
			pads = full
		}
	}
	if value != 0 {
		return errors.Wrapf(ErrUnsupported, "%s: padding with %g is not supported (only zeros)", where, value)
	}
	if len(pads) != 2*rank {
		return errors.Wrapf(ErrFormat, "%s: %d pads for rank %d", where, len(pads), rank)
	}
	if rank != 4 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return errors.Wrapf(ErrUnsupported, "%s: pads %v are not supported (only padding of the height and width of a [batch, channels, height, width] input)", where, pads)
	}
	var side [4]int // top, left, bottom, right
	var prior padded
	if p, ok := r.pads[x]; ok {
		x, prior = p.src, p
	}
	for i, v := range []int64{pads[2], pads[3], pads[6], pads[7]} {
		if v < 0 || v > models.MaxSize || v+int64(prior.p[i]) > models.MaxSize {
			return errors.Wrapf(ErrUnsupported, "%s: pads %v are not supported (only non-negative padding)", where, pads)
		}
		side[i] = int(v) + prior.p[i]
	}
	r.pads[out] = padded{src: x, p: side, where: where}
	return nil
}
