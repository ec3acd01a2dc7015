package models

import (
	"errors"
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
		{Layer{Kind: MaxPool2d, Kernel: 2, Padding: 2}, []int{1, 4, 4}, nil, "more than half"},
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
		{Layer{Kind: "softmax"}, []int{10}, nil, "unknown layer"},
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
	ps, err := s.Params()
	for _, p := range ps {
		if p.Buffer {
			buffers += numel(p.Shape)
		} else {
			params += numel(p.Shape)
		}
	}
	return params, buffers, err
}

// TestGraphSpecs: layers name their inputs; every fault of the graph is
// refused with one line that names the layer.
func TestGraphSpecs(t *testing.T) {
	residual := func(edit func(ls []Layer) []Layer) Spec {
		ls := []Layer{
			{Kind: Conv2d, Name: "c1", Filters: 4, Kernel: 3, Padding: 1, NoBias: true},
			{Kind: BatchNorm2d, Name: "bn1"},
			{Kind: ReLU, Name: "r1"},
			{Kind: Conv2d, Name: "c2", Filters: 4, Kernel: 3, Padding: 1},
			{Kind: Add, Name: "sum", Inputs: []string{"c2", "r1"}},
			{Kind: GlobalAvgPool2d},
			{Kind: Flatten},
			{Kind: Dense, Name: "fc", Units: 3},
		}
		if edit != nil {
			ls = edit(ls)
		}
		return Spec{Name: "res", Input: []int{2, 6, 6}, Layers: ls, Loss: LossSoftmaxCrossEntropy}
	}
	nodes, err := residual(nil).Nodes()
	if err != nil {
		t.Fatal(err)
	}
	if got := nodes[4].Inputs; !reflect.DeepEqual(got, []int{3, 2}) {
		t.Errorf("add reads %v", got)
	}
	if got := nodes[2].Consumers; !reflect.DeepEqual(got, []int{3, 4}) {
		t.Errorf("r1 is read by %v", got)
	}
	if nodes[0].Inputs[0] != InputIndex || residual(nil).IsChain() {
		t.Errorf("first layer reads %v; IsChain %v", nodes[0].Inputs, residual(nil).IsChain())
	}
	ps, _ := residual(nil).Params()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		if p.Buffer != (p.Role == RoleMean || p.Role == RoleVar) || p.Prunable != (p.Role == RoleWeight) {
			t.Errorf("%s: buffer %v prunable %v", p.Name, p.Buffer, p.Prunable)
		}
	}
	if want := "c1/W bn1/scale bn1/shift bn1/mean bn1/var c2/W c2/b fc/W fc/b"; strings.Join(names, " ") != want {
		t.Errorf("params %v, want %s", names, want)
	}
	if s := residual(nil).String(); !strings.Contains(s, "sum: add ← c2, r1 → [4 6 6]") {
		t.Errorf("String:\n%s", s)
	}
	for _, c := range []struct {
		name string
		edit func([]Layer) []Layer
		want string
	}{
		{"dangling input", func(ls []Layer) []Layer { ls[4].Inputs[1] = "r9"; return ls }, `layer 4 "sum" (add): input "r9" names no layer`},
		{"cycle", func(ls []Layer) []Layer { ls[3].Inputs = []string{"sum"}; return ls }, `layer 3 "c2" (conv2d): cycle c2 → sum → c2`},
		{"self", func(ls []Layer) []Layer { ls[3].Inputs = []string{"c2"}; return ls }, "reads itself"},
		{"later, no cycle", func(ls []Layer) []Layer { ls[1].Inputs = []string{"r1"}; ls[2].Inputs = []string{"c1"}; return ls }, `input "r1" comes later`},
		{"add of two shapes", func(ls []Layer) []Layer { ls[3].Filters = 5; return ls }, `layer "sum" (add) with input [5 6 6] and [4 6 6]: adds inputs of shapes`},
		{"add with one input", func(ls []Layer) []Layer { ls[4].Inputs = []string{"c2"}; return ls }, "takes 2 inputs, got 1"},
		{"add without inputs", func(ls []Layer) []Layer { ls[4].Inputs = nil; return ls }, "takes 2 inputs, got 1"},
		{"unread output", func(ls []Layer) []Layer { ls[3].Inputs = []string{"bn1"}; ls[4].Inputs = []string{"c2", "c2"}; return ls }, `layer 2 "r1" (relu): its output is not read`},
		{"reserved name", func(ls []Layer) []Layer { ls[2].Name = "input"; ls[3].Inputs = nil; ls[4].Inputs[1] = "c1"; return ls }, "reserved"},
		{"bn without name", func(ls []Layer) []Layer { ls[1].Name = ""; return ls }, "layer 1 (batchnorm2d) has no name"},
	} {
		err := residual(c.edit).Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrSpec) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", c.name, err, c.want)
		}
	}
	// The model's input can be read by name, by any layer.
	s := residual(func(ls []Layer) []Layer {
		ls[3].Filters = 2
		ls[4].Inputs = []string{"c2", InputName}
		return ls
	})
	if err := s.Validate(); err != nil {
		t.Errorf("add of the input: %v", err)
	}
}

// TestBatchNormParamsChecked: a model whose batch-norm parameters disagree
// with the channels of their input is refused, naming the parameter.
func TestBatchNormParamsChecked(t *testing.T) {
	spec := Spec{Name: "bn", Input: []int{3, 4, 4}, Loss: LossSoftmaxCrossEntropy, Layers: []Layer{
		{Kind: BatchNorm2d, Name: "bn"}, {Kind: Flatten}, {Kind: Dense, Name: "fc", Units: 2}}}
	m, err := New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Params.Get("bn/var").Float64s(); v[0] != 1 || m.Params.Get("bn/scale").Float64s()[2] != 1 || m.Params.Get("bn/mean").Float64s()[1] != 0 {
		t.Errorf("initial statistics %v", v)
	}
	ps := &Params{}
	for _, p := range m.Params.All() {
		if p.Name == "bn/mean" {
			p = NewParam(p.Name, false, tensor.Float32, []int{4})
		}
		_ = ps.Add(p)
	}
	m.Params = ps
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), `"bn/mean" has shape [4], the spec needs [3]`) {
		t.Errorf("Check: %v", err)
	}
}
