package interop

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// geom is the window of a Conv or pooling: a square kernel, the stride,
// the dilation and the padding [top, left, bottom, right].
type geom struct {
	k, s, d int
	pads    [4]int
}

// layer sets the window of l: Padding when the sides agree, Pads when
// they differ.
func (g geom) layer(l models.Layer) models.Layer {
	l.Kernel = g.k
	if p := g.pads; p[0] == p[1] && p[0] == p[2] && p[0] == p[3] {
		l.Padding = p[0]
	} else {
		l.Pads = p[:]
	}
	if g.d != 1 {
		l.Dilation = g.d
	}
	return l
}

// window reads the kernel_shape, strides, pads, dilations and auto_pad of a
// Conv or pooling with kernel size kernel on an input of height and width
// hw, and returns the window it maps onto: auto_pad SAME_UPPER and
// SAME_LOWER are resolved to the padding that gives ⌈size/stride⌉ outputs
// (the odd cell after, or before), VALID to none. Dilations other than 1
// are refused unless dilated.
func window(a attrs, kernel, hw []int, dilated bool) (geom, error) {
	if kernel[0] != kernel[1] {
		return geom{}, a.unsupported("kernel_shape", kernel, "only square kernels")
	}
	g := geom{k: kernel[0], s: 1, d: 1}
	if ks, ok, err := a.ints("kernel_shape"); err != nil {
		return geom{}, err
	} else if ok && (len(ks) != 2 || ks[0] != int64(g.k) || ks[1] != int64(g.k)) {
		return geom{}, errors.Wrapf(ErrFormat, "%s: kernel_shape %v disagrees with the weight's %v", a.where, ks, kernel)
	}
	ap, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return geom{}, err
	}
	if ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && ap != "" {
		return geom{}, a.unsupported("auto_pad", ap, "only NOTSET, VALID, SAME_UPPER and SAME_LOWER")
	}
	if d, ok, err := a.ints("dilations"); err != nil {
		return geom{}, err
	} else if ok {
		if len(d) != 2 || d[0] != d[1] || d[0] <= 0 || d[0] > models.MaxSize || (d[0] != 1 && !dilated) {
			why := "only 1"
			if dilated {
				why = "only equal positive dilations"
			}
			return geom{}, a.unsupported("dilations", d, why)
		}
		g.d = int(d[0])
	}
	if st, ok, err := a.ints("strides"); err != nil {
		return geom{}, err
	} else if ok {
		if len(st) != 2 || st[0] != st[1] || st[0] <= 0 || st[0] > models.MaxSize {
			return geom{}, a.unsupported("strides", st, "only equal positive strides")
		}
		g.s = int(st[0])
	}
	pd, explicit, err := a.ints("pads")
	if err != nil {
		return geom{}, err
	}
	if explicit {
		if len(pd) != 4 {
			return geom{}, errors.Wrapf(ErrFormat, "%s: pads %v do not list 4 sides", a.where, pd)
		}
		for i, v := range pd {
			if v < 0 || v > models.MaxSize {
				return geom{}, a.unsupported("pads", pd, "only non-negative padding")
			}
			g.pads[i] = int(v)
		}
		if ap != "NOTSET" && ap != "" && g.pads != [4]int{} {
			return geom{}, errors.Wrapf(ErrFormat, "%s: auto_pad %s with pads %v", a.where, ap, pd)
		}
	}
	if ap == "SAME_UPPER" || ap == "SAME_LOWER" {
		span := int64(g.k-1)*int64(g.d) + 1
		for i, n := range hw {
			out := (int64(n) + int64(g.s) - 1) / int64(g.s)
			total := max(0, (out-1)*int64(g.s)+span-int64(n))
			if total > models.MaxSize {
				return geom{}, a.unsupported("auto_pad", ap, fmt.Sprintf("padding of %d", total))
			}
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			g.pads[i], g.pads[i+2] = int(lo), int(total-lo)
		}
	}
	return g, nil
}
