package models

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestLayerOutShapes(t *testing.T) {
	cases := []struct {
		layer   Layer
		in      []int
		want    []int
		wantErr string
	}{
		{Layer{Kind: Dense, Name: "fc", Units: 7}, []int{5}, []int{7}, ""},
		{Layer{Kind: Dense, Name: "fc", Units: 7}, []int{1, 2, 2}, nil, "flatten"},
		{Layer{Kind: Dense, Name: "fc", Units: 0}, []int{5}, nil, "units"},
		{Layer{Kind: Conv2d, Name: "c", Filters: 20, Kernel: 5}, []int{1, 28, 28}, []int{20, 24, 24}, ""},
		{Layer{Kind: Conv2d, Name: "c", Filters: 4, Kernel: 3, Stride: 2, Padding: 1}, []int{2, 7, 7}, []int{4, 4, 4}, ""},
		{Layer{Kind: Conv2d, Name: "c", Filters: 4, Kernel: 9}, []int{1, 5, 5}, nil, "larger"},
		{Layer{Kind: Conv2d, Name: "c", Filters: 4, Kernel: 3}, []int{25}, nil, "channels"},
		{Layer{Kind: MaxPool2d, Kernel: 2}, []int{20, 24, 24}, []int{20, 12, 12}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 2}, []int{50, 8, 8}, []int{50, 4, 4}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 3, Stride: 1}, []int{1, 5, 5}, []int{1, 3, 3}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 2, Padding: 1}, []int{1, 4, 4}, []int{1, 3, 3}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 3, Stride: 2, Padding: 1}, []int{2, 32, 32}, []int{2, 16, 16}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 2, Padding: 2}, []int{1, 4, 4}, nil, "not smaller than the window"},
		{Layer{Kind: MaxPool2d, Kernel: 3, Padding: 2}, []int{1, 4, 4}, []int{1, 2, 2}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 3, Stride: 2, CeilMode: true}, []int{1, 4, 4}, []int{1, 2, 2}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 3, Stride: 2}, []int{1, 4, 4}, []int{1, 1, 1}, ""},
		// Rounding up would start the last window in the padding: dropped.
		{Layer{Kind: MaxPool2d, Kernel: 2, Stride: 2, Pads: []int{0, 0, 1, 1}, CeilMode: true}, []int{1, 4, 4}, []int{1, 2, 2}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 2, Stride: 1, Dilation: 2}, []int{1, 4, 4}, []int{1, 2, 2}, ""},
		{Layer{Kind: MaxPool2d, Kernel: 2, Dilation: 2, Padding: 1}, []int{1, 1, 4}, nil, "dilation 2 needs"},
		{Layer{Kind: MaxPool2d, Kernel: 2, Pads: []int{1, 0, 1}}, []int{1, 4, 4}, nil, "4 sides"},
		{Layer{Kind: MaxPool2d, Kernel: 2, Padding: 1, Pads: []int{1, 0, 1, 0}}, []int{1, 4, 4}, nil, "exclusive"},
		{Layer{Kind: AvgPool2d, Kernel: 3, Stride: 2, Pads: []int{1, 0, 1, 0}, ExcludePad: true}, []int{1, 7, 5}, []int{1, 4, 2}, ""},
		{Layer{Kind: AvgPool2d, Kernel: 2, Dilation: 2}, []int{1, 4, 4}, nil, `does not take "dilation"`},
		{Layer{Kind: Conv2d, Name: "c", Filters: 2, Kernel: 3, Stride: 2, Pads: []int{1, 0, 1, 0}}, []int{1, 7, 5}, []int{2, 4, 2}, ""},
		{Layer{Kind: Conv2d, Name: "c", Filters: 2, Kernel: 3, CeilMode: true}, []int{1, 7, 5}, nil, `does not take "ceil_mode"`},
		{Layer{Kind: Clip, Min: ptr(-1), Max: ptr(1)}, []int{5}, []int{5}, ""},
		{Layer{Kind: Clip}, []int{5}, []int{5}, ""},
		{Layer{Kind: Clip, Min: ptr(1), Max: ptr(-1)}, []int{5}, nil, "min ≤ max"},
		{Layer{Kind: Clip, Min: ptr(math.NaN())}, []int{5}, nil, "min ≤ max"},
		{Layer{Kind: AvgPool2d, Kernel: 2}, []int{3, 5, 5}, []int{3, 2, 2}, ""},
		{Layer{Kind: AvgPool2d, Kernel: 3, Stride: 1, Padding: 1}, []int{3, 5, 5}, []int{3, 5, 5}, ""},
		{Layer{Kind: GlobalAvgPool2d}, []int{7, 5, 3}, []int{7, 1, 1}, ""},
		{Layer{Kind: GlobalAvgPool2d}, []int{7}, nil, "channels, height, width"},
		{Layer{Kind: BatchNorm2d, Name: "bn"}, []int{4, 3, 3}, []int{4, 3, 3}, ""},
		{Layer{Kind: BatchNorm2d, Name: "bn", Momentum: 2}, []int{4, 3, 3}, nil, "momentum"},
		{Layer{Kind: BatchNorm2d, Name: "bn"}, []int{12}, nil, "channels, height, width"},
		{Layer{Kind: Conv2d, Name: "dw", Filters: 8, Kernel: 3, Padding: 1, Groups: 4, NoBias: true}, []int{4, 6, 6}, []int{8, 6, 6}, ""},
		{Layer{Kind: Conv2d, Name: "dw", Filters: 6, Kernel: 3, Groups: 4}, []int{4, 6, 6}, nil, "groups 4 must divide"},
		{Layer{Kind: Dense, Name: "fc", Units: 3, NoBias: true}, []int{5}, []int{3}, ""},
		{Layer{Kind: ReLU, Units: 3}, []int{5}, nil, `does not take "units"`},
		{Layer{Kind: Dense, Name: "fc", Units: 3, Groups: 2}, []int{5}, nil, `does not take "groups"`},
		{Layer{Kind: Add}, []int{5}, nil, "takes 2 inputs"},
		{Layer{Kind: ReLU}, []int{3, 4}, []int{3, 4}, ""},
		{Layer{Kind: Flatten}, []int{50, 4, 4}, []int{800}, ""},
		{Layer{Kind: Dropout, Rate: 0.5}, []int{10}, []int{10}, ""},
		{Layer{Kind: Dropout, Rate: 1}, []int{10}, nil, "rate"},
		{Layer{Kind: "gelu"}, []int{10}, nil, "unknown layer"},
		{Layer{Kind: LeakyReLU}, []int{3, 4, 4}, []int{3, 4, 4}, ""},
		{Layer{Kind: LeakyReLU, Alpha: 0.2}, []int{10}, []int{10}, ""},
		{Layer{Kind: LeakyReLU, Alpha: math.Inf(1)}, []int{10}, nil, "alpha must be finite"},
		{Layer{Kind: ReLU, Alpha: 0.2}, []int{10}, nil, `does not take "alpha"`},
		{Layer{Kind: Sigmoid}, []int{2, 3}, []int{2, 3}, ""},
		{Layer{Kind: Tanh}, []int{7}, []int{7}, ""},
		{Layer{Kind: ReLU6}, []int{2, 3, 3}, []int{2, 3, 3}, ""},
		{Layer{Kind: Softmax}, []int{10}, []int{10}, ""},
		{Layer{Kind: Softmax}, []int{2, 3, 3}, nil, "flat vector"},
	}
	for _, c := range cases {
		got, err := c.layer.OutShape(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, ErrSpec) {
				t.Errorf("%+v on %v: error %v, want one mentioning %q", c.layer, c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v on %v: %v, %v; want %v", c.layer, c.in, got, err, c.want)
		}
	}
}

// TestSoftmaxOnlyLast: a softmax is accepted as the last layer (the class
// scores are its width) and refused anywhere else.
func TestSoftmaxOnlyLast(t *testing.T) {
	ce := LossSoftmaxCrossEntropy
	ok := Spec{Name: "sm", Input: []int{4}, Loss: ce, Layers: []Layer{
		{Kind: Dense, Name: "fc", Units: 3}, {Kind: Softmax}}}
	if err := ok.Validate(); err != nil || ok.Classes() != 3 {
		t.Fatalf("trailing softmax: %v, %d classes", err, ok.Classes())
	}
	bad := Spec{Name: "sm", Input: []int{4}, Loss: ce, Layers: []Layer{
		{Kind: Dense, Name: "fc1", Units: 3}, {Kind: Softmax}, {Kind: Dense, Name: "fc2", Units: 2}}}
	if err := bad.Validate(); err == nil || !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "only as the last layer") {
		t.Fatalf("softmax in the middle: %v", err)
	}
}

func TestZooParameterCounts(t *testing.T) {
	want := map[string]int{"lenet-300-100": 266610, "lenet-5": 431080, "resnet-8": 78042, "resnet-20": 272474}
	for _, e := range Zoo() {
		n, buffers, err := paramCount(e.Spec)
		if err != nil {
			t.Fatal(err)
		}
		if n != want[e.Name] {
			t.Errorf("%s: %d parameters, want %d", e.Name, n, want[e.Name])
		}
		m, err := New(e.Spec, tensor.Float32, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		if m.Params.Count() != n+buffers {
			t.Errorf("%s: model has %d values, spec says %d and %d in buffers", e.Name, m.Params.Count(), n, buffers)
		}
		for _, p := range m.Params.All() {
			if p.Prunable != strings.HasSuffix(p.Name, "/W") {
				t.Errorf("%s: %s prunable=%v", e.Name, p.Name, p.Prunable)
			}
		}
		if e.Recipe.Epochs <= 0 || e.Recipe.LR <= 0 {
			t.Errorf("%s: no training recipe", e.Name)
		}
	}
	if len(want) != len(Zoo()) {
		t.Errorf("zoo has %d entries", len(Zoo()))
	}
	if _, err := Lookup("resnet-9000"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
}

func TestSpecValidation(t *testing.T) {
	ok, _ := Lookup("lenet-5")
	b, err := MarshalSpec(ok)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSpec(b)
	if err != nil || !reflect.DeepEqual(back, ok) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	bad := []string{
		`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"mse"}`,
		`{"name":"x","input":[784],"layers":[],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[],"layers":[{"type":"relu"}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[784],"layers":[{"type":"dense","units":10}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[784],"layers":[{"type":"dense","name":"a","units":10},{"type":"dense","name":"a","units":10}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[1,28,28],"layers":[{"type":"dense","name":"fc","units":10}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":1}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x","input":[784],"layers":[{"type":"dense","name":"fc","units":10,"colour":"red"}],"loss":"softmax-cross-entropy"}`,
		`{"name":"x"} trailing`,
	}
	for _, s := range bad {
		if _, err := ParseSpec([]byte(s)); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: got %v, want ErrSpec", s, err)
		}
	}
	if err := ok.CheckLoss(); err != nil {
		t.Errorf("lenet-5: %v", err)
	}
}

// TestLossNone: a spec without a loss may end in one value per sample; it
// is valid, but CheckLoss refuses to train or evaluate it.
func TestLossNone(t *testing.T) {
	s, err := ParseSpec([]byte(`{"name":"x","input":[4],"layers":[{"type":"dense","name":"fc","units":1}],"loss":"none"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Classes() != 1 {
		t.Errorf("Classes %d, want 1", s.Classes())
	}
	err = s.CheckLoss()
	if !errors.Is(err, ErrNoLoss) || !strings.Contains(err.Error(), "only runs inference") {
		t.Errorf("CheckLoss: %v, want ErrNoLoss", err)
	}
	s.Loss = LossSoftmaxCrossEntropy
	if err := s.Validate(); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), `loss "none"`) {
		t.Errorf("one class score with the cross-entropy: %v, want an ErrSpec pointing to the loss none", err)
	}
}

func TestCheckNamesTheProblem(t *testing.T) {
	spec, _ := Lookup("lenet-300-100")
	m, _ := New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	other, _ := New(Spec{Name: "o", Input: []int{784}, Loss: LossSoftmaxCrossEntropy, Layers: []Layer{{Kind: Dense, Name: "fc1", Units: 30}, {Kind: Dense, Name: "fc2", Units: 100}, {Kind: Dense, Name: "fc3", Units: 10}}}, tensor.Float32, rand.New(rand.NewSource(1)))
	m.Params = other.Params
	err := m.Check()
	if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), "fc1/W") {
		t.Fatalf("got %v", err)
	}
}

// paramCount counts the parameter values of a spec, and its buffers' apart.
func paramCount(s Spec) (params, buffers int, err error) {
	c, err := s.Counts()
	return c.Params, c.Buffers, err
}

func ptr(v float64) *float64 { return &v }

// TestParseSpecKeepsCause: a spec that is not JSON is ErrSpec and still
// carries the decoder's error.
func TestParseSpecKeepsCause(t *testing.T) {
	_, err := ParseSpec([]byte(`{"name": `))
	if !errors.Is(err, ErrSpec) {
		t.Fatalf("error %v is not ErrSpec", err)
	}
	var syn *json.SyntaxError
	if !errors.As(err, &syn) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v (%T) lost the decoder's error", err, errors.Unwrap(err))
	}
}
