package dnnl

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/pkg/errors"
)

// Geom is the shape of one convolution: a batch of N images of C channels,
// H×W, convolved with K filters of R×R at the given stride and zero
// padding Pads = [top, left, bottom, right], giving OH×OW outputs.
type Geom struct {
	N, C, H, W, K, R, Stride int
	Pads                     [4]int
	Bias                     bool
}

// OH and OW are the output's height and width.
func (g Geom) OH() int { return (g.H+g.Pads[0]+g.Pads[2]-g.R)/g.Stride + 1 }
func (g Geom) OW() int { return (g.W+g.Pads[1]+g.Pads[3]-g.R)/g.Stride + 1 }

// Conv is one convolution of fixed geometry, its oneDNN primitives made
// on first use. Its methods may be called from any goroutine, one at a
// time each (a mutex orders them).
type Conv struct {
	g  Geom
	mu sync.Mutex

	stream uintptr
	// user memory: descriptors of the caller's NCHW, OIHW and bias layouts
	srcU, dstU, weiU, biasU memDesc

	fwd, bwdData, bwdWei *step
	// srcFrom is the caller's buffer whose reordering the forward step's
	// source memory holds (nil: none); keepSrc says whether the weight
	// gradient reads that memory as it is (the two layouts agree).
	srcFrom unsafe.Pointer
	keepSrc bool

	impl   [3]string
	closed bool
}

// step is one primitive, its three tensors and the bias of a forward one.
type step struct {
	pd, prim uintptr
	t        [3]slot // the tensors in the order of tensorSpec
	biasU    uintptr // the caller's bias, its handle set before each run
}

// slot is one tensor of a step.
type slot struct {
	arg  int32   // its DNNL_ARG_*
	out  bool    // written by the primitive (else read)
	user uintptr // the caller's buffer, its handle set before each run
	// mem is the tensor in the primitive's layout, library-allocated, and
	// re the reorder between it and user (into mem for an input, out of it
	// for an output); both 0 when the caller's layout is the primitive's
	mem, re uintptr
}

// tensorSpec is a tensor of a primitive: its query, the caller's layout,
// its execution argument and whether the primitive writes it.
type tensorSpec struct {
	query int32
	user  *memDesc
	arg   int32
	out   bool
}

// dims are the dimensions of the input, output, weights and bias.
func (g Geom) dims() (x, y, w, b dims) {
	return dims{int64(g.N), int64(g.C), int64(g.H), int64(g.W)},
		dims{int64(g.N), int64(g.K), int64(g.OH()), int64(g.OW())},
		dims{int64(g.K), int64(g.C), int64(g.R), int64(g.R)},
		dims{int64(g.K)}
}

// NewConv checks g and that oneDNN is loaded; the primitives are made on
// first use.
func NewConv(g Geom) (*Conv, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.K <= 0 || g.R <= 0 || g.Stride <= 0 ||
		min(g.Pads[0], g.Pads[1], g.Pads[2], g.Pads[3]) < 0 || g.OH() <= 0 || g.OW() <= 0 {
		return nil, errors.Errorf("oneDNN convolution: bad geometry %+v", g)
	}
	c := &Conv{g: g}
	if err := check(lib.streamCreate(&c.stream, lib.engine, streamDefaultFlags), "creating a stream"); err != nil {
		return nil, err
	}
	if err := c.init(tagNCHW, &c.srcU, &c.dstU, &c.weiU, &c.biasU); err != nil {
		c.Close()
		return nil, err
	}
	runtime.SetFinalizer(c, (*Conv).Close)
	return c, nil
}

// init fills the descriptors of the input, output (both with the
// activation tag act), weights and bias: the weights OIHW with the
// caller's activations (act NCHW), as oneDNN chooses otherwise.
func (c *Conv) init(act int32, src, dst, wei, bias *memDesc) error {
	x, y, w, b := c.g.dims()
	wt := int32(tagNCHW) // OIHW
	if act != tagNCHW {
		wt = tagAny
	}
	for _, d := range []struct {
		md  *memDesc
		n   int32
		d   *dims
		tag int32
	}{{src, 4, &x, act}, {dst, 4, &y, act}, {wei, 4, &w, wt}, {bias, 1, &b, tagX}} {
		if err := check(lib.mdInitByTag(d.md, d.n, d.d, dtF32, d.tag), "memory descriptor"); err != nil {
			return err
		}
	}
	return nil
}

// Geom is c's geometry.
func (c *Conv) Geom() Geom { return c.g }

// Impl names oneDNN's implementations of the forward, input-gradient and
// weight-gradient passes made so far ("brg:avx512_core", …), empty for
// those not made yet.
func (c *Conv) Impl() [3]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.impl
}

// descs are the descriptors of the primitive layouts (activations NHWC,
// weights as oneDNN chooses), the strides and the padding.
func (c *Conv) descs() (src, wei, dst, bias memDesc, strides, padL, padR dims, err error) {
	g := c.g
	err = c.init(tagNHWC, &src, &dst, &wei, &bias)
	strides = dims{int64(g.Stride), int64(g.Stride)}
	padL = dims{int64(g.Pads[0]), int64(g.Pads[1])}
	padR = dims{int64(g.Pads[2]), int64(g.Pads[3])}
	return
}

// newStep makes the primitive of descriptor op (pass which of Impl) and
// the memory and reorders of its tensors.
func (c *Conv) newStep(op unsafe.Pointer, hint uintptr, which int, tensors [3]tensorSpec, bias bool) (*step, error) {
	s := &step{}
	if err := check(lib.pdCreate(&s.pd, op, 0, lib.engine, hint), "primitive descriptor"); err != nil {
		return nil, err
	}
	var info *byte
	if lib.pdQuery(s.pd, queryImplInfoStr, 0, unsafe.Pointer(&info)) == success && info != nil {
		c.impl[which] = goString(info)
	}
	if err := check(lib.primitiveCreate(&s.prim, s.pd), "primitive"); err != nil {
		return nil, err
	}
	for i, t := range tensors {
		sl := &s.t[i]
		sl.arg, sl.out = t.arg, t.out
		md := lib.pdQueryMD(s.pd, t.query, 0)
		if md == nil {
			return nil, errors.Errorf("oneDNN: primitive has no tensor %d", t.query)
		}
		if err := check(lib.memoryCreate(&sl.user, unsafe.Pointer(t.user), lib.engine, 0), "memory"); err != nil {
			return nil, err
		}
		if lib.mdEqual(md, unsafe.Pointer(t.user)) != 0 {
			continue
		}
		if err := check(lib.memoryCreate(&sl.mem, md, lib.engine, memoryAllocate), "memory"); err != nil {
			return nil, err
		}
		from, to := unsafe.Pointer(t.user), md
		if t.out {
			from, to = md, unsafe.Pointer(t.user)
		}
		var rpd uintptr
		if err := check(lib.reorderPDCreate(&rpd, from, lib.engine, to, lib.engine, 0), "reorder"); err != nil {
			return nil, err
		}
		err := check(lib.primitiveCreate(&sl.re, rpd), "reorder primitive")
		lib.pdDestroy(rpd)
		if err != nil {
			return nil, err
		}
	}
	if bias {
		if err := check(lib.memoryCreate(&s.biasU, unsafe.Pointer(&c.biasU), lib.engine, 0), "memory"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (c *Conv) makeForward() error {
	if c.closed {
		return errors.New("oneDNN convolution used after Close")
	}
	if c.fwd != nil {
		return nil
	}
	src, wei, dst, bias, strides, padL, padR, err := c.descs()
	if err != nil {
		return err
	}
	var cd convDesc
	bp := &bias
	if !c.g.Bias {
		bp = nil
	}
	if err := check(lib.convForwardDescInit(&cd, propForwardTraining, algConvDirect, &src, &wei, bp, &dst, &strides, &padL, &padR), "forward descriptor"); err != nil {
		return err
	}
	s, err := c.newStep(unsafe.Pointer(&cd), 0, 0, [3]tensorSpec{
		{querySrcMD, &c.srcU, argSrc, false}, {queryWeightsMD, &c.weiU, argWeights, false}, {queryDstMD, &c.dstU, argDst, true},
	}, c.g.Bias)
	if err != nil {
		return err
	}
	c.fwd = s
	return nil
}

func (c *Conv) makeBackward(weights bool) error {
	if err := c.makeForward(); err != nil {
		return err
	}
	if (weights && c.bwdWei != nil) || (!weights && c.bwdData != nil) {
		return nil
	}
	src, wei, dst, _, strides, padL, padR, err := c.descs()
	if err != nil {
		return err
	}
	var cd convDesc
	if weights {
		if err := check(lib.convBackWeiDescInit(&cd, algConvDirect, &src, &wei, nil, &dst, &strides, &padL, &padR), "weight-gradient descriptor"); err != nil {
			return err
		}
		s, err := c.newStep(unsafe.Pointer(&cd), c.fwd.pd, 2, [3]tensorSpec{
			{querySrcMD, &c.srcU, argSrc, false}, {queryDiffWeightsMD, &c.weiU, argDiffWeights, true}, {queryDiffDstMD, &c.dstU, argDiffDst, false},
		}, false)
		if err != nil {
			return err
		}
		c.bwdWei = s
		c.keepSrc = s.t[0].mem != 0 && c.fwd.t[0].mem != 0 &&
			lib.mdEqual(lib.pdQueryMD(s.pd, querySrcMD, 0), lib.pdQueryMD(c.fwd.pd, querySrcMD, 0)) != 0
		return nil
	}
	if err := check(lib.convBackDataDescInit(&cd, algConvDirect, &src, &wei, &dst, &strides, &padL, &padR), "input-gradient descriptor"); err != nil {
		return err
	}
	s, err := c.newStep(unsafe.Pointer(&cd), c.fwd.pd, 1, [3]tensorSpec{
		{queryDiffSrcMD, &c.srcU, argDiffSrc, true}, {queryWeightsMD, &c.weiU, argWeights, false}, {queryDiffDstMD, &c.dstU, argDiffDst, false},
	}, false)
	if err != nil {
		return err
	}
	c.bwdData = s
	return nil
}

func (c *Conv) sizes(x, w, y []float32) error {
	g := c.g
	if (x != nil && len(x) != g.N*g.C*g.H*g.W) || (w != nil && len(w) != g.K*g.C*g.R*g.R) ||
		(y != nil && len(y) != g.N*g.K*g.OH()*g.OW()) {
		return errors.Errorf("oneDNN convolution %+v: sizes %d, %d, %d", g, len(x), len(w), len(y))
	}
	return nil
}

// run executes p with args.
func (c *Conv) run(p uintptr, what string, args ...execArg) error {
	return check(lib.primitiveExecute(p, c.stream, int32(len(args)), &args[0]), what)
}

// exec runs step s on the caller's buffers bufs (in the order of its
// tensors): each input reordered into the primitive's layout where it
// has its own (the first from kept instead, when not 0), the primitive,
// and each output reordered back. extra are further arguments.
func (c *Conv) exec(s *step, what string, bufs [3][]float32, kept uintptr, extra ...execArg) error {
	args := make([]execArg, 0, 4)
	for i := range s.t {
		t := &s.t[i]
		if err := check(lib.memorySetHandle(t.user, unsafe.Pointer(&bufs[i][0])), "set handle"); err != nil {
			return err
		}
		m := t.user
		switch {
		case t.mem == 0:
		case i == 0 && kept != 0:
			m = kept
		case t.out:
			m = t.mem
		default:
			m = t.mem
			if err := c.run(t.re, "reorder", execArg{arg: argFrom, mem: t.user}, execArg{arg: argTo, mem: t.mem}); err != nil {
				return err
			}
		}
		args = append(args, execArg{arg: t.arg, mem: m})
	}
	if err := c.run(s.prim, what, append(args, extra...)...); err != nil {
		return err
	}
	for i := range s.t {
		if t := &s.t[i]; t.out && t.mem != 0 {
			if err := c.run(t.re, "reorder", execArg{arg: argFrom, mem: t.mem}, execArg{arg: argTo, mem: t.user}); err != nil {
				return err
			}
		}
	}
	runtime.KeepAlive(bufs)
	return nil
}

// Forward sets y = w ⋆ x + bias (bias nil when the geometry has none),
// x N×C×H×W, w K×C×R×R and y N×K×OH×OW, and keeps x, reordered, for
// BackwardWeights.
func (c *Conv) Forward(x, w, bias, y []float32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sizes(x, w, y); err != nil {
		return err
	}
	if c.g.Bias != (bias != nil) || (bias != nil && len(bias) != c.g.K) {
		return errors.Errorf("oneDNN convolution: bias of %d for %d filters (bias %v)", len(bias), c.g.K, c.g.Bias)
	}
	if err := c.makeForward(); err != nil {
		return err
	}
	s := c.fwd
	c.srcFrom = nil
	var extra []execArg
	if bias != nil {
		if err := check(lib.memorySetHandle(s.biasU, unsafe.Pointer(&bias[0])), "set handle"); err != nil {
			return err
		}
		extra = append(extra, execArg{arg: argBias, mem: s.biasU})
	}
	if err := c.exec(s, "forward", [3][]float32{x, w, y}, 0, extra...); err != nil {
		return err
	}
	c.srcFrom = unsafe.Pointer(&x[0])
	runtime.KeepAlive(bias)
	return nil
}

// BackwardData sets dx to the gradient of the input from the output's, dy.
func (c *Conv) BackwardData(w, dy, dx []float32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sizes(dx, w, dy); err != nil {
		return err
	}
	if err := c.makeBackward(false); err != nil {
		return err
	}
	return c.exec(c.bwdData, "input gradient", [3][]float32{dx, w, dy}, 0)
}

// BackwardWeights sets dw to the gradient of the weights from the input x
// and the output's gradient dy. When x is the last Forward's input, its
// reordered copy is used.
func (c *Conv) BackwardWeights(x, dy, dw []float32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sizes(x, dw, dy); err != nil {
		return err
	}
	if err := c.makeBackward(true); err != nil {
		return err
	}
	var kept uintptr
	if c.keepSrc && c.srcFrom == unsafe.Pointer(&x[0]) {
		kept = c.fwd.t[0].mem
	}
	return c.exec(c.bwdWei, "weight gradient", [3][]float32{x, dw, dy}, kept)
}

// Close frees the primitives and memory; c is unusable after.
func (c *Conv) Close() {
	if c == nil || lib == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range []*step{c.fwd, c.bwdData, c.bwdWei} {
		if s == nil {
			continue
		}
		for _, p := range []uintptr{s.prim, s.t[0].re, s.t[1].re, s.t[2].re} {
			if p != 0 {
				lib.primitiveDestroy(p)
			}
		}
		for _, m := range []uintptr{s.t[0].mem, s.t[1].mem, s.t[2].mem, s.t[0].user, s.t[1].user, s.t[2].user, s.biasU} {
			if m != 0 {
				lib.memoryDestroy(m)
			}
		}
		if s.pd != 0 {
			lib.pdDestroy(s.pd)
		}
	}
	c.fwd, c.bwdData, c.bwdWei, c.srcFrom, c.closed = nil, nil, nil, nil, true
	if c.stream != 0 {
		lib.streamDestroy(c.stream)
		c.stream = 0
	}
	runtime.SetFinalizer(c, nil)
}

// goString copies a C string.
func goString(p *byte) string {
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return string(b)
}
