package models

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
)

// ErrUnknownModel is returned by Lookup for a name not in the zoo.
var ErrUnknownModel = errors.New("unknown model")

// ZooEntry is a named reference architecture.
type ZooEntry struct {
	Name        string
	Description string
	// Spec is the architecture for its default input shape.
	Spec   Spec
	Recipe Recipe
	// build makes the architecture for another input shape; nil for
	// architectures that take only Spec.Input.
	build func(input []int) (Spec, error)
}

// ForInput returns the architecture for a per-sample input shape: the
// ResNets take any [channels, height, width] image of at least 8×8; the
// LeNets only their own input (a LeNet-300-100 takes any image of 784
// values, flattened).
func (e ZooEntry) ForInput(input []int) (Spec, error) {
	if e.build != nil {
		return e.build(input)
	}
	if numel(input) == e.Spec.InputSize() {
		return e.Spec.clone(), nil
	}
	return Spec{}, errors.Wrapf(ErrSpec, "%s takes inputs of shape %v, not %v", e.Name, e.Spec.Input, input)
}

// Recipe is the training schedule that `spred train` uses for a zoo model
// unless told otherwise (SGD with momentum 0.9, weight decay 5e-4 on the
// weights, batch 100, cosine learning rate).
type Recipe struct {
	Epochs int
	LR     float64
	// Augment turns on random crops and flips of training images (see
	// dataset.Augment) unless the data set says otherwise.
	Augment bool
}

var zoo = map[string]ZooEntry{
	"lenet-300-100": {
		Name:        "lenet-300-100",
		Description: "MLP 784-300-100-10 with ReLU (LeCun et al. 1998; Han et al. 2015)",
		Spec: Spec{
			Name:  "lenet-300-100",
			Input: []int{784},
			Layers: []Layer{
				{Kind: Dense, Name: "fc1", Units: 300}, {Kind: ReLU},
				{Kind: Dense, Name: "fc2", Units: 100}, {Kind: ReLU},
				{Kind: Dense, Name: "fc3", Units: 10},
			},
			Loss: LossSoftmaxCrossEntropy,
		},
		Recipe: Recipe{Epochs: 15, LR: 0.05},
	},
	"lenet-5": {
		Name:        "lenet-5",
		Description: "Caffe LeNet-5: conv 20@5x5, maxpool 2, conv 50@5x5, maxpool 2, fc 500, fc 10",
		Spec: Spec{
			Name:  "lenet-5",
			Input: []int{1, 28, 28},
			Layers: []Layer{
				{Kind: Conv2d, Name: "conv1", Filters: 20, Kernel: 5},
				{Kind: MaxPool2d, Kernel: 2},
				{Kind: Conv2d, Name: "conv2", Filters: 50, Kernel: 5},
				{Kind: MaxPool2d, Kernel: 2},
				{Kind: Flatten},
				{Kind: Dense, Name: "fc1", Units: 500}, {Kind: ReLU},
				{Kind: Dense, Name: "fc2", Units: 10},
			},
			Loss: LossSoftmaxCrossEntropy,
		},
		// At lr 0.05 this network without normalisation diverges in its
		// first steps.
		Recipe: Recipe{Epochs: 12, LR: 0.02},
	},
}

func init() {
	for _, r := range []struct {
		name   string
		blocks int
		epochs int
	}{{"resnet-8", 1, 15}, {"resnet-20", 3, 20}} {
		blocks := r.blocks
		build := func(input []int) (Spec, error) { return CIFARResNet(r.name, blocks, input) }
		spec, err := build([]int{3, 32, 32})
		if err != nil {
			panic(err)
		}
		zoo[r.name] = ZooEntry{
			Name: r.name,
			Description: fmt.Sprintf("He et al.'s CIFAR ResNet-%d: conv 16, 3 stages of %d basic block(s) at 16/32/64 channels, BatchNorm, projection shortcuts, global pool, fc 10; any [C, H, W] input",
				6*blocks+2, blocks),
			Spec:   spec,
			Recipe: Recipe{Epochs: r.epochs, LR: 0.1, Augment: true},
			build:  build,
		}
	}
}

// CIFARResNet is He et al.'s ResNet for CIFAR (2016, section 4.2) with
// 6·blocks+2 layers, for a [channels, height, width] input: a 3×3
// convolution to 16 channels, three stages of basic blocks at 16, 32 and 64
// channels (stride 2 at the start of the second and third), BatchNorm after
// every convolution (which has no bias), a 1×1 convolution with BatchNorm as
// the shortcut where the shape changes, global average pooling and a dense
// layer to 10 classes. Layer names follow torchvision's ("layer2.0.conv1",
// "layer2.0.shortcut.0").
func CIFARResNet(name string, blocks int, input []int) (Spec, error) {
	if len(input) != 3 || input[0] <= 0 || input[1] < 8 || input[2] < 8 {
		return Spec{}, errors.Wrapf(ErrSpec, "%s takes a [channels, height, width] image of at least 8×8, not %v", name, input)
	}
	if blocks <= 0 {
		return Spec{}, errors.Wrapf(ErrSpec, "%s: %d blocks per stage", name, blocks)
	}
	s := Spec{Name: name, Input: append([]int(nil), input...), Loss: LossSoftmaxCrossEntropy}
	add := func(l Layer) string {
		s.Layers = append(s.Layers, l)
		return l.Name
	}
	conv := func(name string, filters, kernel, stride int, inputs ...string) string {
		return add(Layer{Kind: Conv2d, Name: name, Inputs: inputs, Filters: filters, Kernel: kernel, Stride: stride, Padding: kernel / 2, NoBias: true})
	}
	bn := func(name string) string { return add(Layer{Kind: BatchNorm2d, Name: name}) }
	conv("conv1", 16, 3, 1)
	bn("bn1")
	prev := add(Layer{Kind: ReLU, Name: "relu"})
	channels := 16
	for stage, width := range []int{16, 32, 64} {
		for b := 0; b < blocks; b++ {
			p := fmt.Sprintf("layer%d.%d.", stage+1, b)
			stride := 1
			if stage > 0 && b == 0 {
				stride = 2
			}
			conv(p+"conv1", width, 3, stride)
			bn(p + "bn1")
			add(Layer{Kind: ReLU, Name: p + "relu1"})
			conv(p+"conv2", width, 3, 1)
			main := bn(p + "bn2")
			short := prev
			if stride != 1 || channels != width {
				conv(p+"shortcut.0", width, 1, stride, prev)
				short = bn(p + "shortcut.1")
			}
			add(Layer{Kind: Add, Name: p + "add", Inputs: []string{main, short}})
			prev = add(Layer{Kind: ReLU, Name: p + "relu2"})
			channels = width
		}
	}
	add(Layer{Kind: GlobalAvgPool2d, Name: "avgpool"})
	add(Layer{Kind: Flatten})
	add(Layer{Kind: Dense, Name: "fc", Units: 10})
	return s, s.Validate()
}

// Zoo lists the reference architectures, sorted by name.
func Zoo() []ZooEntry {
	out := make([]ZooEntry, 0, len(zoo))
	for _, e := range zoo {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the spec of a zoo architecture.
func Lookup(name string) (Spec, error) {
	e, err := LookupEntry(name)
	return e.Spec, err
}

// LookupEntry returns a zoo entry (with a copy of its spec).
func LookupEntry(name string) (ZooEntry, error) {
	e, ok := zoo[name]
	if !ok {
		names := make([]string, 0, len(zoo))
		for n := range zoo {
			names = append(names, n)
		}
		sort.Strings(names)
		return ZooEntry{}, errors.Wrapf(ErrUnknownModel, "%q (known: %v)", name, names)
	}
	e.Spec = e.Spec.clone()
	return e, nil
}

func (s Spec) clone() Spec {
	c := s
	c.Input = append([]int(nil), s.Input...)
	c.Layers = append([]Layer(nil), s.Layers...)
	for i := range c.Layers {
		c.Layers[i].Inputs = append([]string(nil), c.Layers[i].Inputs...)
		if c.Layers[i].Pads != nil {
			c.Layers[i].Pads = append([]int(nil), c.Layers[i].Pads...)
		}
	}
	return c
}
