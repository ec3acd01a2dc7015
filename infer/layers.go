package infer

import (
	"math"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/kernels"
	"github.com/spred-go/spred/internal/par"
	"github.com/spred-go/spred/models"
)

// kind is how the engine computes one layer kind. Every kind of the
// models package has its entry in kinds, the one place a kind is wired in:
// adding a kind means adding its entry and its step to this file.
type kind struct {
	// build makes the step of c.node; a nil step means the layer passes
	// its input on unchanged (same values, maybe another shape).
	build func(c *buildCtx) (step, error)
	// inPlace: the step may write its output over an input of the same
	// size (an element-wise step).
	inPlace bool
	// foldsBN: a batchnorm2d that is the only reader of this layer's
	// output is folded into its weights (see buildCtx.weights).
	foldsBN bool
	// fusesReLU: a relu that is the only reader of this layer's output
	// (or of a batch norm folded into it) is computed by its step
	// (buildCtx.relu), which saves a pass over the output.
	fusesReLU bool
}

var kinds = map[string]kind{
	models.Dense:           {build: buildDense, foldsBN: true},
	models.Conv2d:          {build: buildConv, foldsBN: true, fusesReLU: true},
	models.MaxPool2d:       {build: buildMaxPool},
	models.AvgPool2d:       {build: buildAvgPool},
	models.GlobalAvgPool2d: {build: buildGlobalAvgPool},
	models.BatchNorm2d:     {build: buildBatchNorm, inPlace: true},
	models.Add:             {build: func(c *buildCtx) (step, error) { return addStep{relu: c.relu}, nil }, inPlace: true, fusesReLU: true},
	models.ReLU:            {build: func(*buildCtx) (step, error) { return reluStep{}, nil }, inPlace: true},
	models.Flatten:         {build: passThrough},
	models.Dropout:         {build: passThrough}, // off at inference
	models.LeakyReLU: {build: func(c *buildCtx) (step, error) {
		return leakyStep{alpha: float32(c.node.Layer.AlphaOrDefault())}, nil
	}, inPlace: true},
	models.Sigmoid: {build: func(*buildCtx) (step, error) { return sigmoidStep{}, nil }, inPlace: true},
	models.Tanh:    {build: func(*buildCtx) (step, error) { return tanhStep{}, nil }, inPlace: true},
	models.ReLU6:   {build: func(*buildCtx) (step, error) { return relu6Step{}, nil }, inPlace: true},
	models.Clip: {build: func(c *buildCtx) (step, error) {
		lo, hi := c.node.Layer.ClipBounds()
		return clipStep{lo: float32(lo), hi: float32(hi)}, nil
	}, inPlace: true},
	// The probabilities of the class scores (the last layer only).
	models.Softmax: {build: func(c *buildCtx) (step, error) { return softmaxStep{classes: numel(c.node.Out)}, nil }, inPlace: true},
}

func passThrough(*buildCtx) (step, error) { return nil, nil }

// step computes one layer on n samples: it reads in (one slice per input
// of the layer, n samples each) and writes out. out may be one of in for a
// kind marked inPlace. sc is scratch space shared by all steps, at least
// as large as the step asked for at build time.
type step interface {
	run(n int, in [][]float32, out []float32, sc *scratch)
}

// scratch is the engine's temporary memory, shared by the steps (they run
// one after another): sized for the largest demand.
type scratch struct {
	f []float32
	i []int32
}

// buildCtx is what a kind's constructor gets: the node, the model, the
// options (Batch set), the batch norm folded into the node, if any, and
// whether the step applies the relu that reads it (kinds with fusesReLU).
type buildCtx struct {
	node models.Node
	m    *models.Model
	opts Options
	bn   *models.Layer
	relu bool
	e    *Engine
}

// needScratch asks for floats float32 and ints int32 values of scratch
// space.
func (c *buildCtx) needScratch(floats, ints int) {
	c.e.scratchF, c.e.scratchI = max(c.e.scratchF, floats), max(c.e.scratchI, ints)
}

func (c *buildCtx) param(layer, role string) ([]float64, error) {
	name := models.ParamName(layer, role)
	p := c.m.Params.Get(name)
	if p == nil {
		return nil, errors.Errorf("layer %q: missing %s", layer, name)
	}
	return p.Float64s(), nil
}

// weights loads the weight and bias (nil without one) of a dense or conv
// layer with channels outputs, where weight entry i feeds output channel
// channel(i), folds the batch norm c.bn into them if there is one, decides
// between dense and CSR products from the density of the layer's own
// weight and cross, and records the layer's plan.
//
// Folding: with s = scale/√(var+ε) per channel, the layer followed by the
// batch norm is w' = w·s, b' = (b − mean)·s + shift (b = 0 without bias),
// computed in float64. Zeros of w stay zeros, so the density and the
// choice of kernels are those of the unfolded layer.
func (c *buildCtx) weights(channels int, channel func(i int) int, cross float64) (w, b []float32, sparse bool, err error) {
	l := c.node.Layer
	wv, err := c.param(l.Name, models.RoleWeight)
	if err != nil {
		return nil, nil, false, err
	}
	var bv []float64
	if !l.NoBias {
		if bv, err = c.param(l.Name, models.RoleBias); err != nil {
			return nil, nil, false, err
		}
	}
	w = float32s(wv)
	density := float64(nonZero(w)) / float64(len(w))
	sparse = c.opts.Kernels == Sparse || (c.opts.Kernels == Auto && density <= cross)
	plan := LayerPlan{Name: l.Name, Kind: l.Kind, Density: density, Sparse: sparse, ReLU: c.relu}
	if c.bn != nil {
		var s, shift []float64
		if s, shift, err = bnAffine(c, *c.bn); err != nil {
			return nil, nil, false, err
		}
		fw, fb := foldBN(wv, bv, s, shift, channels, channel)
		w, bv = float32s(fw), fb
		plan.BatchNorm = c.bn.Name
	}
	if bv != nil {
		b = float32s(bv)
	}
	c.e.plan = append(c.e.plan, plan)
	return w, b, sparse, nil
}

// bnAffine returns the eval-mode batch norm of layer bn as y = x·s + t per
// channel: s = scale/√(var+ε), t = shift − mean·s.
func bnAffine(c *buildCtx, bn models.Layer) (s, t []float64, err error) {
	var v [4][]float64
	for i, role := range []string{models.RoleScale, models.RoleShift, models.RoleMean, models.RoleVar} {
		if v[i], err = c.param(bn.Name, role); err != nil {
			return nil, nil, err
		}
	}
	scale, shift, mean, vr := v[0], v[1], v[2], v[3]
	eps := bn.EpsOrDefault()
	s, t = make([]float64, len(scale)), make([]float64, len(scale))
	for ch := range scale {
		s[ch] = scale[ch] / math.Sqrt(vr[ch]+eps)
		t[ch] = shift[ch] - mean[ch]*s[ch]
	}
	return s, t, nil
}

// foldBN scales w (entry i feeding channel(i)) and the bias b (nil: zero)
// by s per channel and adds t: the layer followed by y = x·s + t.
func foldBN(w, b, s, t []float64, channels int, channel func(i int) int) (fw, fb []float64) {
	fw = make([]float64, len(w))
	for i, v := range w {
		fw[i] = v * s[channel(i)]
	}
	fb = make([]float64, channels)
	for ch := range fb {
		fb[ch] = t[ch]
		if b != nil {
			fb[ch] += b[ch] * s[ch]
		}
	}
	return fw, fb
}

func buildDense(c *buildCtx) (step, error) {
	in, out := numel(c.node.InShapes[0]), c.node.Layer.Units
	w, b, sparse, err := c.weights(out, func(i int) int { return i % out }, DenseCrossover)
	if err != nil {
		return nil, err
	}
	s := newDense(in, out, w, b, sparse)
	if sparse {
		c.needScratch(c.opts.Batch*(in+out), 0)
	}
	return s, nil
}

func buildConv(c *buildCtx) (step, error) {
	l, in := c.node.Layer, c.node.InShapes[0]
	g := kernels.NewConvPads(c.opts.Batch, in[0], in[1], in[2], l.Filters, l.Kernel, l.StrideOrDefault(), l.PadSides())
	perFilter := in[0] / l.GroupsOrDefault() * l.Kernel * l.Kernel
	w, b, sparse, err := c.weights(l.Filters, func(i int) int { return i / perFilter }, ConvCrossover)
	if err != nil {
		return nil, err
	}
	s := newConv(g, l.GroupsOrDefault(), w, b, sparse)
	s.relu = c.relu
	perImage := (g.Rows() + g.Filters) * g.OH * g.OW // column matrix and product
	if sparse {
		perImage = max(1, s.direct.Scratch(1)) // phase planes
	}
	s.chunk = max(1, min(c.opts.Batch, convScratch/perImage))
	c.needScratch(s.chunk*perImage, 0)
	return s, nil
}

// convScratch bounds the scratch floats of a convolution (64 MiB): larger
// batches are convolved a chunk of images at a time. The column matrix of
// a batch of 1000 CIFAR images would be 590 MB for a 16-channel 3×3 layer.
var convScratch = 1 << 24

// denseStep is y = x·W + b with W in×out: a BLAS product with the dense
// W, or, sparse, yᵀ = Wᵀ·xᵀ with Wᵀ in CSR, where every non-zero weight adds
// a scaled row of xᵀ (one value per sample, contiguous) to a row of yᵀ.
// b is nil for a layer without bias.
type denseStep struct {
	in, out int
	w       []float32
	csr     *kernels.CSR[float32] // Wᵀ, out×in
	b       []float32
}

func newDense(in, out int, w, b []float32, sparse bool) *denseStep {
	s := &denseStep{in: in, out: out, b: b}
	if sparse {
		wt := make([]float32, len(w))
		for i := 0; i < in; i++ {
			for j := 0; j < out; j++ {
				wt[j*in+i] = w[i*out+j]
			}
		}
		s.csr = kernels.NewCSR(wt, out, in)
	} else {
		s.w = w
	}
	return s
}

func (s *denseStep) run(n int, in [][]float32, y []float32, sc *scratch) {
	x := in[0]
	if s.csr == nil {
		if s.b == nil {
			kernels.Gemm(false, false, n, s.out, s.in, 1, x, s.in, s.w, s.out, 0, y, s.out)
			return
		}
		for r := 0; r < n; r++ {
			copy(y[r*s.out:(r+1)*s.out], s.b)
		}
		kernels.Gemm(false, false, n, s.out, s.in, 1, x, s.in, s.w, s.out, 1, y, s.out)
		return
	}
	if n == 1 { // xᵀ and yᵀ are x and y
		s.csr.MulDense(x, 1, y)
		for j, b := range s.b {
			y[j] += b
		}
		return
	}
	xt, yt := sc.f[:n*s.in], sc.f[n*s.in:][:n*s.out]
	kernels.Transpose(xt, x[:n*s.in], n, s.in)
	s.csr.MulDense(xt, n, yt)
	kernels.Transpose(y[:n*s.out], yt, s.out, n)
	if s.b != nil {
		for r := 0; r < n; r++ {
			yr := y[r*s.out : (r+1)*s.out]
			for j, b := range s.b {
				yr[j] += b
			}
		}
	}
}

// convStep is a convolution. Dense: im2col, then per group of channels
// the group's filters (Filters/groups × Ch/groups·K·K) times the group's
// rows of the column matrix (rows are ordered by channel, so a group's rows
// are contiguous), then the bias (none: b is nil). Sparse: the direct
// convolution by the non-zero weights (kernels.SparseConv), no column
// matrix.
type convStep struct {
	g      kernels.Conv // for the largest batch
	groups int
	chunk  int // images per product
	w      []float32
	direct *kernels.SparseConv
	b      []float32
	relu   bool // max(·, 0) of the output
}

func newConv(g kernels.Conv, groups int, w, b []float32, sparse bool) *convStep {
	s := &convStep{g: g, groups: groups, b: b}
	if sparse {
		s.direct = kernels.NewSparseConv(g, groups, w)
	} else {
		s.w = w
	}
	return s
}

func (s *convStep) run(n int, in [][]float32, y []float32, sc *scratch) {
	inSize, outSize := s.g.Ch*s.g.H*s.g.W, s.g.Filters*s.g.OH*s.g.OW
	for b0 := 0; b0 < n; b0 += s.chunk {
		b1 := min(n, b0+s.chunk)
		x, yc := in[0][b0*inSize:b1*inSize], y[b0*outSize:b1*outSize]
		if s.direct != nil {
			s.direct.Forward(b1-b0, x, s.b, s.relu, yc, sc.f)
			continue
		}
		s.runChunk(b1-b0, x, yc, sc)
	}
}

func (s *convStep) runChunk(n int, x, y []float32, sc *scratch) {
	g := s.g
	g.Batch = n
	cols, tmp := sc.f[:g.Rows()*g.Cols()], sc.f[g.Rows()*g.Cols():][:g.Filters*g.Cols()]
	kernels.Im2Col(g, x, cols)
	fg, rows := g.Filters/s.groups, g.Rows()/s.groups
	for grp := 0; grp < s.groups; grp++ {
		gc, gt := cols[grp*rows*g.Cols():][:rows*g.Cols()], tmp[grp*fg*g.Cols():][:fg*g.Cols()]
		kernels.Gemm(false, false, fg, g.Cols(), rows, 1, s.w[grp*fg*rows:], rows, gc, g.Cols(), 0, gt, g.Cols())
	}
	plane := g.OH * g.OW
	par.For(n, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for f := 0; f < g.Filters; f++ {
				dst := y[(b*g.Filters+f)*plane:][:plane]
				src := tmp[f*g.Cols()+b*plane:][:plane]
				var bf float32
				if s.b != nil {
					bf = s.b[f]
				}
				kernels.BiasOut(dst, src, bf, s.relu)
			}
		}
	})
}

// geometry of a pooling layer on a [C, H, W] input: the windows of one
// plane, the channels and the outputs per sample.
type poolGeom struct {
	g       kernels.Pool
	ch, out int
}

func newPoolGeom(c *buildCtx) (poolGeom, error) {
	l, in, out := c.node.Layer, c.node.InShapes[0], c.node.Out
	p := l.PadSides()
	g := kernels.Pool{H: in[1], W: in[2], KH: l.Kernel, KW: l.Kernel, SH: l.StrideOrDefault(), SW: l.StrideOrDefault(),
		D: l.DilationOrDefault(), T: p[0], L: p[1], B: p[2], R: p[3], OH: out[1], OW: out[2], ExcludePad: l.ExcludePad}
	if g.Empty() {
		return poolGeom{}, errors.Errorf("a window of %v on input %v holds no input value", l, in)
	}
	return poolGeom{g: g, ch: in[0], out: numel(out)}, nil
}

func buildMaxPool(c *buildCtx) (step, error) {
	g, err := newPoolGeom(c)
	if err != nil {
		return nil, err
	}
	if g.g.Is22() {
		return maxPool22Step(g), nil
	}
	c.needScratch(0, c.opts.Batch*g.out)
	return maxPoolStep(g), nil
}

// maxPoolStep is max pooling through the training kernel (its argmax goes
// to scratch).
type maxPoolStep poolGeom

func (s maxPoolStep) run(n int, in [][]float32, y []float32, sc *scratch) {
	kernels.MaxPoolWindow(s.g, n*s.ch, in[0], y, sc.i[:n*s.out])
}

// maxPool22Step is unpadded 2×2 max pooling at stride 2, the maxima only.
type maxPool22Step poolGeom

func (s maxPool22Step) run(n int, in [][]float32, y []float32, _ *scratch) {
	kernels.Pool22Values(s.g.H, s.g.W, n*s.ch, in[0], y)
}

func buildAvgPool(c *buildCtx) (step, error) {
	g, err := newPoolGeom(c)
	return avgPoolStep(g), err
}

// avgPoolStep is average pooling, zero padding counted in the mean unless
// the layer excludes it.
type avgPoolStep poolGeom

func (s avgPoolStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	kernels.AvgPoolWindow(s.g, n*s.ch, in[0], y)
}

func buildGlobalAvgPool(c *buildCtx) (step, error) {
	in := c.node.InShapes[0]
	return globalAvgPoolStep{ch: in[0], size: in[1] * in[2]}, nil
}

// globalAvgPoolStep is the mean of every channel.
type globalAvgPoolStep struct{ ch, size int }

func (s globalAvgPoolStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	kernels.GlobalAvgPool(n*s.ch, s.size, in[0], y)
}

func buildBatchNorm(c *buildCtx) (step, error) {
	s, t, err := bnAffine(c, c.node.Layer)
	if err != nil {
		return nil, err
	}
	in := c.node.InShapes[0]
	return &affineStep{plane: in[1] * in[2], s: float32s(s), t: float32s(t)}, nil
}

// affineStep is a batch norm that could not be folded: y = x·s + t per
// channel.
type affineStep struct {
	plane int
	s, t  []float32
}

func (a *affineStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x, ch := in[0], len(a.s)
	par.For(n*ch, par.Grain(n*ch, n*ch*a.plane), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			s, t := a.s[p%ch], a.t[p%ch]
			dst := y[p*a.plane:][:a.plane]
			for i, v := range x[p*a.plane:][:a.plane] {
				dst[i] = v*s + t
			}
		}
	})
}

// addStep is the sum of two inputs of the same shape, and its relu if
// fused.
type addStep struct{ relu bool }

func (s addStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	a, b := in[0], in[1]
	par.For(len(y), 1<<15, func(lo, hi int) {
		a, b, y := a[lo:hi], b[lo:hi], y[lo:hi]
		if s.relu {
			kernels.AddReLU(y, a, b)
			return
		}
		if len(y) == 0 {
			return
		}
		// y = a + b as y += 1·x, one of the inputs being y's buffer
		// where the step runs in place (1·x is x, so the sum is exact).
		if &y[0] == &b[0] {
			a, b = b, a
		}
		if &y[0] != &a[0] {
			copy(y, a)
		}
		kernels.Axpy(1, b, y)
	})
}

// reluStep is max(x, 0).
type reluStep struct{}

func (reluStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = kernels.ReLU(v)
		}
	})
}

// copyStep copies its input: the output of a model whose layers all pass
// the input on (it must not be the caller's x).
type copyStep struct{}

func (copyStep) run(_ int, in [][]float32, y []float32, _ *scratch) { copy(y, in[0]) }

// leakyStep is x for x ≥ 0, alpha·x below.
type leakyStep struct{ alpha float32 }

func (s leakyStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			if v < 0 {
				v *= s.alpha
			}
			y[lo+i] = v
		}
	})
}

// sigmoidStep is 1/(1 + e^-x), computed in float64.
type sigmoidStep struct{}

func (sigmoidStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<13, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	})
}

// tanhStep is tanh(x), computed in float64.
type tanhStep struct{}

func (tanhStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<13, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = float32(math.Tanh(float64(v)))
		}
	})
}

// relu6Step is min(max(x, 0), 6).
type relu6Step struct{}

func (relu6Step) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = min(max(v, 0), 6)
		}
	})
}

// clipStep is min(max(x, lo), hi).
type clipStep struct{ lo, hi float32 }

func (s clipStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x := in[0]
	par.For(len(y), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			y[lo+i] = min(max(v, s.lo), s.hi)
		}
	})
}

// softmaxStep is exp(x)/Σexp(x) over each sample's classes scores, less
// their maximum first, summed in float64.
type softmaxStep struct{ classes int }

func (s softmaxStep) run(n int, in [][]float32, y []float32, _ *scratch) {
	x, k := in[0], s.classes
	par.For(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*k:(r+1)*k], y[r*k:(r+1)*k]
			mx := xr[0]
			for _, v := range xr[1:] {
				mx = max(mx, v)
			}
			var sum float64
			for j, v := range xr {
				e := math.Exp(float64(v - mx))
				yr[j] = float32(e)
				sum += e
			}
			inv := 1 / sum
			for j := range yr {
				yr[j] = float32(float64(yr[j]) * inv)
			}
		}
	})
}
