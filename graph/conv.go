package graph

import (
	"fmt"
	"hash"
	"sync"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/dnnl"
	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2D is a 2-d convolution with bias, fused into one op:
// y[b,f] = Σ_c w[f,c] ⋆ x[b,c] + bias[f], for x batch×channels×height×width,
// w filters×channels×kernel×kernel and bias of length filters (or nil for
// none), with equal zero padding on every side.
//
// Gorgonia's Conv2d is not used on the training path: it lays the
// convolution out as im2col, a matrix product and two transposes of the
// whole activation, allocates all of them on every step, and adds the bias
// through a broadcast, which together cost more than the arithmetic. This op
// builds the column matrix of a few images at a time, in a buffer kept from
// step to step and small enough to stay in cache while it is multiplied,
// and adds the bias as it lays the product out; its backward pass is three
// ops (input, weight and bias gradients) that each cost one matrix product
// or less, the weight gradient reading the whole batch's column matrix
// when it is small enough to keep and rebuilding it the same way otherwise.
func Conv2D(x, w, bias *gorgonia.Node, kernel, stride, pad int) (*gorgonia.Node, error) {
	return GroupedConv2D(x, w, bias, kernel, stride, pad, 1)
}

// GroupedConv2D is Conv2D with the channels split into groups: filter f
// of group g = f/(filters/groups) reads only the channels of that group,
// so w is filters×(channels/groups)×kernel×kernel (depthwise when groups
// equals the channels). bias may be nil: no bias. One group and a bias is
// Conv2D, with the very same arithmetic.
func GroupedConv2D(x, w, bias *gorgonia.Node, kernel, stride, pad, groups int) (*gorgonia.Node, error) {
	return GroupedConv2DPads(x, w, bias, kernel, stride, [4]int{pad, pad, pad, pad}, groups)
}

// GroupedConv2DPads is GroupedConv2D with zero padding that may differ per
// side: pads is [top, left, bottom, right].
func GroupedConv2DPads(x, w, bias *gorgonia.Node, kernel, stride int, pads [4]int, groups int) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, errors.Errorf("convolution needs 4-d input and weight, got %v and %v", xs, ws)
	}
	if kernel <= 0 || stride <= 0 || min(pads[0], pads[1], pads[2], pads[3]) < 0 {
		return nil, errors.Errorf("convolution kernel %d stride %d padding %v", kernel, stride, pads)
	}
	if groups <= 0 || xs[1]%groups != 0 || ws[0]%groups != 0 {
		return nil, errors.Errorf("convolution groups %d must divide the %d channels and the %d filters", groups, xs[1], ws[0])
	}
	if ws[1]*groups != xs[1] || ws[2] != kernel || ws[3] != kernel {
		return nil, errors.Errorf("convolution weight %v does not match input %v, kernel %d and %d groups", ws, xs, kernel, groups)
	}
	if bias != nil && bias.Shape().TotalSize() != ws[0] {
		return nil, errors.Errorf("convolution bias %v does not match %d filters", bias.Shape(), ws[0])
	}
	op := &convOp{convGeom: convGeom{Conv: kernels.NewConvPads(xs[0], xs[1], xs[2], xs[3], ws[0], kernel, stride, pads), groups: groups, bias: bias != nil}}
	if op.OH <= 0 || op.OW <= 0 {
		return nil, errors.Errorf("convolution kernel %d does not fit input %v with padding %v", kernel, xs, pads)
	}
	if bias == nil {
		return gorgonia.ApplyOp(op, x, w)
	}
	return gorgonia.ApplyOp(op, x, w, bias)
}

// convGeom is the shape of one convolution.
type convGeom struct {
	kernels.Conv
	groups int  // channel groups (1: every filter reads every channel)
	bias   bool // whether the op takes a bias
}

func (g convGeom) xShape() tensor.Shape { return tensor.Shape{g.Batch, g.Ch, g.H, g.W} }
func (g convGeom) yShape() tensor.Shape { return tensor.Shape{g.Batch, g.Filters, g.OH, g.OW} }
func (g convGeom) wShape() tensor.Shape { return tensor.Shape{g.Filters, g.Ch / g.groups, g.K, g.K} }

// groupRows and groupFilters are the column-matrix rows and the filters of
// one group: group g multiplies rows [g·groupRows, (g+1)·groupRows) of the
// column matrix by filters [g·groupFilters, (g+1)·groupFilters).
func (g convGeom) groupRows() int    { return g.Rows() / g.groups }
func (g convGeom) groupFilters() int { return g.Filters / g.groups }

func (g convGeom) String() string {
	s := g.Conv.String()
	if g.groups != 1 {
		s += fmt.Sprintf("g%d", g.groups)
	}
	if !g.bias {
		s += "nobias"
	}
	return s
}

// gemmGroups runs one matrix product per group (the whole product for one
// group, exactly the call of an ungrouped convolution) for a column matrix
// of n columns.
func gemmGroups(g convGeom, n int, fn func(rows, filters int, wOff, colOff, fOff int)) {
	rg, fg := g.groupRows(), g.groupFilters()
	for k := 0; k < g.groups; k++ {
		fn(rg, fg, k*fg*rg, k*rg*n, k*fg*n)
	}
}

// chunkBytes bounds the column matrix of one chunk of images, so that it
// stays in the CPU's cache between being written and read.
var chunkBytes = 2 << 20

// keepBytes bounds the column matrix of the whole batch that the forward op
// keeps for the weight gradient; a larger one is rebuilt a chunk at a time.
var keepBytes = 16 << 20

// keeps reports whether the forward op keeps the whole column matrix.
func (g convGeom) keeps(size int) bool { return g.Rows()*g.Cols()*size <= keepBytes }

// chunk is the number of images whose column matrix is built and
// multiplied at a time: as many as fit in chunkBytes, at least one. It
// depends on the geometry and the element size only.
func (g convGeom) chunk(size int) int {
	per := g.Rows() * g.OH * g.OW * size
	return min(g.Batch, max(1, chunkBytes/per))
}

// sub is the geometry of images [b0, b1) and the parts of x and y they
// occupy.
func (g convGeom) sub(b0, b1 int) (kernels.Conv, [2]int, [2]int) {
	c := g.Conv
	c.Batch = b1 - b0
	in, out := g.Ch*g.H*g.W, g.Filters*g.OH*g.OW
	return c, [2]int{b0 * in, b1 * in}, [2]int{b0 * out, b1 * out}
}

// convOp is the forward op. It builds the column matrix of a chunk of
// images at a time (see chunk), so that its buffers are small and stay in
// cache; when the whole batch's is small (see keeps) it keeps every chunk's,
// which the weight gradient of the same step then reads.
type convOp struct {
	convGeom
	mu   sync.Mutex
	cols any  // []float32 or []float64: the column matrix of one chunk, or of all
	kept bool // cols holds every chunk's column matrix, chunk after chunk
	tmp  any  // the product of one chunk before it is laid out batch first
	y    reuse

	dnOnce sync.Once
	dn     *dnnl.Conv // the convolution on oneDNN; nil: this package's own
}

func (op *convOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}
func (op *convOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	if !op.bias {
		return hm.NewFnType(t4, t4, t4)
	}
	t1 := gorgonia.TensorType{Dims: 1, Of: a}
	return hm.NewFnType(t4, t4, t1, t4)
}
func (op *convOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) { return op.yShape(), nil }
func (*convOp) ReturnsPtr() bool                                         { return false }
func (*convOp) CallsExtern() bool                                        { return false }
func (*convOp) OverwritesInput() int                                     { return -1 }
func (op *convOp) WriteHash(h hash.Hash)                                 { fmt.Fprintf(h, "spred.Conv2D{%v,%p}", op.convGeom, op) }
func (op *convOp) Hashcode() uint32                                      { return hashOf(op) }
func (op *convOp) String() string                                        { return "Conv2D{" + op.convGeom.String() + "}" }
func (op *convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *convOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtInput, fwd: op}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	// The weight gradient reads the column matrix the forward op kept or
	// rebuilds it from the input, which it takes in either case so that it
	// runs after the forward op.
	dw, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtWeight, fwd: op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	if !op.bias {
		return gorgonia.Nodes{dx, dw}, nil
	}
	db, err := gorgonia.ApplyOp(&convGradOp{convGeom: op.convGeom, wrt: wrtBias}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

func (op *convOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("Conv2D: %d inputs", len(inputs))
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	var bias any
	if op.bias {
		bias = inputs[2].Data()
	}
	switch x := inputs[0].Data().(type) {
	case []float32:
		if dn := op.onednn(); dn != nil {
			return convForwardDNNL(op, dn, x, inputs[1].Data(), bias)
		}
		return convForward(op, x, inputs[1].Data(), bias)
	case []float64:
		return convForward(op, x, inputs[1].Data(), bias)
	}
	return nil, errors.Errorf("Conv2D: unsupported %T", inputs[0].Data())
}

func convForward[T float32 | float64](op *convOp, x []T, wv, bv any) (gorgonia.Value, error) {
	w, ok1 := wv.([]T)
	bias, ok2 := bv.([]T)
	if !ok1 || (op.bias && !ok2) {
		return nil, errors.New("Conv2D: mixed dtypes")
	}
	g := op.convGeom
	if len(x) != g.xShape().TotalSize() || len(w) != g.wShape().TotalSize() || (op.bias && len(bias) != g.Filters) {
		return nil, errors.Errorf("Conv2D %v: input sizes %d, %d, %d", g, len(x), len(w), len(bias))
	}
	t, y := output[T](&op.y, g.yShape())
	nb := g.chunk(sizeOf[T]())
	op.kept = g.keeps(sizeOf[T]())
	all := g.Rows() * nb * g.OH * g.OW
	if op.kept {
		all = g.Rows() * g.Cols()
	}
	buf := buffer[T](&op.cols, all)
	tmp := buffer[T](&op.tmp, g.Filters*nb*g.OH*g.OW)
	plane := g.OH * g.OW
	for b0 := 0; b0 < g.Batch; b0 += nb {
		b1 := min(g.Batch, b0+nb)
		c, xr, yr := g.sub(b0, b1)
		n := c.Cols()
		cols := buf
		if op.kept {
			cols = buf[b0*g.Rows()*plane:][:g.Rows()*n]
		}
		kernels.Im2Col(c, x[xr[0]:xr[1]], cols)
		gemmGroups(g, n, func(rows, filters, wOff, colOff, fOff int) {
			kernels.Gemm(false, false, filters, n, rows, 1, w[wOff:], rows, cols[colOff:], n, 0, tmp[fOff:], n)
		})
		yc := y[yr[0]:yr[1]]
		par.For(c.Batch, 1, func(i0, i1 int) {
			for i := i0; i < i1; i++ {
				for f := 0; f < g.Filters; f++ {
					dst := yc[(i*g.Filters+f)*plane:][:plane]
					src := tmp[f*n+i*plane:][:plane]
					if !op.bias {
						copy(dst, src)
						continue
					}
					kernels.AddBias(dst, src, bias[f])
				}
			}
		})
	}
	return t, nil
}

// sizeOf is the size in bytes of a T.
func sizeOf[T float32 | float64]() int {
	var v T
	return int(unsafe.Sizeof(v))
}

// buffer returns *slot as a []T of length n, reallocating when it is
// missing, of another type or too short.
func buffer[T float32 | float64](slot *any, n int) []T {
	if s, ok := (*slot).([]T); ok && len(s) >= n {
		return s[:n]
	}
	s := make([]T, n)
	*slot = s
	return s
}

type convWRT int

const (
	wrtInput convWRT = iota
	wrtWeight
	wrtBias
)

// convGradOp is one of the three gradients of a convolution, from the
// output gradient dy: wrt input (inputs w, dy), wrt weight (inputs x, dy)
// or wrt bias (input dy). The input and weight gradients go a chunk of
// images at a time, as the forward op; the weight gradient reads the
// column matrix the forward op kept or rebuilds it, and sums the chunks'
// products in order.
type convGradOp struct {
	convGeom
	wrt convWRT
	fwd *convOp // the forward op: its kept column matrix, its oneDNN convolution

	mu   sync.Mutex
	dyp  any // dy of one chunk laid out filters × (images·positions)
	cols any // the column matrix (weight) or its gradient (input) of one chunk
	out  reuse
}

func (op *convGradOp) Arity() int {
	if op.wrt == wrtBias {
		return 1
	}
	return 2
}
func (op *convGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t4 := gorgonia.TensorType{Dims: 4, Of: a}
	switch op.wrt {
	case wrtBias:
		return hm.NewFnType(t4, gorgonia.TensorType{Dims: 1, Of: a})
	default:
		return hm.NewFnType(t4, t4, t4)
	}
}
func (op *convGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	switch op.wrt {
	case wrtInput:
		return op.xShape(), nil
	case wrtWeight:
		return op.wShape(), nil
	}
	return tensor.Shape{op.Filters}, nil
}
func (*convGradOp) ReturnsPtr() bool     { return false }
func (*convGradOp) CallsExtern() bool    { return false }
func (*convGradOp) OverwritesInput() int { return -1 }
func (op *convGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "spred.Conv2DGrad{%v,%d,%p}", op.convGeom, op.wrt, op)
}
func (op *convGradOp) Hashcode() uint32 { return hashOf(op) }
func (op *convGradOp) String() string {
	return fmt.Sprintf("Conv2DGrad%d{%v}", op.wrt, op.convGeom)
}

func (op *convGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, errors.Errorf("Conv2DGrad: %d inputs", len(inputs))
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	switch dy := inputs[len(inputs)-1].Data().(type) {
	case []float32:
		if op.wrt != wrtBias && op.fwd != nil {
			if dn := op.fwd.onednn(); dn != nil {
				return convBackwardDNNL(op, dn, inputs[0].Data(), dy)
			}
		}
		return convBackward(op, inputs[0].Data(), dy)
	case []float64:
		return convBackward(op, inputs[0].Data(), dy)
	}
	return nil, errors.Errorf("Conv2DGrad: unsupported %T", inputs[len(inputs)-1].Data())
}

func convBackward[T float32 | float64](op *convGradOp, first any, dy []T) (gorgonia.Value, error) {
	g := op.convGeom
	if len(dy) != g.yShape().TotalSize() {
		return nil, errors.Errorf("Conv2DGrad %v: output gradient of %d values", g, len(dy))
	}
	plane := g.OH * g.OW
	if op.wrt == wrtBias {
		// One filter per worker, the images in order: the same sums as
		// one loop.
		t, db := output[T](&op.out, tensor.Shape{g.Filters})
		par.For(g.Filters, 1, func(f0, f1 int) {
			for f := f0; f < f1; f++ {
				db[f] = kernels.SumPlanes(dy[f*plane:], g.Batch, plane, g.Filters*plane)
			}
		})
		return t, nil
	}
	var w, x, kept []T
	switch op.wrt {
	case wrtWeight:
		xv, ok := first.([]T)
		if !ok || len(xv) != g.xShape().TotalSize() {
			return nil, errors.Errorf("Conv2DGrad %v: input is %T of %d", g, first, len(xv))
		}
		x = xv
		op.fwd.mu.Lock()
		if op.fwd.kept {
			if c, ok := op.fwd.cols.([]T); ok && len(c) == g.Rows()*g.Cols() {
				kept = c
			}
		}
		op.fwd.mu.Unlock()
	default:
		wv, ok := first.([]T)
		if !ok || len(wv) != g.wShape().TotalSize() {
			return nil, errors.Errorf("Conv2DGrad %v: weight is %T", g, first)
		}
		w = wv
	}
	nb := g.chunk(sizeOf[T]())
	dyp := buffer[T](&op.dyp, g.Filters*nb*plane)
	cols := buffer[T](&op.cols, g.Rows()*nb*plane)
	var t *tensor.Dense
	var out []T
	if op.wrt == wrtWeight {
		t, out = output[T](&op.out, g.wShape())
	} else {
		t, out = output[T](&op.out, g.xShape())
		clear(out)
	}
	for b0 := 0; b0 < g.Batch; b0 += nb {
		b1 := min(g.Batch, b0+nb)
		c, xr, yr := g.sub(b0, b1)
		n := c.Cols()
		// dy as filters × (images·positions), the layout of the forward product.
		dyc := dy[yr[0]:yr[1]]
		par.For(c.Batch, 1, func(i0, i1 int) {
			for i := i0; i < i1; i++ {
				for f := 0; f < g.Filters; f++ {
					copy(dyp[f*n+i*plane:][:plane], dyc[(i*g.Filters+f)*plane:][:plane])
				}
			}
		})
		if op.wrt == wrtWeight {
			cols := cols
			if kept != nil {
				cols = kept[b0*g.Rows()*plane:][:g.Rows()*n]
			} else {
				kernels.Im2Col(c, x[xr[0]:xr[1]], cols)
			}
			beta := T(1)
			if b0 == 0 {
				beta = 0
			}
			gemmGroups(g, n, func(rows, filters, wOff, colOff, fOff int) {
				kernels.Gemm(false, true, filters, rows, n, 1, dyp[fOff:], n, cols[colOff:], n, beta, out[wOff:], rows)
			})
			continue
		}
		gemmGroups(g, n, func(rows, filters, wOff, colOff, fOff int) {
			kernels.Gemm(true, false, rows, n, filters, 1, w[wOff:], rows, dyp[fOff:], n, 0, cols[colOff:], n)
		})
		kernels.Col2Im(c, cols, out[xr[0]:xr[1]])
	}
	return t, nil
}
