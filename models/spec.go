package models

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// LossSoftmaxCrossEntropy is the loss of every network this toolkit
// trains and evaluates: the mean over the batch of the cross-entropy
// between softmax(logits) and the integer class labels. It needs at least
// 2 class scores per sample.
const LossSoftmaxCrossEntropy = "softmax-cross-entropy"

// LossNone marks a spec without a loss: a network whose output is not
// class scores (an imported model with one output value per sample, for
// instance). It runs for inference (the engine's Forward, spred predict
// and logits), but cannot be trained or evaluated: Spec.CheckLoss says so.
const LossNone = "none"

// ErrSpec is returned (wrapped) for every inconsistent specification.
var ErrSpec = errors.New("invalid model spec")

// ErrNoLoss is returned (wrapped) when a spec without a loss is trained or
// evaluated.
var ErrNoLoss = errors.New("model has no loss")

// MaxSize bounds every size in a valid spec: each dimension and layer
// setting, the number of values in each parameter and in all parameters
// together (MaxActivation, far lower, bounds the values per sample). Specs
// come from model files, which are untrusted; the bound keeps every count
// an int can hold on any platform (and every product of two counts inside
// an int64), and rejects networks that could never be allocated instead of
// letting their sizes overflow.
const MaxSize = math.MaxInt32

// MaxActivation bounds the values of one sample in the model's input and in
// each layer's output, and MaxActivations their sum over the input and every
// layer. Running a model holds a batch of these activations in memory, and a
// spec comes from an untrusted file: without the bounds a file of a few
// hundred bytes (a convolution padded by 5000) could ask for hundreds of
// gigabytes. They sit far above what the zoo and real image models need
// (torchvision's resnet18 on 3×224×224 images has at most 802,816 values in
// one layer and about 8.4 million in all; VGG-16 3.2 and 29 million).
const (
	MaxActivation  = 1 << 24 // 16,777,216 values (64 MiB as float32)
	MaxActivations = 1 << 27 // 134,217,728 values (512 MiB as float32)
)

// MaxLayers bounds the number of layers of a spec (ResNet-152 has about
// 500), so that validating an untrusted file stays cheap.
const MaxLayers = 10000

// Layer is one node of a network. It reads the outputs of the layers its
// Inputs name (InputName is the model's input); no Inputs means the
// previous layer's output (the model's input for the first layer), so a
// chain needs none. Only the fields that matter for Kind are used; the
// others must be zero (KindInfo.Fields lists them).
type Layer struct {
	Kind     string   `json:"type"`
	Name     string   `json:"name,omitempty"`     // parameter prefix and the name inputs refer to; required for kinds with parameters
	Inputs   []string `json:"inputs,omitempty"`   // names of the layers read, in order; empty: the previous layer
	Units    int      `json:"units,omitempty"`    // dense: output width
	Filters  int      `json:"filters,omitempty"`  // conv2d: output channels
	Kernel   int      `json:"kernel,omitempty"`   // conv2d, pools: square window size
	Stride   int      `json:"stride,omitempty"`   // conv2d, pools: 0 means 1 for conv2d, Kernel for the pools
	Padding  int      `json:"padding,omitempty"`  // conv2d, pools: padding on every side
	Rate     float64  `json:"rate,omitempty"`     // dropout: probability of dropping a unit
	Groups   int      `json:"groups,omitempty"`   // conv2d: channel groups; 0 means 1
	NoBias   bool     `json:"no_bias,omitempty"`  // dense, conv2d: no bias parameter
	Eps      float64  `json:"eps,omitempty"`      // batchnorm2d: 0 means DefaultBNEps
	Momentum float64  `json:"momentum,omitempty"` // batchnorm2d: 0 means DefaultBNMomentum
	Alpha    float64  `json:"alpha,omitempty"`    // leakyrelu: slope below zero; 0 means DefaultLeakyAlpha
	// Pads is the padding of a conv2d or pool on each side, [top, left,
	// bottom, right], for sides that differ; it excludes Padding (see
	// Layer.PadSides). Empty: Padding on every side.
	Pads       []int    `json:"pads,omitempty"`
	Dilation   int      `json:"dilation,omitempty"`    // maxpool2d: spacing of the window's cells; 0 means 1
	CeilMode   bool     `json:"ceil_mode,omitempty"`   // pools: output size rounded up (see Layer.PoolOut)
	ExcludePad bool     `json:"exclude_pad,omitempty"` // avgpool2d: the mean counts only the input cells of a window, not its padding
	Min        *float64 `json:"min,omitempty"`         // clip: lower bound; nil means none (-∞)
	Max        *float64 `json:"max,omitempty"`         // clip: upper bound; nil means none (+∞)
}

// InputName is the name by which a layer reads the model's input.
const InputName = "input"

// InputIndex stands for the model's input in Node.Inputs.
const InputIndex = -1

// Spec is an architecture: a per-sample input shape ([features] or
// [channels, height, width]), the layers in an order where every layer comes
// after the layers it reads, and the loss. The last layer's output is the
// class scores (any flat output with LossNone); every other layer's output
// must be read by a later layer.
type Spec struct {
	Name   string  `json:"name"`
	Input  []int   `json:"input"`
	Layers []Layer `json:"layers"`
	Loss   string  `json:"loss"`
}

// ParamInfo names one parameter a spec needs: its name, shape and whether it
// is prunable (the weights of dense and conv2d layers are; biases and
// normalisation parameters are not) or a buffer (state kept in the model
// file but not trained by gradients: batch-norm running statistics).
type ParamInfo struct {
	Name     string
	Shape    []int
	Prunable bool
	Buffer   bool
	Layer    int    // index of the owning layer in Spec.Layers
	Fanin    int    // inputs feeding one output unit
	Role     string // RoleWeight, RoleBias, ...
}

// Node is one layer of a resolved spec: the layers it reads (indices into
// Spec.Layers, InputIndex for the model's input), their per-sample output
// shapes, its own, and the layers that read it.
type Node struct {
	Layer     Layer
	Index     int
	Inputs    []int
	InShapes  [][]int
	Out       []int
	Consumers []int
}

// OutShape returns the per-sample output shape of a one-input layer for the
// per-sample input shape in, or an error naming the layer.
func (l Layer) OutShape(in []int) ([]int, error) {
	return l.outShape([][]int{in})
}

func (l Layer) outShape(in [][]int) ([]int, error) {
	fail := func(err error) ([]int, error) {
		return nil, errors.Wrapf(ErrSpec, "layer %q (%s) with input %s: %v", l.Name, l.Kind, shapesString(in), err)
	}
	k := Kind(l.Kind)
	if k == nil {
		return fail(errors.Errorf("unknown layer type (known: %s)", strings.Join(Kinds(), ", ")))
	}
	if len(in) != k.Arity {
		return fail(errors.Errorf("takes %d inputs, got %d", k.Arity, len(in)))
	}
	for _, s := range in {
		for _, d := range s {
			if d <= 0 {
				return fail(errors.New("non-positive dimension"))
			}
		}
		if !withinMaxSize(s...) || numel64(s...) > MaxActivation {
			return fail(errors.Errorf("more than %d values per sample", MaxActivation))
		}
	}
	for _, f := range l.setFields() {
		if !contains(k.Fields, f) {
			return fail(errors.Errorf("%s does not take %q", l.Kind, f))
		}
	}
	out, err := k.Shape(l, in)
	if err != nil {
		return fail(err)
	}
	if !withinMaxSize(out...) || numel64(out...) > MaxActivation {
		return fail(errors.Errorf("output %v has more than %d values per sample", out, MaxActivation))
	}
	return out, nil
}

// Nodes checks the spec and resolves its graph: what each layer reads, the
// shapes, and who reads each layer. Errors name the layer at fault: an
// unknown kind, a missing or repeated name, an input that names no layer or
// a later one (a cycle), a shape that does not fit, an output nobody reads.
func (s Spec) Nodes() ([]Node, error) {
	if len(s.Input) == 0 {
		return nil, errors.Wrap(ErrSpec, "no input shape")
	}
	if len(s.Layers) == 0 {
		return nil, errors.Wrap(ErrSpec, "no layers")
	}
	if len(s.Layers) > MaxLayers {
		return nil, errors.Wrapf(ErrSpec, "%d layers (at most %d)", len(s.Layers), MaxLayers)
	}
	if s.Loss != LossSoftmaxCrossEntropy && s.Loss != LossNone {
		return nil, errors.Wrapf(ErrSpec, "unknown loss %q (want %q, or %q for a model that only runs inference)", s.Loss, LossSoftmaxCrossEntropy, LossNone)
	}
	byName := make(map[string]int, len(s.Layers)) // every named layer
	for i, l := range s.Layers {
		if l.Name == "" {
			continue
		}
		if l.Name == InputName {
			return nil, errors.Wrapf(ErrSpec, "layer %d (%s): the name %q is reserved for the model's input", i, l.Kind, InputName)
		}
		if _, dup := byName[l.Name]; dup {
			return nil, errors.Wrapf(ErrSpec, "layer name %q used twice", l.Name)
		}
		byName[l.Name] = i
	}
	nodes := make([]Node, len(s.Layers))
	var params int64 // at most 5·MaxSize: checked after every layer
	var acts int64   // at most MaxActivations + MaxActivation: checked after every layer
	if withinMaxSize(s.Input...) {
		acts = numel64(s.Input...)
	}
	for i, l := range s.Layers {
		k := Kind(l.Kind)
		if l.Kind == Softmax && i != len(s.Layers)-1 {
			return nil, errors.Wrapf(ErrSpec, "layer %d %q (softmax): softmax is allowed only as the last layer (the loss is the cross-entropy of the logits before it)", i, l.Name)
		}
		if k != nil && k.Named && l.Name == "" {
			return nil, errors.Wrapf(ErrSpec, "layer %d (%s) has no name", i, l.Kind)
		}
		n := Node{Layer: l, Index: i}
		if len(l.Inputs) == 0 {
			n.Inputs = []int{i - 1} // the model's input (InputIndex) for the first layer
		}
		for _, name := range l.Inputs {
			j, err := s.resolveInput(i, name, byName)
			if err != nil {
				return nil, err
			}
			n.Inputs = append(n.Inputs, j)
		}
		for _, j := range n.Inputs {
			if j == InputIndex {
				n.InShapes = append(n.InShapes, s.Input)
			} else {
				n.InShapes = append(n.InShapes, nodes[j].Out)
				nodes[j].Consumers = append(nodes[j].Consumers, i)
			}
		}
		out, err := l.outShape(n.InShapes)
		if err != nil {
			return nil, err
		}
		n.Out = out
		if k.Params != nil {
			for _, p := range k.Params(l, n.InShapes) {
				params += numel64(p.Shape...)
			}
		}
		if params > MaxSize {
			return nil, errors.Wrapf(ErrSpec, "more than %d parameters (at layer %d, %q)", MaxSize, i, l.Name)
		}
		if acts += numel64(out...); acts > MaxActivations {
			return nil, errors.Wrapf(ErrSpec, "more than %d activation values per sample in the input and the layers up to layer %d %q (%s)", MaxActivations, i, l.Name, l.Kind)
		}
		nodes[i] = n
	}
	for i, n := range nodes[:len(nodes)-1] {
		if len(n.Consumers) == 0 {
			return nil, errors.Wrapf(ErrSpec, "layer %d %q (%s): its output is not read by any later layer", i, n.Layer.Name, n.Layer.Kind)
		}
	}
	out := nodes[len(nodes)-1].Out
	if len(out) != 1 {
		return nil, errors.Wrapf(ErrSpec, "the last layer must give a flat vector (of class scores), got %v", out)
	}
	if out[0] < 2 && s.Loss != LossNone {
		return nil, errors.Wrapf(ErrSpec, "the last layer must give a flat vector of at least 2 class scores for the loss %q, got %v (a model with one output value per sample has loss %q and only runs inference)", s.Loss, out, LossNone)
	}
	return nodes, nil
}

// CheckLoss reports whether the spec can be trained and evaluated: an
// error wrapping ErrNoLoss for a spec with LossNone, which only runs
// inference.
func (s Spec) CheckLoss() error {
	if s.Loss == LossNone {
		return errors.Wrapf(ErrNoLoss, "model %q (loss %q) only runs inference: training and evaluation need the loss %q, over at least 2 class scores per sample", s.Name, s.Loss, LossSoftmaxCrossEntropy)
	}
	return nil
}

// resolveInput finds the layer that layer i reads by name.
func (s Spec) resolveInput(i int, name string, byName map[string]int) (int, error) {
	l := s.Layers[i]
	if name == InputName {
		return InputIndex, nil
	}
	j, ok := byName[name]
	switch {
	case !ok:
		return 0, errors.Wrapf(ErrSpec, "layer %d %q (%s): input %q names no layer", i, l.Name, l.Kind, name)
	case j == i:
		return 0, errors.Wrapf(ErrSpec, "layer %d %q (%s): reads itself (a cycle)", i, l.Name, l.Kind)
	case j > i:
		if path := s.cycleThrough(i, j, byName); path != "" {
			return 0, errors.Wrapf(ErrSpec, "layer %d %q (%s): cycle %s", i, l.Name, l.Kind, path)
		}
		return 0, errors.Wrapf(ErrSpec, "layer %d %q (%s): input %q comes later in the list; list every layer after the layers it reads", i, l.Name, l.Kind, name)
	}
	return j, nil
}

// cycleThrough looks for a path of inputs from layer j back to layer i and
// returns it as "i → … → i", or "" if there is none.
func (s Spec) cycleThrough(i, j int, byName map[string]int) string {
	prev := map[int]int{j: i}
	queue := []int{j}
	for len(queue) > 0 && len(prev) <= len(s.Layers) {
		k := queue[0]
		queue = queue[1:]
		for _, in := range s.inputsOf(k, byName) {
			if in == i {
				path := []string{s.Layers[i].Name}
				for c := k; c != i; c = prev[c] {
					path = append(path, s.Layers[c].Name)
				}
				path = append(path, s.Layers[i].Name)
				for a, b := 1, len(path)-2; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return strings.Join(path, " → ")
			}
			if _, seen := prev[in]; !seen && in >= 0 {
				prev[in] = k
				queue = append(queue, in)
			}
		}
	}
	return ""
}

// inputsOf is what layer k reads, by index, ignoring names that resolve to
// nothing.
func (s Spec) inputsOf(k int, byName map[string]int) []int {
	l := s.Layers[k]
	if len(l.Inputs) == 0 {
		return []int{k - 1}
	}
	var out []int
	for _, name := range l.Inputs {
		if j, ok := byName[name]; ok {
			out = append(out, j)
		}
	}
	return out
}

// Shapes checks the spec and returns the per-sample output shape of every
// layer (shapes[i] is the output of Layers[i]).
func (s Spec) Shapes() ([][]int, error) {
	nodes, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(nodes))
	for i, n := range nodes {
		out[i] = n.Out
	}
	return out, nil
}

// IsChain reports whether every layer reads the one before it (the model's
// input for the first): a sequential network.
func (s Spec) IsChain() bool {
	for i, l := range s.Layers {
		switch len(l.Inputs) {
		case 0:
		case 1:
			want := InputName
			if i > 0 {
				want = s.Layers[i-1].Name
			}
			if l.Inputs[0] != want || want == "" {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Validate reports whether the spec is consistent.
func (s Spec) Validate() error {
	_, err := s.Nodes()
	return err
}

// Classes is the number of class scores the network outputs (0 if invalid;
// with LossNone, the number of output values).
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

// Params lists the parameters the spec needs, in layer order and within a
// layer in the order its kind lists them (W before b).
func (s Spec) Params() ([]ParamInfo, error) {
	nodes, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	var ps []ParamInfo
	for i, n := range nodes {
		k := Kind(n.Layer.Kind)
		if k.Params == nil {
			continue
		}
		for _, p := range k.Params(n.Layer, n.InShapes) {
			p.Layer = i
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// Counts are the sizes of a spec: its parameters (buffers excluded), the
// prunable ones among them, and the values in buffers.
type Counts struct {
	Params   int `json:"params"`
	Prunable int `json:"prunable_params"`
	Buffers  int `json:"buffers"`
}

// Counts counts the values of the spec's parameters and buffers.
func (s Spec) Counts() (Counts, error) {
	ps, err := s.Params()
	if err != nil {
		return Counts{}, err
	}
	var c Counts
	for _, p := range ps {
		n := numel(p.Shape)
		switch {
		case p.Buffer:
			c.Buffers += n
		case p.Prunable:
			c.Prunable += n
			c.Params += n
		default:
			c.Params += n
		}
	}
	return c, nil
}

// String describes the spec, one layer a line after a header line.
func (s Spec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: input %v\n", s.Name, s.Input)
	shapes, _ := s.Shapes()
	for i, l := range s.Layers {
		fmt.Fprintf(&b, "  %s", l)
		if shapes != nil {
			fmt.Fprintf(&b, " → %v", shapes[i])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// MarshalSpec and ParseSpec convert a spec to and from JSON; ParseSpec
// rejects unknown fields and inconsistent specs.
func MarshalSpec(s Spec) ([]byte, error) { return json.Marshal(s) }

// ParseSpec decodes and validates a JSON spec.
func ParseSpec(b []byte) (Spec, error) {
	var s Spec
	if err := strictUnmarshal(b, &s); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", err, ErrSpec)
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

func shapesString(in [][]int) string {
	if len(in) == 1 {
		return fmt.Sprint(in[0])
	}
	parts := make([]string, len(in))
	for i, s := range in {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, " and ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
