package models

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/pkg/errors"
)

// Layer kinds understood by Spec.
const (
	Dense     = "dense"     // fully connected: y = x·W + b, W is [in, units]
	Conv2d    = "conv2d"    // y = W * x + b, W is [filters, channels, kernel, kernel]
	MaxPool2d = "maxpool2d" // max over kernel×kernel windows
	ReLU      = "relu"      // max(x, 0)
	Flatten   = "flatten"   // [C, H, W] → [C·H·W]
	Dropout   = "dropout"   // zeroes a fraction Rate of activations during training
)

// LossSoftmaxCrossEntropy is the only loss: the mean over the batch of the
// cross-entropy between softmax(logits) and the integer class labels.
const LossSoftmaxCrossEntropy = "softmax-cross-entropy"

// ErrSpec is returned (wrapped) for every inconsistent specification.
var ErrSpec = errors.New("invalid model spec")

// MaxSize bounds every size in a valid spec: each dimension and layer
// setting, the number of values in each layer's input and output, in each
// parameter and in all parameters together. Specs come from model files,
// which are untrusted; the bound keeps every count an int can hold on any
// platform (and every product of two counts inside an int64), and rejects
// networks that could never be allocated instead of letting their sizes
// overflow.
const MaxSize = math.MaxInt32

// Layer is one step of a sequential network. Only the fields that matter for
// Kind are used; the others must be zero.
type Layer struct {
	Kind    string  `json:"type"`
	Name    string  `json:"name,omitempty"`    // parameter prefix; required for dense and conv2d
	Units   int     `json:"units,omitempty"`   // dense: output width
	Filters int     `json:"filters,omitempty"` // conv2d: output channels
	Kernel  int     `json:"kernel,omitempty"`  // conv2d, maxpool2d: square window size
	Stride  int     `json:"stride,omitempty"`  // conv2d, maxpool2d: 0 means 1 for conv2d, Kernel for maxpool2d
	Padding int     `json:"padding,omitempty"` // conv2d, maxpool2d: zero padding on every side
	Rate    float64 `json:"rate,omitempty"`    // dropout: probability of dropping a unit
}

// Spec is a sequential architecture: a per-sample input shape ([features] or
// [channels, height, width]), the layers in order and the loss.
type Spec struct {
	Name   string  `json:"name"`
	Input  []int   `json:"input"`
	Layers []Layer `json:"layers"`
	Loss   string  `json:"loss"`
}

// ParamInfo names one parameter a spec needs: its name, shape and whether it
// is prunable (the weights of dense and conv2d layers are; biases are not).
type ParamInfo struct {
	Name     string
	Shape    []int
	Prunable bool
	Layer    int    // index of the owning layer in Spec.Layers
	Fanin    int    // inputs feeding one output unit
	Role     string // "W" or "b"
}

// WeightName and BiasName give the parameter names of a layer.
func WeightName(layer string) string { return layer + "/W" }

// BiasName is the name of a layer's bias parameter.
func BiasName(layer string) string { return layer + "/b" }

// StrideOrDefault returns the effective stride of a conv2d or maxpool2d layer.
func (l Layer) StrideOrDefault() int {
	if l.Stride > 0 {
		return l.Stride
	}
	if l.Kind == MaxPool2d {
		return l.Kernel
	}
	return 1
}

// OutShape returns the per-sample output shape of l for the per-sample input
// shape in, or an error naming the layer when they do not chain.
func (l Layer) OutShape(in []int) ([]int, error) {
	fail := func(format string, args ...interface{}) ([]int, error) {
		return nil, errors.Wrapf(ErrSpec, "layer %q (%s) with input %v: %s", l.Name, l.Kind, in, fmt.Sprintf(format, args...))
	}
	for _, d := range in {
		if d <= 0 {
			return fail("non-positive dimension")
		}
	}
	if !withinMaxSize(in...) {
		return fail("more than %d values per sample", MaxSize)
	}
	switch l.Kind {
	case Dense:
		if len(in) != 1 {
			return fail("dense needs a flat input; add a flatten layer")
		}
		if l.Units <= 0 || l.Units > MaxSize {
			return fail("units must be in [1, %d], got %d", MaxSize, l.Units)
		}
		if !withinMaxSize(in[0], l.Units) {
			return fail("weight [%d %d] has more than %d values", in[0], l.Units, MaxSize)
		}
		return []int{l.Units}, nil
	case Conv2d, MaxPool2d:
		if len(in) != 3 {
			return fail("needs a [channels, height, width] input")
		}
		if l.Kernel <= 0 || l.Stride < 0 || l.Padding < 0 || l.Kernel > MaxSize || l.Stride > MaxSize || l.Padding > MaxSize {
			return fail("kernel %d, stride %d, padding %d out of range", l.Kernel, l.Stride, l.Padding)
		}
		if l.Kind == Conv2d && (l.Filters <= 0 || l.Filters > MaxSize) {
			return fail("filters must be in [1, %d], got %d", MaxSize, l.Filters)
		}
		// Every term is at most MaxSize, so none of this overflows an int64.
		s, k, pad := int64(l.StrideOrDefault()), int64(l.Kernel), int64(l.Padding)
		ph, pw := int64(in[1])+2*pad, int64(in[2])+2*pad
		if ph < k || pw < k {
			return fail("kernel %d larger than the padded input", l.Kernel)
		}
		if l.Kind == MaxPool2d && l.Padding > 0 {
			return fail("padded max-pooling is not supported")
		}
		h, w := (ph-k)/s+1, (pw-k)/s+1
		if h > MaxSize || w > MaxSize {
			return fail("output of %d×%d values per channel is too large", h, w)
		}
		c := in[0]
		if l.Kind == Conv2d {
			c = l.Filters
			if !withinMaxSize(l.Filters, in[0], l.Kernel, l.Kernel) {
				return fail("weight [%d %d %d %d] has more than %d values", l.Filters, in[0], l.Kernel, l.Kernel, MaxSize)
			}
		}
		out := []int{c, int(h), int(w)}
		if !withinMaxSize(out...) {
			return fail("output %v has more than %d values per sample", out, MaxSize)
		}
		return out, nil
	case ReLU:
		return append([]int(nil), in...), nil
	case Dropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return fail("rate must be in [0, 1), got %v", l.Rate)
		}
		return append([]int(nil), in...), nil
	case Flatten:
		n := 1
		for _, d := range in {
			n *= d
		}
		return []int{n}, nil
	default:
		return fail("unknown layer type")
	}
}

// Shapes checks that the layers chain and returns the per-sample output shape
// of every layer (shapes[i] is the output of Layers[i]).
func (s Spec) Shapes() ([][]int, error) {
	if len(s.Input) == 0 {
		return nil, errors.Wrap(ErrSpec, "no input shape")
	}
	if len(s.Layers) == 0 {
		return nil, errors.Wrap(ErrSpec, "no layers")
	}
	if s.Loss != LossSoftmaxCrossEntropy {
		return nil, errors.Wrapf(ErrSpec, "unknown loss %q (want %q)", s.Loss, LossSoftmaxCrossEntropy)
	}
	seen := map[string]bool{}
	in := s.Input
	out := make([][]int, len(s.Layers))
	var params int64 // at most 3·MaxSize: checked after every layer
	for i, l := range s.Layers {
		if l.Kind == Dense || l.Kind == Conv2d {
			if l.Name == "" {
				return nil, errors.Wrapf(ErrSpec, "layer %d (%s) has no name", i, l.Kind)
			}
			if seen[l.Name] {
				return nil, errors.Wrapf(ErrSpec, "layer name %q used twice", l.Name)
			}
			seen[l.Name] = true
		}
		o, err := l.OutShape(in)
		if err != nil {
			return nil, err
		}
		// OutShape has checked that the layer's weight holds at most
		// MaxSize values.
		switch l.Kind {
		case Dense:
			params += int64(in[0])*int64(l.Units) + int64(l.Units)
		case Conv2d:
			params += int64(l.Filters)*int64(in[0])*int64(l.Kernel)*int64(l.Kernel) + int64(l.Filters)
		}
		if params > MaxSize {
			return nil, errors.Wrapf(ErrSpec, "more than %d parameters (at layer %d, %q)", MaxSize, i, l.Name)
		}
		out[i] = o
		in = o
	}
	if len(in) != 1 || in[0] < 2 {
		return nil, errors.Wrapf(ErrSpec, "the last layer must give a flat vector of at least 2 class scores, got %v", in)
	}
	return out, nil
}

// Validate reports whether the spec is consistent.
func (s Spec) Validate() error {
	_, err := s.Shapes()
	return err
}

// Classes is the number of class scores the network outputs (0 if invalid).
func (s Spec) Classes() int {
	sh, err := s.Shapes()
	if err != nil {
		return 0
	}
	return sh[len(sh)-1][0]
}

// InputSize is the number of values in one input sample.
func (s Spec) InputSize() int {
	n := 1
	for _, d := range s.Input {
		n *= d
	}
	return n
}

// Params lists the parameters the spec needs, in layer order (W before b).
func (s Spec) Params() ([]ParamInfo, error) {
	shapes, err := s.Shapes()
	if err != nil {
		return nil, err
	}
	var ps []ParamInfo
	in := s.Input
	for i, l := range s.Layers {
		switch l.Kind {
		case Dense:
			ps = append(ps,
				ParamInfo{Name: WeightName(l.Name), Shape: []int{in[0], l.Units}, Prunable: true, Layer: i, Fanin: in[0], Role: "W"},
				ParamInfo{Name: BiasName(l.Name), Shape: []int{l.Units}, Layer: i, Fanin: in[0], Role: "b"})
		case Conv2d:
			fanin := in[0] * l.Kernel * l.Kernel
			ps = append(ps,
				ParamInfo{Name: WeightName(l.Name), Shape: []int{l.Filters, in[0], l.Kernel, l.Kernel}, Prunable: true, Layer: i, Fanin: fanin, Role: "W"},
				ParamInfo{Name: BiasName(l.Name), Shape: []int{l.Filters}, Layer: i, Fanin: fanin, Role: "b"})
		}
		in = shapes[i]
	}
	return ps, nil
}

// ParamCount is the total number of parameter values the spec needs.
func (s Spec) ParamCount() (int, error) {
	ps, err := s.Params()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range ps {
		n += numel(p.Shape)
	}
	return n, nil
}

// MarshalSpec and ParseSpec convert a spec to and from JSON; ParseSpec
// rejects unknown fields and inconsistent specs.
func MarshalSpec(s Spec) ([]byte, error) { return json.Marshal(s) }

// ParseSpec decodes and validates a JSON spec.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	if err := strictUnmarshal(b, &s); err != nil {
		return Spec{}, errors.Wrap(ErrSpec, err.Error())
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// withinMaxSize reports whether dims are positive and their product is at
// most MaxSize.
func withinMaxSize(dims ...int) bool {
	n := int64(1)
	for _, d := range dims {
		if d <= 0 || int64(d) > MaxSize/n {
			return false
		}
		n *= int64(d)
	}
	return true
}
