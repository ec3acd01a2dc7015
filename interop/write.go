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
	// bytes and its INT64 index 8) as a sparse_initializer.
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
// node per layer (Gemm, Conv, MaxPool, Relu, Flatten; dropout is left out,
// as at inference) and the parameters as initializers named like the
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
	// The node list; the last one writing x is renamed to the output.
	x := InputName
	var nodes []*onnx.NodeProto
	for i, l := range m.Spec.Layers {
		out := fmt.Sprintf("%s_%d", l.Kind, i)
		name := l.Name
		if name == "" {
			name = out
		}
		var n *onnx.NodeProto
		switch l.Kind {
		case models.Dense:
			n = &onnx.NodeProto{OpType: "Gemm", Input: []string{x, models.WeightName(l.Name), models.BiasName(l.Name)}}
		case models.Conv2d:
			s, p := int64(l.StrideOrDefault()), int64(l.Padding)
			k := int64(l.Kernel)
			n = &onnx.NodeProto{OpType: "Conv", Input: []string{x, models.WeightName(l.Name), models.BiasName(l.Name)}, Attribute: []*onnx.AttributeProto{
				intsAttr("dilations", 1, 1), intsAttr("kernel_shape", k, k), intsAttr("pads", p, p, p, p), intsAttr("strides", s, s)}}
		case models.MaxPool2d:
			s, k := int64(l.StrideOrDefault()), int64(l.Kernel)
			n = &onnx.NodeProto{OpType: "MaxPool", Input: []string{x}, Attribute: []*onnx.AttributeProto{
				intsAttr("kernel_shape", k, k), intsAttr("pads", 0, 0, 0, 0), intsAttr("strides", s, s)}}
		case models.ReLU:
			n = &onnx.NodeProto{OpType: "Relu", Input: []string{x}}
		case models.Flatten:
			n = &onnx.NodeProto{OpType: "Flatten", Input: []string{x}, Attribute: []*onnx.AttributeProto{
				{Name: "axis", Type: onnx.AttributeProto_INT, I: 1}}}
		case models.Dropout:
			continue
		default:
			return nil, errors.Errorf("layer %d: kind %q has no ONNX export", i, l.Kind)
		}
		n.Name, n.Output = name, []string{out}
		nodes = append(nodes, n)
		x = out
	}
	if len(nodes) == 0 {
		return nil, errors.New("the model has no layers to export")
	}
	nodes[len(nodes)-1].Output[0] = OutputName
	g.Node = nodes
	for _, p := range m.Params.All() {
		vals := float32s(p)
		if opts.Sparse && p.Prunable && sparseSmaller(p.Len(), nonZeroBits(vals)) {
			g.SparseInitializer = append(g.SparseInitializer, sparseTensor(p.Name, p.Shape(), vals))
		} else {
			g.Initializer = append(g.Initializer, floatTensor(p.Name, p.Shape(), vals))
		}
	}
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
// dense values (4 bytes each).
func sparseSmaller(n, k int) bool { return 12*k < 4*n }

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
	if provJSON != "" && json.Unmarshal([]byte(provJSON), &prov) != nil {
		prov = models.Provenance{}
	}
	return spec, prov, true
}
