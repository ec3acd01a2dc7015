package models

import (
	"sort"

	"github.com/pkg/errors"
)

// ErrUnknownModel is returned by Lookup for a name not in the zoo.
var ErrUnknownModel = errors.New("unknown model")

// ZooEntry is a named reference architecture.
type ZooEntry struct {
	Name        string
	Description string
	Spec        Spec
	Recipe      Recipe
}

// Recipe is the training schedule that `spred train` uses for a zoo model
// unless told otherwise (SGD with momentum 0.9, weight decay 5e-4 on the
// weights, batch 100, cosine learning rate).
type Recipe struct {
	Epochs int
	LR     float64
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
	return c
}
