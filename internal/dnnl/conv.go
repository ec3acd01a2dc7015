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
	// src holds the last Forward's input in the forward primitive's layout,
	// from the caller's buffer at srcFrom (nil: none).
	srcFrom unsafe.Pointer

	impl   [3]string
	closed bool
}

// step is one convolution primitive and the reorders around it.
type step struct {
	pd, prim uintptr
	// in the primitive's layout, library-allocated; 0 when the caller's
	// buffer is used as it is
	src, wei, dst uintptr
	// caller-side memory, its handle set before each run
	srcU, weiU, dstU, biasU uintptr
	// reorders caller → primitive (srcIn, weiIn) and back (dstOut);
	// 0 when the layouts agree
	srcIn, weiIn, dstOut uintptr
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
	x := dims{int64(g.N), int64(g.C), int64(g.H), int64(g.W)}
	y := dims{int64(g.N), int64(g.K), int64(g.OH()), int64(g.OW())}
	w := dims{int64(g.K), int64(g.C), int64(g.R), int64(g.R)}
	b := dims{int64(g.K)}
	for _, d := range []struct {
		md  *memDesc
		n   int32
		d   *dims
		tag int32
	}{{&c.srcU, 4, &x, tagNCHW}, {&c.dstU, 4, &y, tagNCHW}, {&c.weiU, 4, &w, tagNCHW}, {&c.biasU, 1, &b, tagX}} {
		if err := check(lib.mdInitByTag(d.md, d.n, d.d, dtF32, d.tag), "memory descriptor"); err != nil {
			c.Close()
			return nil, err
		}
	}
	runtime.SetFinalizer(c, (*Conv).Close)
	return c, nil
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

// descs are the descriptors of the primitive layouts: activations NHWC,
// weights as oneDNN chooses.
func (c *Conv) descs() (src, wei, dst, bias memDesc, strides, padL, padR dims, err error) {
	g := c.g
	x := dims{int64(g.N), int64(g.C), int64(g.H), int64(g.W)}
	y := dims{int64(g.N), int64(g.K), int64(g.OH()), int64(g.OW())}
	w := dims{int64(g.K), int64(g.C), int64(g.R), int64(g.R)}
	b := dims{int64(g.K)}
	for _, d := range []struct {
		md  *memDesc
		n   int32
		d   *dims
		tag int32
	}{{&src, 4, &x, tagNHWC}, {&dst, 4, &y, tagNHWC}, {&wei, 4, &w, tagAny}, {&bias, 1, &b, tagX}} {
		if err = check(lib.mdInitByTag(d.md, d.n, d.d, dtF32, d.tag), "memory descriptor"); err != nil {
			return
		}
	}
	strides = dims{int64(g.Stride), int64(g.Stride)}
	padL = dims{int64(g.Pads[0]), int64(g.Pads[1])}
	padR = dims{int64(g.Pads[2]), int64(g.Pads[3])}
	return
}

// newStep makes the primitive of descriptor op and the memory and reorders
// around it: for each of its three tensors (query, caller's layout, into
// the primitive or out of it).
func (c *Conv) newStep(op unsafe.Pointer, hint uintptr, which int, tensors [3]struct {
	query int32
	user  *memDesc
	out   bool
}, bias bool) (*step, error) {
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
	slots := [3]struct{ mem, user, re *uintptr }{
		{&s.src, &s.srcU, &s.srcIn}, {&s.wei, &s.weiU, &s.weiIn}, {&s.dst, &s.dstU, &s.dstOut},
	}
	for i, t := range tensors {
		md := lib.pdQueryMD(s.pd, t.query, 0)
		if md == nil {
			return nil, errors.Errorf("oneDNN: primitive has no tensor %d", t.query)
		}
		if err := check(lib.memoryCreate(slots[i].user, unsafe.Pointer(t.user), lib.engine, 0), "memory"); err != nil {
			return nil, err
		}
		if lib.mdEqual(md, unsafe.Pointer(t.user)) != 0 {
			continue
		}
		if err := check(lib.memoryCreate(slots[i].mem, md, lib.engine, memoryAllocate), "memory"); err != nil {
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
		err := check(lib.primitiveCreate(slots[i].re, rpd), "reorder primitive")
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

type tensorSpec = struct {
	query int32
	user  *memDesc
	out   bool
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
		{querySrcMD, &c.srcU, false}, {queryWeightsMD, &c.weiU, false}, {queryDstMD, &c.dstU, true},
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
			{querySrcMD, &c.srcU, false}, {queryDiffWeightsMD, &c.weiU, true}, {queryDiffDstMD, &c.dstU, false},
		}, false)
		if err != nil {
			return err
		}
		c.bwdWei = s
		return nil
	}
	if err := check(lib.convBackDataDescInit(&cd, algConvDirect, &src, &wei, &dst, &strides, &padL, &padR), "input-gradient descriptor"); err != nil {
		return err
	}
	s, err := c.newStep(unsafe.Pointer(&cd), c.fwd.pd, 1, [3]tensorSpec{
		{queryDiffSrcMD, &c.srcU, true}, {queryWeightsMD, &c.weiU, false}, {queryDiffDstMD, &c.dstU, false},
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

// run executes p with args and waits for it.
func (c *Conv) run(p uintptr, what string, args ...execArg) error {
	return check(lib.primitiveExecute(p, c.stream, int32(len(args)), &args[0]), what)
}

// in points user at buf and, when the primitive has its own layout,
// reorders it there; it returns the memory the primitive reads.
func (c *Conv) in(user, mem, re uintptr, buf []float32) (uintptr, error) {
	if err := check(lib.memorySetHandle(user, unsafe.Pointer(&buf[0])), "set handle"); err != nil {
		return 0, err
	}
	if re == 0 {
		return user, nil
	}
	return mem, c.run(re, "reorder", execArg{arg: argFrom, mem: user}, execArg{arg: argTo, mem: mem})
}

// out points user at buf and returns the memory the primitive writes.
func (c *Conv) out(user, mem, re uintptr, buf []float32) (uintptr, error) {
	if err := check(lib.memorySetHandle(user, unsafe.Pointer(&buf[0])), "set handle"); err != nil {
		return 0, err
	}
	if re == 0 {
		return user, nil
	}
	return mem, nil
}

// back reorders mem into user when the layouts differ.
func (c *Conv) back(user, mem, re uintptr) error {
	if re == 0 {
		return nil
	}
	return c.run(re, "reorder", execArg{arg: argFrom, mem: mem}, execArg{arg: argTo, mem: user})
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
	src, err := c.in(s.srcU, s.src, s.srcIn, x)
	if err != nil {
		return err
	}
	wei, err := c.in(s.weiU, s.wei, s.weiIn, w)
	if err != nil {
		return err
	}
	dst, err := c.out(s.dstU, s.dst, s.dstOut, y)
	if err != nil {
		return err
	}
	args := []execArg{{arg: argSrc, mem: src}, {arg: argWeights, mem: wei}, {arg: argDst, mem: dst}}
	if bias != nil {
		if err := check(lib.memorySetHandle(s.biasU, unsafe.Pointer(&bias[0])), "set handle"); err != nil {
			return err
		}
		args = append(args, execArg{arg: argBias, mem: s.biasU})
	}
	if err := c.run(s.prim, "forward", args...); err != nil {
		return err
	}
	if err := c.back(s.dstU, s.dst, s.dstOut); err != nil {
		return err
	}
	if s.srcIn != 0 {
		c.srcFrom = unsafe.Pointer(&x[0])
	}
	runtime.KeepAlive(x)
	runtime.KeepAlive(w)
	runtime.KeepAlive(bias)
	runtime.KeepAlive(y)
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
	s := c.bwdData
	ddst, err := c.in(s.dstU, s.dst, s.dstOut, dy)
	if err != nil {
		return err
	}
	wei, err := c.in(s.weiU, s.wei, s.weiIn, w)
	if err != nil {
		return err
	}
	dsrc, err := c.out(s.srcU, s.src, s.srcIn, dx)
	if err != nil {
		return err
	}
	if err := c.run(s.prim, "input gradient", execArg{arg: argDiffDst, mem: ddst}, execArg{arg: argWeights, mem: wei}, execArg{arg: argDiffSrc, mem: dsrc}); err != nil {
		return err
	}
	err = c.back(s.srcU, s.src, s.srcIn)
	runtime.KeepAlive(w)
	runtime.KeepAlive(dy)
	runtime.KeepAlive(dx)
	return err
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
	s := c.bwdWei
	var src uintptr
	var err error
	if c.srcFrom == unsafe.Pointer(&x[0]) && s.srcIn != 0 && lib.mdEqual(lib.pdQueryMD(s.pd, querySrcMD, 0), lib.pdQueryMD(c.fwd.pd, querySrcMD, 0)) != 0 {
		src = c.fwd.src
	} else if src, err = c.in(s.srcU, s.src, s.srcIn, x); err != nil {
		return err
	}
	ddst, err := c.in(s.dstU, s.dst, s.dstOut, dy)
	if err != nil {
		return err
	}
	dwei, err := c.out(s.weiU, s.wei, s.weiIn, dw)
	if err != nil {
		return err
	}
	if err := c.run(s.prim, "weight gradient", execArg{arg: argSrc, mem: src}, execArg{arg: argDiffDst, mem: ddst}, execArg{arg: argDiffWeights, mem: dwei}); err != nil {
		return err
	}
	err = c.back(s.weiU, s.wei, s.weiIn)
	runtime.KeepAlive(x)
	runtime.KeepAlive(dy)
	runtime.KeepAlive(dw)
	return err
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
		for _, p := range []uintptr{s.prim, s.srcIn, s.weiIn, s.dstOut} {
			if p != 0 {
				lib.primitiveDestroy(p)
			}
		}
		for _, m := range []uintptr{s.src, s.wei, s.dst, s.srcU, s.weiU, s.dstU, s.biasU} {
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
