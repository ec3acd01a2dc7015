package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"

	"github.com/spred-go/spred"
	"github.com/spred-go/spred/internal/atomicfile"
	"github.com/spred-go/spred/models"
)

// Names of the graph's input and output in exported files.
const (
	InputName  = "input"
	OutputName = "logits"
	// BatchParam is the symbol of the dynamic batch dimension.
	BatchParam = "batch"
	// DefaultOpset is the opset exported files import.
	DefaultOpset = 13
	// MaxOpset is the newest opset Encode writes (the ops it uses are the
	// same up to there).
	MaxOpset = 17
)

// ExportOptions tunes Encode. The zero value writes a dense model at
// opset 13.
type ExportOptions struct {
	// Sparse stores every weight whose sparse form is smaller (fewer than
	// a third of its values non-zero, since each stored value costs 4
	// bytes and its INT64 index 8) as a Constant node whose sparse_value
	// holds the non-zero values and their INT64 positions, unless it keeps
	// fewer than 1 value in 768: the reader expands a sparse tensor to at
	// most models.MaxSparseExpansion (64) dense values per byte, so such a
	// weight is written densely.
	Sparse bool
	// Opset is the version of the default ONNX domain; 0 means 13.
	Opset int
}

// Validate reports whether the options are usable.
func (o ExportOptions) Validate() error {
	if o.Opset != 0 && (o.Opset < DefaultOpset || o.Opset > MaxOpset) {
		return errors.Errorf("opset %d is not supported (want %d to %d)", o.Opset, DefaultOpset, MaxOpset)
	}
	return nil
}

// Encode serializes m as an ONNX model: one input "input" of shape [batch,
// spec input...] (the batch dimension symbolic), one output "logits", a
// node per layer (Gemm, Conv, MaxPool, Relu, LeakyRelu, Sigmoid, Tanh,
// Clip(0, 6) for relu6, Clip for clip, Softmax, Flatten; dropout is left out, as at
// inference; a trailing softmax makes "logits" the probabilities) and the parameters as initializers named like the
// model's ("fc1/W"; dense weights keep this toolkit's [in, out] layout,
// which Gemm reads with transB=0). The spec and provenance are stored as
// metadata_props, so that Decode gives back the same layer names. The
// output is a deterministic function of m and opts.
func Encode(m *models.Model, opts ExportOptions) ([]byte, error) {
	mp, err := build(m, opts)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	return b, errors.Wrap(err, "encode ONNX")
}

// WriteFile atomically writes m to path as Encode does.
func WriteFile(path string, m *models.Model, opts ExportOptions) error {
	b, err := Encode(m, opts)
	if err != nil {
		return errors.Wrapf(err, "write ONNX model %s", path)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	return errors.Wrapf(err, "write ONNX model %s", path)
}

func build(m *models.Model, opts ExportOptions) (*onnx.ModelProto, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("nil model")
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	opset := opts.Opset
	if opset == 0 {
		opset = DefaultOpset
	}
	shapes, err := m.Spec.Shapes()
	if err != nil {
		return nil, err
	}
	g := &onnx.GraphProto{Name: m.Spec.Name}
	g.Input = []*onnx.ValueInfoProto{valueInfo(InputName, m.Spec.Input)}
	g.Output = []*onnx.ValueInfoProto{valueInfo(OutputName, shapes[len(shapes)-1])}
	nodes, err := exportNodes(m.Spec)
	if err != nil {
		return nil, err
	}
	// Sparse weights are Constant nodes with a sparse_value, ahead of the
	// layers: their outputs are dense tensors to the ops that read them
	// and to onnx's shape inference, which types a sparse_initializer as
	// a sparse tensor that no op takes (onnx.checker's full_check then
	// fails with "Input tensors of wrong rank (0)", and declaring the
	// weight's dense type as well is a "type case mismatch").
	var consts []*onnx.NodeProto
	for _, p := range m.Params.All() {
		vals := float32s(p)
		if opts.Sparse && p.Prunable && sparseSmaller(p.Len(), nonZeroBits(vals)) {
			consts = append(consts, &onnx.NodeProto{OpType: "Constant", Name: p.Name, Output: []string{p.Name}, Attribute: []*onnx.AttributeProto{
				{Name: "sparse_value", Type: onnx.AttributeProto_SPARSE_TENSOR, SparseTensor: sparseTensor(p.Name, p.Shape(), vals)}}})
		} else {
			g.Initializer = append(g.Initializer, floatTensor(p.Name, p.Shape(), vals))
		}
	}
	g.Node = append(consts, nodes...)
	specJSON, err := models.MarshalSpec(m.Spec)
	if err != nil {
		return nil, err
	}
	prov, err := json.Marshal(m.Meta)
	if err != nil {
		return nil, err
	}
	return &onnx.ModelProto{
		IrVersion:       irVersion(opset),
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: int64(opset)}},
		ProducerName:    "spred-go",
		ProducerVersion: spred.Version,
		Graph:           g,
		MetadataProps: []*onnx.StringStringEntryProto{
			{Key: models.MetaSpec, Value: string(specJSON)},
			{Key: models.MetaProvenance, Value: string(prov)},
		},
	}, nil
}

// irVersion is the IR version that introduced opset.
func irVersion(opset int) int64 {
	switch {
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	}
	return 9
}

func valueInfo(name string, perSample []int) *onnx.ValueInfoProto {
	dims := []*onnx.TensorShapeProto_Dimension{{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: BatchParam}}}
	for _, d := range perSample {
		dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}
}

func intsAttr(name string, vs ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: vs}
}

// float32s returns a parameter's values as float32.
func float32s(p *models.Param) []float32 {
	if d, ok := p.Value.Data().([]float32); ok {
		return d
	}
	f := p.Float64s()
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}

// nonZeroBits counts the values whose bits are not all zero (-0 counts, so
// that the sparse form is exact).
func nonZeroBits(vs []float32) int {
	k := 0
	for _, v := range vs {
		if math.Float32bits(v) != 0 {
			k++
		}
	}
	return k
}

// sparseSmaller: k values with INT64 indices (12 bytes each) against n
// dense values (4 bytes each), with at most models.MaxSparseExpansion
// dense values per byte of the sparse form (so the sparse initializers of
// a file never expand to more than Decode allows).
func sparseSmaller(n, k int) bool {
	return 12*k < 4*n && int64(n) <= int64(models.MaxSparseExpansion)*12*int64(k)
}

// sparseTensor stores the values of vs whose bits are not zero, with their
// row-major positions as 1-D INT64 indices in increasing order.
func sparseTensor(name string, dims []int, vs []float32) *onnx.SparseTensorProto {
	var kept []float32
	var idx []int64
	for i, v := range vs {
		if math.Float32bits(v) != 0 {
			kept = append(kept, v)
			idx = append(idx, int64(i))
		}
	}
	return &onnx.SparseTensorProto{
		Values:  floatTensor(name, []int{len(kept)}, kept),
		Indices: int64Tensor(name+"_indices", []int{len(idx)}, idx),
		Dims:    int64s(dims),
	}
}

// spredMetadata returns the spec and provenance a spred export recorded.
func spredMetadata(mp *onnx.ModelProto) (models.Spec, models.Provenance, bool) {
	var specJSON, provJSON string
	for _, e := range mp.GetMetadataProps() {
		switch e.GetKey() {
		case models.MetaSpec:
			specJSON = e.GetValue()
		case models.MetaProvenance:
			provJSON = e.GetValue()
		}
	}
	if specJSON == "" {
		return models.Spec{}, models.Provenance{}, false
	}
	spec, err := models.ParseSpec([]byte(specJSON))
	if err != nil {
		return models.Spec{}, models.Provenance{}, false
	}
	var prov models.Provenance
	if provJSON != "" && (json.Unmarshal([]byte(provJSON), &prov) != nil || prov.Validate() != nil) {
		prov = models.Provenance{}
	}
	return spec, prov, true
}

// exportNodes lays the spec's layers out as ONNX nodes: a layer reads the
// outputs of the layers it names, dropout is left out (its readers read
// its input), and the value of the last layer is the graph's output.
func exportNodes(spec models.Spec) ([]*onnx.NodeProto, error) {
	specNodes, err := spec.Nodes()
	if err != nil {
		return nil, err
	}
	value := make([]string, len(specNodes)) // the ONNX value each layer's output is
	input := func(j int) string {
		if j == models.InputIndex {
			return InputName
		}
		return value[j]
	}
	var nodes []*onnx.NodeProto
	for i, sn := range specNodes {
		l := sn.Layer
		out := fmt.Sprintf("%s_%d", l.Kind, i)
		name := l.Name
		if name == "" {
			name = out
		}
		x := input(sn.Inputs[0])
		var n *onnx.NodeProto
		withBias := func(ins ...string) []string {
			if !l.NoBias {
				ins = append(ins, models.BiasName(l.Name))
			}
			return ins
		}
		window := func(op string, extra ...*onnx.AttributeProto) *onnx.NodeProto {
			s, p, k := int64(l.StrideOrDefault()), l.PadSides(), int64(l.Kernel)
			if l.CeilMode {
				extra = append(extra, &onnx.AttributeProto{Name: "ceil_mode", Type: onnx.AttributeProto_INT, I: 1})
			}
			return &onnx.NodeProto{OpType: op, Input: []string{x}, Attribute: append([]*onnx.AttributeProto{
				intsAttr("kernel_shape", k, k), intsAttr("pads", int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3])), intsAttr("strides", s, s)}, extra...)}
		}
		// scalar adds a scalar constant node and returns its name.
		scalar := func(name string, v float32) string {
			nodes = append(nodes, &onnx.NodeProto{OpType: "Constant", Name: name, Output: []string{name}, Attribute: []*onnx.AttributeProto{
				{Name: "value", Type: onnx.AttributeProto_TENSOR, T: floatTensor("", nil, []float32{v})}}})
			return name
		}
		switch l.Kind {
		case models.Dense:
			if l.NoBias {
				n = &onnx.NodeProto{OpType: "MatMul", Input: []string{x, models.WeightName(l.Name)}}
			} else {
				n = &onnx.NodeProto{OpType: "Gemm", Input: withBias(x, models.WeightName(l.Name))}
			}
		case models.Conv2d:
			n = window("Conv", intsAttr("dilations", 1, 1), &onnx.AttributeProto{Name: "group", Type: onnx.AttributeProto_INT, I: int64(l.GroupsOrDefault())})
			n.Input = withBias(x, models.WeightName(l.Name))
		case models.MaxPool2d:
			var extra []*onnx.AttributeProto
			if d := int64(l.DilationOrDefault()); d != 1 {
				extra = append(extra, intsAttr("dilations", d, d))
			}
			n = window("MaxPool", extra...)
		case models.AvgPool2d:
			cip := int64(1)
			if l.ExcludePad {
				cip = 0
			}
			n = window("AveragePool", &onnx.AttributeProto{Name: "count_include_pad", Type: onnx.AttributeProto_INT, I: cip})
		case models.GlobalAvgPool2d:
			n = &onnx.NodeProto{OpType: "GlobalAveragePool", Input: []string{x}}
		case models.BatchNorm2d:
			n = &onnx.NodeProto{OpType: "BatchNormalization", Input: []string{x,
				models.ParamName(l.Name, models.RoleScale), models.ParamName(l.Name, models.RoleShift),
				models.ParamName(l.Name, models.RoleMean), models.ParamName(l.Name, models.RoleVar)},
				Attribute: []*onnx.AttributeProto{
					{Name: "epsilon", Type: onnx.AttributeProto_FLOAT, F: float32(l.EpsOrDefault())},
					{Name: "momentum", Type: onnx.AttributeProto_FLOAT, F: float32(1 - l.MomentumOrDefault())}}}
		case models.Add:
			n = &onnx.NodeProto{OpType: "Add", Input: []string{x, input(sn.Inputs[1])}}
		case models.ReLU:
			n = &onnx.NodeProto{OpType: "Relu", Input: []string{x}}
		case models.LeakyReLU:
			n = &onnx.NodeProto{OpType: "LeakyRelu", Input: []string{x}, Attribute: []*onnx.AttributeProto{
				{Name: "alpha", Type: onnx.AttributeProto_FLOAT, F: float32(l.AlphaOrDefault())}}}
		case models.Sigmoid:
			n = &onnx.NodeProto{OpType: "Sigmoid", Input: []string{x}}
		case models.Tanh:
			n = &onnx.NodeProto{OpType: "Tanh", Input: []string{x}}
		case models.ReLU6:
			// Clip's bounds are inputs from opset 11: scalar constants.
			n = &onnx.NodeProto{OpType: "Clip", Input: []string{x, scalar(out+"_min", 0), scalar(out+"_max", 6)}}
		case models.Clip:
			// A missing bound is an empty input name (a missing min
			// before a max).
			ins := []string{x, "", ""}
			if l.Min != nil {
				ins[1] = scalar(out+"_min", float32(*l.Min))
			}
			if l.Max != nil {
				ins[2] = scalar(out+"_max", float32(*l.Max))
			}
			for len(ins) > 1 && ins[len(ins)-1] == "" {
				ins = ins[:len(ins)-1]
			}
			n = &onnx.NodeProto{OpType: "Clip", Input: ins}
		case models.Softmax:
			n = &onnx.NodeProto{OpType: "Softmax", Input: []string{x}, Attribute: []*onnx.AttributeProto{
				{Name: "axis", Type: onnx.AttributeProto_INT, I: 1}}}
		case models.Flatten:
			n = &onnx.NodeProto{OpType: "Flatten", Input: []string{x}, Attribute: []*onnx.AttributeProto{
				{Name: "axis", Type: onnx.AttributeProto_INT, I: 1}}}
		case models.Dropout:
			value[i] = x
			continue
		default:
			return nil, errors.Errorf("layer %d: kind %q has no ONNX export", i, l.Kind)
		}
		n.Name, n.Output = name, []string{out}
		nodes = append(nodes, n)
		value[i] = out
	}
	if len(nodes) == 0 {
		return nil, errors.New("the model has no layers to export")
	}
	final := value[len(value)-1]
	read := false
	for _, n := range nodes {
		for _, in := range n.Input {
			read = read || in == final
		}
	}
	if read || final == InputName {
		nodes = append(nodes, &onnx.NodeProto{OpType: "Identity", Name: "output", Input: []string{final}, Output: []string{OutputName}})
		return nodes, nil
	}
	for _, n := range nodes {
		if n.Output[0] == final {
			n.Output[0] = OutputName
		}
	}
	return nodes, nil
}
