package models_test

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/spred-go/spred/models"
)

// validSpecs and malformedSpecs seed FuzzParseSpec next to the zoo's
// specs; the same inputs are in testdata/fuzz/FuzzParseSpec.
var validSpecs = []string{
	`{"name":"tiny","input":[3],"layers":[{"type":"dense","name":"fc","units":2}],"loss":"softmax-cross-entropy"}`,
	`{"name":"conv","input":[2,7,7],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"stride":2,"padding":1},{"type":"relu"},{"type":"maxpool2d","kernel":3,"stride":1},{"type":"dropout","rate":0.25},{"type":"flatten"},{"type":"dense","name":"fc","units":3}],"loss":"softmax-cross-entropy"}`,
	// 32767·65536 ≤ MaxSize parameters from an input of 65535 values.
	`{"name":"limit","input":[65535],"layers":[{"type":"dense","name":"fc","units":32767}],"loss":"softmax-cross-entropy"}`,
	// MaxActivation values in the input, and in one layer's output.
	`{"name":"wide","input":[16777216],"layers":[{"type":"dense","name":"fc","units":2}],"loss":"softmax-cross-entropy"}`,
	`{"name":"tall","input":[1,4096,4096],"layers":[{"type":"relu"},{"type":"maxpool2d","kernel":64},{"type":"flatten"},{"type":"dense","name":"fc","units":2}],"loss":"softmax-cross-entropy"}`,
}

// malformedSpecs must all be refused.
var malformedSpecs = []string{
	``,
	`null`,
	`{}`,
	`[]`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"} {}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10,"colour":"red"}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":"10"}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1e1}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[-784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"mse"}`,
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"a","units":10},{"type":"dense","name":"a","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":-3},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"padding":4611686018427387904},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"maxpool2d","kernel":2,"stride":9223372036854775807},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"dropout","rate":1},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	// Valid JSON whose sizes overflow an int64 or could never be allocated.
	`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1099511627776}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[65536,65536,65536],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[4294967296,4294967296,4],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":1048576,"kernel":3,"padding":1048576},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048576},{"type":"dense","name":"b","units":1048576},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`,
	// One sample's activations over the bounds: a convolution padded by
	// 5000 (10026×10026 per channel), a layer over MaxActivation, the input
	// and eight layers of 2^24 values over MaxActivations.
	`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":16,"kernel":3,"padding":5000},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,4097,2048],"layers":[{"type":"conv2d","name":"c","filters":2,"kernel":1},{"type":"globalavgpool2d"},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
	`{"name":"x","input":[1,4096,4096],"layers":[{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"relu"},{"type":"globalavgpool2d"},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
}

func FuzzParseSpec(f *testing.F) {
	for _, e := range models.Zoo() {
		spec, err := models.Lookup(e.Name)
		if err != nil {
			f.Fatal(err)
		}
		b, err := models.MarshalSpec(spec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append(validSpecs, malformedSpecs...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParseSpec(t, b)
	})
}

// checkParseSpec checks the properties of ParseSpec on b and returns
// whether b was accepted.
func checkParseSpec(t *testing.T, b []byte) bool {
	t.Helper()
	s, err := models.ParseSpec(b)
	if err != nil {
		if !errors.Is(err, models.ErrSpec) {
			t.Fatalf("error does not match ErrSpec: %v", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("message has several lines: %q", err)
		}
		return false
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("accepted spec fails Validate: %v", err)
	}
	again, err := models.MarshalSpec(s)
	if err != nil {
		t.Fatalf("accepted spec does not marshal: %v", err)
	}
	back, err := models.ParseSpec(again)
	if err != nil {
		t.Fatalf("marshalled spec %s is refused: %v", again, err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip changed the spec:\n%+v\n%+v", s, back)
	}
	ps, err := s.Params()
	if err != nil {
		t.Fatalf("accepted spec: Params: %v", err)
	}
	// Count in big integers, so an overflow of the int arithmetic shows.
	total := new(big.Int)
	for _, p := range ps {
		n := big.NewInt(1)
		for _, d := range p.Shape {
			if d <= 0 {
				t.Fatalf("parameter %q has shape %v", p.Name, p.Shape)
			}
			n.Mul(n, big.NewInt(int64(d)))
		}
		if n.Cmp(big.NewInt(models.MaxSize)) > 0 {
			t.Fatalf("parameter %q of shape %v has more than MaxSize values", p.Name, p.Shape)
		}
		total.Add(total, n)
	}
	if total.Cmp(big.NewInt(models.MaxSize)) > 0 {
		t.Fatalf("%v parameters, more than MaxSize", total)
	}
	if in := s.InputSize(); in <= 0 || in > models.MaxActivation {
		t.Fatalf("input size %d", in)
	}
	// One sample's activations: at most MaxActivation values per layer and
	// MaxActivations in all; a convolution's padding below its kernel.
	nodes, err := s.Nodes()
	if err != nil {
		t.Fatalf("accepted spec: Nodes: %v", err)
	}
	acts := big.NewInt(int64(s.InputSize()))
	for _, n := range nodes {
		v := big.NewInt(1)
		for _, d := range n.Out {
			v.Mul(v, big.NewInt(int64(d)))
		}
		if v.Cmp(big.NewInt(models.MaxActivation)) > 0 {
			t.Fatalf("layer %d %q: output %v over MaxActivation", n.Index, n.Layer.Name, n.Out)
		}
		acts.Add(acts, v)
		if n.Layer.Kind == models.Conv2d && n.Layer.Padding >= n.Layer.Kernel {
			t.Fatalf("layer %d %q: padding %d, kernel %d", n.Index, n.Layer.Name, n.Layer.Padding, n.Layer.Kernel)
		}
	}
	if acts.Cmp(big.NewInt(models.MaxActivations)) > 0 {
		t.Fatalf("%v activation values per sample, over MaxActivations", acts)
	}
	if c := s.Classes(); c < 2 {
		t.Fatalf("%d classes", c)
	}
	return true
}

// TestParseSpecRejectsAbsurdSizes: a spec is untrusted input (it comes from
// a model file), so sizes that overflow or could never be allocated are
// refused, and specs up to the limit are accepted.
func TestParseSpecRejectsAbsurdSizes(t *testing.T) {
	for _, s := range malformedSpecs {
		if checkParseSpec(t, []byte(s)) {
			t.Errorf("accepted %s", s)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1099511627776}],"loss":"softmax-cross-entropy"}`, "units must be in [1, 2147483647]"},
		{`{"name":"x","input":[65536,65536,65536],"layers":[{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "more than 16777216 values per sample"},
		{`{"name":"x","input":[2147483648],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "more than 16777216 values per sample"},
		{`{"name":"x","input":[65536],"layers":[{"type":"dense","name":"fc","units":65536}],"loss":"softmax-cross-entropy"}`, "weight [65536 65536] has more than 2147483647 values"},
		{`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":4,"kernel":3,"padding":4611686018427387904},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "out of range"},
		{`{"name":"x","input":[1,28,28],"layers":[{"type":"conv2d","name":"c","filters":1048576,"kernel":3,"padding":1048576},{"type":"flatten"},{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`, "padding 1048576 is not less than the kernel 3"},
		{`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048576},{"type":"dense","name":"b","units":1048576},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`, "weight [1048576 1048576]"},
		{`{"name":"x","input":[1024],"layers":[{"type":"dense","name":"a","units":1048575},{"type":"dense","name":"b","units":1024},{"type":"dense","name":"c","units":10}],"loss":"softmax-cross-entropy"}`, "more than 2147483647 parameters"},
	} {
		_, err := models.ParseSpec([]byte(c.spec))
		if !errors.Is(err, models.ErrSpec) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an ErrSpec mentioning %q", c.spec, err, c.want)
		}
	}
	// Over the limit by one: a weight of 32768·65536 = MaxSize+1 values.
	over := `{"name":"x","input":[65536],"layers":[{"type":"dense","name":"fc","units":32768,"no_bias":true}],"loss":"softmax-cross-entropy"}`
	if _, err := models.ParseSpec([]byte(over)); err == nil || !strings.Contains(err.Error(), "values") {
		t.Errorf("weight of MaxSize+1 values: %v, want too many values", err)
	}
	for _, s := range validSpecs {
		if !checkParseSpec(t, []byte(s)) {
			t.Errorf("refused %s", s)
		}
	}
}

// TestSpecActivationLimits: one sample's activations are bounded per layer
// (MaxActivation) and in all (MaxActivations), a convolution's padding is
// less than its kernel, and torchvision's resnet18 on 3×224×224 images
// still passes.
func TestSpecActivationLimits(t *testing.T) {
	chain := func(input []int, ls ...models.Layer) models.Spec {
		return models.Spec{Name: "x", Input: input, Layers: ls, Loss: models.LossSoftmaxCrossEntropy}
	}
	fc := models.Layer{Kind: models.Dense, Name: "fc", Units: 10}
	flat := models.Layer{Kind: models.Flatten}
	relu := models.Layer{Kind: models.ReLU}
	// 8 relus of 4096·4096 values each, the input's included: 9·2^24 > 2^27.
	many := []models.Layer{}
	for range 8 {
		many = append(many, relu)
	}
	many = append(many, models.Layer{Kind: models.MaxPool2d, Kernel: 64}, flat, fc)
	for _, c := range []struct {
		name string
		spec models.Spec
		want string
	}{
		{"conv padded by 5000", chain([]int{1, 28, 28}, models.Layer{Kind: models.Conv2d, Name: "c", Filters: 16, Kernel: 3, Padding: 5000}, flat, fc),
			`layer "c" (conv2d) with input [1 28 28]: padding 5000 is not less than the kernel 3`},
		{"conv padding equal to the kernel", chain([]int{1, 28, 28}, models.Layer{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 1, Padding: 1}, flat, fc),
			"padding 1 is not less than the kernel 1"},
		{"input over MaxActivation", chain([]int{1, 4097, 4096}, flat, fc), "with input [1 4097 4096]: more than 16777216 values per sample"},
		{"output over MaxActivation", chain([]int{1, 4097, 2048}, models.Layer{Kind: models.Conv2d, Name: "c", Filters: 2, Kernel: 1}, flat, fc),
			"output [2 4097 2048] has more than 16777216 values per sample"},
		{"all layers over MaxActivations", chain([]int{1, 4096, 4096}, many...), "more than 134217728 activation values per sample in the input and the layers up to layer 7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			if !errors.Is(err, models.ErrSpec) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want a one-line ErrSpec mentioning %q", err, c.want)
			}
		})
	}
	if err := resnet18([]int{3, 224, 224}).Validate(); err != nil {
		t.Errorf("resnet18 on 3×224×224: %v", err)
	}
}

// resnet18 is torchvision's resnet18 (He et al. 2016, ImageNet) for a
// [3, H, W] input: conv 7×7/2 to 64 channels, batch norm, relu, max pool
// 3×3/2, four stages of two basic blocks at 64, 128, 256 and 512 channels
// (stride 2 and a 1×1 projection at the start of the last three), global
// pool and fc 1000.
func resnet18(input []int) models.Spec {
	s := models.Spec{Name: "resnet18", Input: input, Loss: models.LossSoftmaxCrossEntropy}
	add := func(l models.Layer) string {
		s.Layers = append(s.Layers, l)
		return l.Name
	}
	conv := func(name string, filters, kernel, stride int, inputs ...string) {
		add(models.Layer{Kind: models.Conv2d, Name: name, Inputs: inputs, Filters: filters, Kernel: kernel, Stride: stride, Padding: kernel / 2, NoBias: true})
	}
	bn := func(name string) string { return add(models.Layer{Kind: models.BatchNorm2d, Name: name}) }
	conv("conv1", 64, 7, 2)
	bn("bn1")
	add(models.Layer{Kind: models.ReLU, Name: "relu"})
	prev := add(models.Layer{Kind: models.MaxPool2d, Name: "maxpool", Kernel: 3, Stride: 2, Padding: 1})
	channels := 64
	for stage, width := range []int{64, 128, 256, 512} {
		for b := range 2 {
			p := fmt.Sprintf("layer%d.%d.", stage+1, b)
			stride := 1
			if stage > 0 && b == 0 {
				stride = 2
			}
			conv(p+"conv1", width, 3, stride, prev)
			bn(p + "bn1")
			add(models.Layer{Kind: models.ReLU, Name: p + "relu1"})
			conv(p+"conv2", width, 3, 1)
			main := bn(p + "bn2")
			short := prev
			if stride != 1 || channels != width {
				conv(p+"downsample.0", width, 1, stride, prev)
				short = bn(p + "downsample.1")
			}
			add(models.Layer{Kind: models.Add, Name: p + "add", Inputs: []string{main, short}})
			prev = add(models.Layer{Kind: models.ReLU, Name: p + "relu2"})
			channels = width
		}
	}
	add(models.Layer{Kind: models.GlobalAvgPool2d, Name: "avgpool"})
	add(models.Layer{Kind: models.Flatten})
	add(models.Layer{Kind: models.Dense, Name: "fc", Units: 1000})
	return s
}
