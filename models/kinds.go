package models

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// Layer kinds understood by Spec. Each has one KindInfo in the registry
// below; that is the only place a kind's shape rule, parameters and
// description live.
const (
	Dense           = "dense"           // fully connected: y = x·W + b, W is [in, units]
	Conv2d          = "conv2d"          // y = W * x + b, W is [filters, channels/groups, kernel, kernel]
	MaxPool2d       = "maxpool2d"       // max over kernel×kernel windows, cells Dilation apart (padding counts as -∞)
	AvgPool2d       = "avgpool2d"       // mean over kernel×kernel windows (padding counts as 0 and is counted unless ExcludePad)
	GlobalAvgPool2d = "globalavgpool2d" // [C, H, W] → [C, 1, 1], the mean of each channel
	BatchNorm2d     = "batchnorm2d"     // per-channel (x - mean)/√(var + eps)·scale + shift
	Add             = "add"             // the sum of two inputs of the same shape
	ReLU            = "relu"            // max(x, 0)
	Flatten         = "flatten"         // [C, H, W] → [C·H·W]
	Dropout         = "dropout"         // zeroes a fraction Rate of activations during training
	LeakyReLU       = "leakyrelu"       // x for x ≥ 0, Alpha·x below (Alpha 0 means DefaultLeakyAlpha)
	Sigmoid         = "sigmoid"         // 1/(1 + e^-x)
	Tanh            = "tanh"            // tanh(x)
	ReLU6           = "relu6"           // min(max(x, 0), 6)
	Softmax         = "softmax"         // e^x/Σe^x over the class scores; only as the last layer (see below)
	Clip            = "clip"            // min(max(x, Min), Max); a nil bound is none (ONNX Clip)
)

// DefaultLeakyAlpha is the slope of a leakyrelu below zero when Alpha is 0,
// PyTorch's default.
const DefaultLeakyAlpha = 0.01

// A trailing softmax. The loss is always the softmax cross-entropy of the
// class scores, so a softmax layer may only be the last layer, reading a
// flat vector of class scores: its output is then the probabilities the
// loss already computes. How each package treats it:
//
//   - models accepts softmax only as the last layer (Spec.Nodes refuses it
//     anywhere else), and Classes is the width of its input and output;
//   - graph builds the loss from the softmax's input, the logits, as for
//     a spec without it (the gradient is that of the cross-entropy on the
//     logits, never through the softmax), and Session.Logits returns those
//     pre-softmax logits;
//   - infer applies it: Engine.Forward returns probabilities, and
//     Engine.Evaluate takes the loss as -log p[label] (the same value);
//   - interop imports an ONNX Softmax (axis 1 or -1) that computes the
//     graph's output, and exports the layer as one.

// Parameter roles: the part of a parameter's name after the layer's name
// and a slash ("conv1/W").
const (
	RoleWeight = "W"     // dense and conv2d weight: prunable
	RoleBias   = "b"     // dense and conv2d bias
	RoleScale  = "scale" // batchnorm2d γ
	RoleShift  = "shift" // batchnorm2d β
	RoleMean   = "mean"  // batchnorm2d running mean (a buffer)
	RoleVar    = "var"   // batchnorm2d running variance (a buffer)
)

// ParamName is the name of a layer's parameter with the given role.
func ParamName(layer, role string) string { return layer + "/" + role }

// WeightName and BiasName give the parameter names of a layer.
func WeightName(layer string) string { return ParamName(layer, RoleWeight) }

// BiasName is the name of a layer's bias parameter.
func BiasName(layer string) string { return ParamName(layer, RoleBias) }

// BatchNorm defaults, PyTorch's: the ε added to the variance and the weight
// of the newest batch in the running statistics.
const (
	DefaultBNEps      = 1e-5
	DefaultBNMomentum = 0.1
)

// KindInfo describes one layer kind to every package that handles layers.
type KindInfo struct {
	Kind    string
	Summary string // one line, for help texts
	// Arity is the number of inputs the layer reads.
	Arity int
	// Named kinds own parameters and need a unique name.
	Named bool
	// Fields are the JSON names of the Layer fields the kind reads; every
	// other setting must be zero.
	Fields []string
	// Shape returns the per-sample output shape for the per-sample input
	// shapes (len(in) == Arity, every dimension positive and every shape
	// within MaxSize; checked before). Errors need not name the layer.
	Shape func(l Layer, in [][]int) ([]int, error)
	// Params lists the parameters the layer owns, in file order; nil for
	// kinds without parameters.
	Params func(l Layer, in [][]int) []ParamInfo
	// MACs counts the multiply-adds of one forward pass of one sample
	// (dense and conv products only); nil counts none.
	MACs func(l Layer, in [][]int, out []int) int64
	// Describe is the layer's settings in a few words ("conv2d 16@3×3 s2").
	Describe func(l Layer) string
}

var kinds = map[string]*KindInfo{}

func register(k *KindInfo) {
	if _, dup := kinds[k.Kind]; dup {
		panic("models: layer kind " + k.Kind + " registered twice")
	}
	kinds[k.Kind] = k
}

// Kind returns the description of a layer kind, or nil for an unknown one.
func Kind(kind string) *KindInfo { return kinds[kind] }

// Kinds lists the layer kinds, sorted.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// GroupsOrDefault is the number of channel groups of a conv2d layer (0
// means 1).
func (l Layer) GroupsOrDefault() int {
	if l.Groups > 0 {
		return l.Groups
	}
	return 1
}

// EpsOrDefault is the ε of a batchnorm2d layer.
func (l Layer) EpsOrDefault() float64 {
	if l.Eps > 0 {
		return l.Eps
	}
	return DefaultBNEps
}

// MomentumOrDefault is the running-statistics momentum of a batchnorm2d layer.
func (l Layer) MomentumOrDefault() float64 {
	if l.Momentum > 0 {
		return l.Momentum
	}
	return DefaultBNMomentum
}

// ClipBounds is the interval of a clip layer, -∞ and +∞ for the bounds it
// has not.
func (l Layer) ClipBounds() (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	if l.Min != nil {
		lo = *l.Min
	}
	if l.Max != nil {
		hi = *l.Max
	}
	return lo, hi
}

// AlphaOrDefault is the slope of a leakyrelu layer below zero.
func (l Layer) AlphaOrDefault() float64 {
	if l.Alpha != 0 {
		return l.Alpha
	}
	return DefaultLeakyAlpha
}

// DilationOrDefault is the spacing of the cells of a maxpool2d window (0
// means 1, adjacent cells).
func (l Layer) DilationOrDefault() int {
	if l.Dilation > 0 {
		return l.Dilation
	}
	return 1
}

// PadSides is the padding of a conv2d or pooling layer on each side of its
// input, [top, left, bottom, right]: Pads when set, else Padding on every
// side.
func (l Layer) PadSides() [4]int {
	if len(l.Pads) == 4 {
		return [4]int{l.Pads[0], l.Pads[1], l.Pads[2], l.Pads[3]}
	}
	return [4]int{l.Padding, l.Padding, l.Padding, l.Padding}
}

// Padded reports whether a conv2d or pooling layer pads its input on any
// side.
func (l Layer) Padded() bool { return l.PadSides() != [4]int{} }

// WindowOut is the number of positions of a window of k cells spaced d
// apart (a span of (k-1)·d+1) moved by s over n cells with lo cells of
// padding before and hi after: ⌊(n+lo+hi-span)/s⌋+1, or with ceil the
// quotient rounded up, less a last window that would start in the
// trailing padding (PyTorch's rule, and ONNX's from opset 19's text).
// It is 0 when the span does not fit the padded input. The arguments are
// at most MaxSize, so nothing overflows.
func WindowOut(n, k, s, d, lo, hi int, ceil bool) int {
	span := int64(k-1)*int64(d) + 1
	room := int64(n) + int64(lo) + int64(hi) - span
	if room < 0 || s <= 0 {
		return 0
	}
	if !ceil {
		return int(room/int64(s) + 1)
	}
	out := (room+int64(s)-1)/int64(s) + 1
	if (out-1)*int64(s) >= int64(n)+int64(lo) {
		out--
	}
	return int(out)
}

// StrideOrDefault returns the effective stride of a conv2d or pooling
// layer: 0 means 1 for conv2d and Kernel for the pools.
func (l Layer) StrideOrDefault() int {
	if l.Stride > 0 {
		return l.Stride
	}
	if l.Kind == MaxPool2d || l.Kind == AvgPool2d {
		return l.Kernel
	}
	return 1
}

// String describes the layer in a few words: its name, kind and settings.
func (l Layer) String() string {
	s := l.Kind
	if k := Kind(l.Kind); k != nil && k.Describe != nil {
		s = k.Describe(l)
	}
	if l.Name != "" {
		s = l.Name + ": " + s
	}
	if len(l.Inputs) > 0 {
		s += " ← " + strings.Join(l.Inputs, ", ")
	}
	return s
}

// setFields returns the JSON names of the settings of l that are not zero
// (besides type, name and inputs).
func (l Layer) setFields() []string {
	var f []string
	add := func(set bool, name string) {
		if set {
			f = append(f, name)
		}
	}
	add(l.Units != 0, "units")
	add(l.Filters != 0, "filters")
	add(l.Kernel != 0, "kernel")
	add(l.Stride != 0, "stride")
	add(l.Padding != 0, "padding")
	add(l.Rate != 0, "rate")
	add(l.Groups != 0, "groups")
	add(l.NoBias, "no_bias")
	add(l.Eps != 0, "eps")
	add(l.Momentum != 0, "momentum")
	add(l.Alpha != 0, "alpha")
	add(l.Pads != nil, "pads")
	add(l.Dilation != 0, "dilation")
	add(l.CeilMode, "ceil_mode")
	add(l.ExcludePad, "exclude_pad")
	add(l.Min != nil, "min")
	add(l.Max != nil, "max")
	return f
}

func same(in []int) []int { return append([]int(nil), in...) }

func numel64(dims ...int) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= int64(d)
	}
	return n
}

// window checks a pooling or convolution window on a [C, H, W] input and
// returns the output height and width.
func window(l Layer, in []int) (int, int, error) {
	if len(in) != 3 {
		return 0, 0, errors.New("needs a [channels, height, width] input")
	}
	if l.Kernel <= 0 || l.Stride < 0 || l.Padding < 0 || l.Dilation < 0 || l.Kernel > MaxSize || l.Stride > MaxSize || l.Padding > MaxSize || l.Dilation > MaxSize {
		return 0, 0, errors.Errorf("kernel %d, stride %d, padding %d, dilation %d out of range", l.Kernel, l.Stride, l.Padding, l.Dilation)
	}
	if l.Pads != nil {
		if len(l.Pads) != 4 {
			return 0, 0, errors.Errorf("pads must list 4 sides [top, left, bottom, right], got %v", l.Pads)
		}
		if l.Padding != 0 {
			return 0, 0, errors.Errorf("pads %v and padding %d are exclusive", l.Pads, l.Padding)
		}
		for _, p := range l.Pads {
			if p < 0 || p > MaxSize {
				return 0, 0, errors.Errorf("pads %v out of range", l.Pads)
			}
		}
	}
	p := l.PadSides()
	s, k, d := l.StrideOrDefault(), l.Kernel, l.DilationOrDefault()
	if span := int64(k-1)*int64(d) + 1; span > MaxSize {
		return 0, 0, errors.Errorf("kernel %d with dilation %d spans more than %d cells", k, d, MaxSize)
	}
	h := WindowOut(in[1], k, s, d, p[0], p[2], l.CeilMode)
	w := WindowOut(in[2], k, s, d, p[1], p[3], l.CeilMode)
	if h <= 0 || w <= 0 {
		return 0, 0, errors.Errorf("kernel %d larger than the padded input", l.Kernel)
	}
	if h > MaxSize || w > MaxSize {
		return 0, 0, errors.Errorf("output of %d×%d values per channel is too large", h, w)
	}
	return h, w, nil
}

// poolShape is the shape rule of the two windowed pools. Every window must
// hold at least one input value: each side's padding is smaller than the
// window's span, and with dilated cells and padding the input is at least
// as large as the dilation (so that no window falls between two cells).
func poolShape(l Layer, in [][]int) ([]int, error) {
	h, w, err := window(l, in[0])
	if err != nil {
		return nil, err
	}
	span := (l.Kernel-1)*l.DilationOrDefault() + 1
	for _, p := range l.PadSides() {
		if p >= span {
			return nil, errors.Errorf("padding %v is not smaller than the window of %d cells on every side", l.PadSides(), span)
		}
	}
	if d := l.DilationOrDefault(); d > 1 && l.Padded() && (in[0][1] < d || in[0][2] < d) {
		return nil, errors.Errorf("padding %v with dilation %d needs an input of at least %d×%d", l.PadSides(), d, d, d)
	}
	return []int{in[0][0], h, w}, nil
}

// padString is the padding in a layer's description: " p1", or
// " p[t,l,b,r]" for sides that differ.
func padString(l Layer) string {
	switch {
	case l.Pads != nil:
		p := l.PadSides()
		return fmt.Sprintf(" p[%d,%d,%d,%d]", p[0], p[1], p[2], p[3])
	case l.Padding > 0:
		return fmt.Sprintf(" p%d", l.Padding)
	}
	return ""
}

func windowString(l Layer) string {
	s := fmt.Sprintf("%s %d×%d", l.Kind, l.Kernel, l.Kernel)
	if l.StrideOrDefault() != l.Kernel {
		s += fmt.Sprintf(" s%d", l.StrideOrDefault())
	}
	s += padString(l)
	if l.DilationOrDefault() != 1 {
		s += fmt.Sprintf(" d%d", l.DilationOrDefault())
	}
	if l.CeilMode {
		s += " ceil"
	}
	if l.ExcludePad {
		s += " exclude-pad"
	}
	return s
}

func biasString(l Layer) string {
	if l.NoBias {
		return ", no bias"
	}
	return ""
}

func init() {
	register(&KindInfo{
		Kind: Dense, Summary: "fully connected layer: y = x·W + b (no_bias drops b)",
		Arity: 1, Named: true, Fields: []string{"units", "no_bias"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			if len(in[0]) != 1 {
				return nil, errors.New("dense needs a flat input; add a flatten layer")
			}
			if l.Units <= 0 || l.Units > MaxSize {
				return nil, errors.Errorf("units must be in [1, %d], got %d", MaxSize, l.Units)
			}
			if !withinMaxSize(in[0][0], l.Units) {
				return nil, errors.Errorf("weight [%d %d] has more than %d values", in[0][0], l.Units, MaxSize)
			}
			return []int{l.Units}, nil
		},
		Params: func(l Layer, in [][]int) []ParamInfo {
			ps := []ParamInfo{{Name: WeightName(l.Name), Shape: []int{in[0][0], l.Units}, Prunable: true, Fanin: in[0][0], Role: RoleWeight}}
			if !l.NoBias {
				ps = append(ps, ParamInfo{Name: BiasName(l.Name), Shape: []int{l.Units}, Fanin: in[0][0], Role: RoleBias})
			}
			return ps
		},
		MACs:     func(l Layer, in [][]int, _ []int) int64 { return numel64(in[0][0], l.Units) },
		Describe: func(l Layer) string { return fmt.Sprintf("dense %d%s", l.Units, biasString(l)) },
	})
	register(&KindInfo{
		Kind: Conv2d, Summary: "2-d convolution with square kernel, zero padding (pads: per side), groups (depthwise when groups = channels)",
		Arity: 1, Named: true, Fields: []string{"filters", "kernel", "stride", "padding", "pads", "groups", "no_bias"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			if l.Filters <= 0 || l.Filters > MaxSize {
				return nil, errors.Errorf("filters must be in [1, %d], got %d", MaxSize, l.Filters)
			}
			h, w, err := window(l, in[0])
			if err != nil {
				return nil, err
			}
			if l.Padding >= l.Kernel {
				return nil, errors.Errorf("padding %d is not less than the kernel %d (a wider border sees only zeros)", l.Padding, l.Kernel)
			}
			c, g := in[0][0], l.GroupsOrDefault()
			if l.Groups < 0 || c%g != 0 || l.Filters%g != 0 {
				return nil, errors.Errorf("groups %d must divide both the %d input channels and the %d filters", l.Groups, c, l.Filters)
			}
			if !withinMaxSize(l.Filters, c/g, l.Kernel, l.Kernel) {
				return nil, errors.Errorf("weight [%d %d %d %d] has more than %d values", l.Filters, c/g, l.Kernel, l.Kernel, MaxSize)
			}
			return []int{l.Filters, h, w}, nil
		},
		Params: func(l Layer, in [][]int) []ParamInfo {
			cg := in[0][0] / l.GroupsOrDefault()
			fanin := cg * l.Kernel * l.Kernel
			ps := []ParamInfo{{Name: WeightName(l.Name), Shape: []int{l.Filters, cg, l.Kernel, l.Kernel}, Prunable: true, Fanin: fanin, Role: RoleWeight}}
			if !l.NoBias {
				ps = append(ps, ParamInfo{Name: BiasName(l.Name), Shape: []int{l.Filters}, Fanin: fanin, Role: RoleBias})
			}
			return ps
		},
		MACs: func(l Layer, in [][]int, out []int) int64 {
			return numel64(l.Filters, in[0][0]/l.GroupsOrDefault(), l.Kernel, l.Kernel, out[1], out[2])
		},
		Describe: func(l Layer) string {
			s := fmt.Sprintf("conv2d %d@%d×%d", l.Filters, l.Kernel, l.Kernel)
			if l.StrideOrDefault() != 1 {
				s += fmt.Sprintf(" s%d", l.StrideOrDefault())
			}
			s += padString(l)
			if l.GroupsOrDefault() > 1 {
				s += fmt.Sprintf(" g%d", l.GroupsOrDefault())
			}
			return s + biasString(l)
		},
	})
	register(&KindInfo{
		Kind: MaxPool2d, Summary: "max over square windows, cells dilation apart; stride defaults to the kernel; padding (pads: per side) smaller than the window counts as -∞; ceil_mode rounds the output size up",
		Arity: 1, Fields: []string{"kernel", "stride", "padding", "pads", "dilation", "ceil_mode"},
		Shape: poolShape, Describe: windowString,
	})
	register(&KindInfo{
		Kind: AvgPool2d, Summary: "mean over square windows; stride defaults to the kernel; zero padding (pads: per side) smaller than the kernel, counted in the mean unless exclude_pad; ceil_mode rounds the output size up",
		Arity: 1, Fields: []string{"kernel", "stride", "padding", "pads", "ceil_mode", "exclude_pad"},
		Shape: poolShape, Describe: windowString,
	})
	register(&KindInfo{
		Kind: GlobalAvgPool2d, Summary: "mean of every channel: [C, H, W] → [C, 1, 1]",
		Arity: 1,
		Shape: func(_ Layer, in [][]int) ([]int, error) {
			if len(in[0]) != 3 {
				return nil, errors.New("needs a [channels, height, width] input")
			}
			return []int{in[0][0], 1, 1}, nil
		},
		Describe: func(Layer) string { return GlobalAvgPool2d },
	})
	register(&KindInfo{
		Kind: BatchNorm2d, Summary: "batch normalisation per channel: learnable scale and shift, running mean and variance as buffers",
		Arity: 1, Named: true, Fields: []string{"eps", "momentum"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			if len(in[0]) != 3 {
				return nil, errors.New("needs a [channels, height, width] input")
			}
			if !(l.Eps >= 0 && l.Eps < 1) {
				return nil, errors.Errorf("eps must be in [0, 1) (0: %g), got %v", DefaultBNEps, l.Eps)
			}
			if !(l.Momentum >= 0 && l.Momentum <= 1) {
				return nil, errors.Errorf("momentum must be in [0, 1] (0: %g), got %v", DefaultBNMomentum, l.Momentum)
			}
			return same(in[0]), nil
		},
		Params: func(l Layer, in [][]int) []ParamInfo {
			c := []int{in[0][0]}
			return []ParamInfo{
				{Name: ParamName(l.Name, RoleScale), Shape: c, Fanin: 1, Role: RoleScale},
				{Name: ParamName(l.Name, RoleShift), Shape: c, Fanin: 1, Role: RoleShift},
				{Name: ParamName(l.Name, RoleMean), Shape: c, Fanin: 1, Role: RoleMean, Buffer: true},
				{Name: ParamName(l.Name, RoleVar), Shape: c, Fanin: 1, Role: RoleVar, Buffer: true},
			}
		},
		Describe: func(l Layer) string {
			s := BatchNorm2d
			if l.Eps != 0 {
				s += fmt.Sprintf(" eps %g", l.Eps)
			}
			if l.Momentum != 0 {
				s += fmt.Sprintf(" momentum %g", l.Momentum)
			}
			return s
		},
	})
	register(&KindInfo{
		Kind: Add, Summary: "the sum of two inputs of the same shape (a residual connection)",
		Arity: 2,
		Shape: func(_ Layer, in [][]int) ([]int, error) {
			if !sameShape(in[0], in[1]) {
				return nil, errors.Errorf("adds inputs of shapes %v and %v", in[0], in[1])
			}
			return same(in[0]), nil
		},
		Describe: func(Layer) string { return Add },
	})
	register(&KindInfo{
		Kind: ReLU, Summary: "max(x, 0)", Arity: 1,
		Shape:    func(_ Layer, in [][]int) ([]int, error) { return same(in[0]), nil },
		Describe: func(Layer) string { return ReLU },
	})
	register(&KindInfo{
		Kind: Flatten, Summary: "[C, H, W] → [C·H·W]", Arity: 1,
		Shape:    func(_ Layer, in [][]int) ([]int, error) { return []int{int(numel64(in[0]...))}, nil },
		Describe: func(Layer) string { return Flatten },
	})
	register(&KindInfo{
		Kind: Dropout, Summary: "zeroes a fraction rate of the activations in training, scaling the others by 1/(1-rate)",
		Arity: 1, Fields: []string{"rate"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			if !(l.Rate >= 0 && l.Rate < 1) {
				return nil, errors.Errorf("rate must be in [0, 1), got %v", l.Rate)
			}
			return same(in[0]), nil
		},
		Describe: func(l Layer) string { return fmt.Sprintf("dropout %g", l.Rate) },
	})
	elementwise := func(kind, summary string) {
		register(&KindInfo{
			Kind: kind, Summary: summary, Arity: 1,
			Shape:    func(_ Layer, in [][]int) ([]int, error) { return same(in[0]), nil },
			Describe: func(Layer) string { return kind },
		})
	}
	register(&KindInfo{
		Kind: LeakyReLU, Summary: "x for x ≥ 0, alpha·x below (alpha 0 means 0.01, PyTorch's default)",
		Arity: 1, Fields: []string{"alpha"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			if math.IsNaN(l.Alpha) || math.IsInf(l.Alpha, 0) {
				return nil, errors.Errorf("alpha must be finite, got %v", l.Alpha)
			}
			return same(in[0]), nil
		},
		Describe: func(l Layer) string {
			if l.Alpha != 0 {
				return fmt.Sprintf("leakyrelu %g", l.Alpha)
			}
			return LeakyReLU
		},
	})
	elementwise(Sigmoid, "1/(1 + exp(-x))")
	elementwise(Tanh, "tanh(x)")
	elementwise(ReLU6, "min(max(x, 0), 6)")
	register(&KindInfo{
		Kind: Clip, Summary: "min(max(x, min), max); a missing bound is none (-∞ or +∞)",
		Arity: 1, Fields: []string{"min", "max"},
		Shape: func(l Layer, in [][]int) ([]int, error) {
			lo, hi := l.ClipBounds()
			if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || math.IsInf(lo, 1) || math.IsInf(hi, -1) {
				return nil, errors.Errorf("bounds [%v, %v] must be numbers with min ≤ max", lo, hi)
			}
			return same(in[0]), nil
		},
		Describe: func(l Layer) string {
			lo, hi := l.ClipBounds()
			return fmt.Sprintf("clip [%g, %g]", lo, hi)
		},
	})
	register(&KindInfo{
		Kind: Softmax, Summary: "probabilities exp(x)/Σexp(x) of flat class scores; only as the last layer (training uses the logits before it)",
		Arity: 1,
		Shape: func(_ Layer, in [][]int) ([]int, error) {
			if len(in[0]) != 1 {
				return nil, errors.New("softmax needs a flat vector of class scores; add a flatten layer")
			}
			return same(in[0]), nil
		},
		Describe: func(Layer) string { return Softmax },
	})
}
