package interop

import (
	"fmt"
	"os"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/models"
)

// Errors returned (wrapped) by Decode and ReadFile.
var (
	// ErrFormat: the bytes are not a well-formed ONNX model.
	ErrFormat = errors.New("malformed ONNX model")
	// ErrUnsupported: a well-formed model uses an op, an attribute or a
	// structure that has no equivalent among this toolkit's layers.
	ErrUnsupported = errors.New("unsupported ONNX model")
	// ErrShape: a shape the mapping needs cannot be resolved, such as a
	// dynamic dimension other than the batch.
	ErrShape = errors.New("unresolvable ONNX shape")
)

// MinOpset and MaxImportOpset are the oldest and newest opsets of the
// default ONNX domain Decode reads. Each op is read with the attributes and
// meaning it has at the file's opset; what an old opset means that the
// layers cannot express (BatchNormalization or Dropout in training mode,
// the broadcasting of an Add before opset 7 other than a bias per unit or
// channel) is refused, naming the op, the attribute and the opset.
const (
	MinOpset       = 1
	MaxImportOpset = 18
)

// ImportOptions tunes Decode. The zero value is ready to use.
type ImportOptions struct {
	// Name is the spec name of the imported model; "" takes the graph's
	// name (or the name a spred export recorded).
	Name string
}

// ImportReport says how an ONNX graph was mapped.
type ImportReport struct {
	IRVersion int64         `json:"ir_version"`
	Opset     int64         `json:"opset"`
	Producer  string        `json:"producer"`
	Input     []int         `json:"input"` // per-sample input shape
	Layers    []LayerSource `json:"layers"`
}

// LayerSource is one layer of the imported spec and the ONNX nodes it was
// made from ("name (Op)").
type LayerSource struct {
	Layer models.Layer `json:"layer"`
	Nodes []string     `json:"nodes"`
}

// ReadFile imports the ONNX model at path. See Decode. Errors mention path.
func ReadFile(path string, opts ImportOptions) (*models.Model, *ImportReport, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "read ONNX model %s", path)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, errors.Errorf("read ONNX model %s: not a regular file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "read ONNX model %s", path)
	}
	m, rep, err := Decode(b, opts)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "read ONNX model %s", path)
	}
	return m, rep, nil
}

// Decode maps a serialized ONNX model onto a spec and its parameters. It
// reads what torch.onnx.export writes for MLPs and (residual) CNNs at
// opsets 7 to 18, and older files down to opset 1 where each op means
// there what it maps onto (see MinOpset and the package doc): Gemm, MatMul and Add (dense layers and their bias), Conv
// (with groups, with or without bias, a zero Pad before it merged into its
// padding), BatchNormalization (inference mode), Relu, LeakyRelu, Sigmoid,
// Tanh, Clip (a relu for [0, ∞), relu6 for [0, 6], else clip), Softmax over the class
// scores as the graph's output,
// MaxPool, AveragePool, GlobalAveragePool, the Add of two activations,
// Flatten, Reshape to [batch, features], Identity and Dropout (dropped),
// and the Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Cast and
// integer arithmetic around a Reshape, which it evaluates. The graph must
// have a single input and a single output, computed by its last layer,
// with every other layer's output read by a later layer; only the first
// input dimension (the batch) may be dynamic. Each layer reads the layers
// that produce its ONNX inputs; a chain imports as a chain (no Inputs, the
// layers named as the zoo names them), a graph with the layers it
// references named after their ONNX nodes. Weights come from
// initializers, sparse initializers or Constant nodes (a value or a
// sparse_value). Anything else is
// an error that names the node and the op or attribute (ErrUnsupported),
// the shape (ErrShape) or the defect of the file (ErrFormat). The model
// returned passes Check. A graph whose output has one value per sample
// (not class scores) imports with the loss models.LossNone: it runs in
// the engine, and training or evaluating it is refused (ErrNoLoss).
func Decode(b []byte, opts ImportOptions) (*models.Model, *ImportReport, error) {
	var mp onnx.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		return nil, nil, errors.Wrapf(ErrFormat, "not an ONNX protobuf (%v)", oneLine(err.Error()))
	}
	g := mp.GetGraph()
	if g == nil || (len(g.GetNode()) == 0 && len(g.GetInput()) == 0) {
		return nil, nil, errors.Wrap(ErrFormat, "no graph (not an ONNX model?)")
	}
	rep := &ImportReport{IRVersion: mp.GetIrVersion(), Producer: strings.TrimSpace(mp.GetProducerName() + " " + mp.GetProducerVersion())}
	for _, o := range mp.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			rep.Opset = o.GetVersion()
		}
	}
	if rep.Opset == 0 {
		return nil, nil, errors.Wrap(ErrFormat, "no opset of the default ONNX domain is imported")
	}
	if rep.Opset < MinOpset {
		return nil, nil, errors.Wrapf(ErrFormat, "opset %d is not an ONNX opset", rep.Opset)
	}
	if rep.Opset > MaxImportOpset {
		return nil, nil, errors.Wrapf(ErrUnsupported, "opset %d is too new: export at opset %d to %d", rep.Opset, MinOpset, MaxImportOpset)
	}
	r := &reader{consts: map[string]*value{}, acts: map[string][]int{}, prod: map[string]int{},
		pads: map[string]padded{}, stale: map[string]string{}, opset: rep.Opset,
		size: len(b), budget: models.MaxSparseExpansion * max(len(b), minSparseBudget)}
	if err := r.initializers(g); err != nil {
		return nil, nil, err
	}
	input, err := r.input(g)
	if err != nil {
		return nil, nil, err
	}
	for i, n := range g.GetNode() {
		if err := r.node(describe(i, n), n); err != nil {
			return nil, nil, err
		}
	}
	if err := r.output(g); err != nil {
		return nil, nil, err
	}
	if err := r.deadEnds(); err != nil {
		return nil, nil, err
	}
	for i, l := range r.layers[:len(r.layers)-1] {
		if l.Kind == models.Softmax {
			return nil, nil, errors.Wrapf(ErrUnsupported, "%s: Softmax is supported only as the graph's output (the probabilities of the class scores)", r.sources[i][0])
		}
	}
	spec := models.Spec{Name: opts.Name, Input: input, Layers: r.layers, Loss: models.LossSoftmaxCrossEntropy}
	var meta models.Provenance
	exported, prov, ok := spredMetadata(&mp)
	if ok {
		meta = prov
	}
	if !ok || !nameLike(&spec, r.ins, exported) {
		r.name(spec.Layers)
	}
	if spec.Name == "" {
		spec.Name = g.GetName()
	}
	if spec.Name == "" {
		spec.Name = "onnx"
	}
	none := spec
	none.Loss = models.LossNone
	if sh, err := none.Shapes(); err == nil && numel(sh[len(sh)-1]) == 1 {
		// One value per sample is not class scores: the model runs, but
		// has no loss to train or evaluate with.
		spec.Loss = models.LossNone
	}
	m, err := r.model(spec)
	if err != nil {
		return nil, nil, err
	}
	m.Meta = meta
	rep.Input = input
	for i, l := range spec.Layers {
		rep.Layers = append(rep.Layers, LayerSource{Layer: l, Nodes: r.sources[i]})
	}
	return m, rep, nil
}

// reader holds the state of one import: the known constants, the shapes of
// the activations and the layers that produce them, and the layers found
// so far.
type reader struct {
	consts map[string]*value
	acts   map[string][]int  // per-sample shape of every activation
	prod   map[string]int    // the layer whose output each activation is (models.InputIndex: the graph input)
	pads   map[string]padded // outputs of zero Pads, which only a Conv or AveragePool may read
	stale  map[string]string // activations a bias Add replaced, and that Add
	batch  int64             // the input's batch size when fixed, else 0
	opset  int64
	size   int // bytes of the file
	budget int // dense values sparse initializers may still expand to

	layers  []models.Layer
	ins     [][]int             // per layer: the layers it reads (models.InputIndex: the graph input)
	weights []map[string]*value // per layer: its parameters by role, in this toolkit's layout
	sources [][]string
	names   []string // per layer: the name of the ONNX node it was made from
}

func (r *reader) initializers(g *onnx.GraphProto) error {
	for _, t := range g.GetInitializer() {
		if t.GetName() == "" {
			return errors.Wrap(ErrFormat, "an initializer has no name")
		}
		if _, dup := r.consts[t.GetName()]; dup {
			return errors.Wrapf(ErrFormat, "initializer %q defined twice", t.GetName())
		}
		v, err := decodeTensor(t)
		if err != nil {
			return errors.Wrap(err, "initializer")
		}
		r.consts[t.GetName()] = v
	}
	for _, s := range g.GetSparseInitializer() {
		name, v, err := decodeSparse(s, r.budget, r.size)
		if err != nil {
			return err
		}
		r.budget -= v.size()
		if name == "" {
			return errors.Wrap(ErrFormat, "a sparse initializer has no name")
		}
		if _, dup := r.consts[name]; dup {
			return errors.Wrapf(ErrFormat, "initializer %q defined twice", name)
		}
		r.consts[name] = v
	}
	return nil
}

// input finds the graph's one real input (older files list initializers as
// inputs too) and returns its per-sample shape.
func (r *reader) input(g *onnx.GraphProto) ([]int, error) {
	var ins []*onnx.ValueInfoProto
	for _, in := range g.GetInput() {
		if _, isConst := r.consts[in.GetName()]; !isConst {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, in := range ins {
			names[i] = in.GetName()
		}
		return nil, errors.Wrapf(ErrUnsupported, "the graph has %d inputs %q; want exactly one", len(ins), names)
	}
	in := ins[0]
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return nil, errors.Wrapf(ErrUnsupported, "input %q is not a tensor", in.GetName())
	}
	if et := onnx.TensorProto_DataType(tt.GetElemType()); et != onnx.TensorProto_FLOAT {
		return nil, errors.Wrapf(ErrUnsupported, "input %q has element type %s; want FLOAT", in.GetName(), et)
	}
	if tt.GetShape() == nil {
		return nil, errors.Wrapf(ErrShape, "input %q has no shape", in.GetName())
	}
	dims := tt.GetShape().GetDim()
	if len(dims) != 2 && len(dims) != 4 {
		return nil, errors.Wrapf(ErrUnsupported, "input %q has rank %d; want [batch, features] or [batch, channels, height, width]", in.GetName(), len(dims))
	}
	if v, ok := dims[0].GetValue().(*onnx.TensorShapeProto_Dimension_DimValue); ok && v.DimValue > 0 {
		r.batch = v.DimValue
	}
	shape := make([]int, len(dims)-1)
	for i, d := range dims[1:] {
		v, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue)
		if !ok || v.DimValue <= 0 || v.DimValue > models.MaxSize {
			what := "missing"
			if p, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimParam); ok {
				what = fmt.Sprintf("the symbol %q", p.DimParam)
			} else if ok {
				what = formatInt(v.DimValue)
			}
			return nil, errors.Wrapf(ErrShape, "input %q: dimension %d is %s; only the first (batch) dimension may be dynamic, the others must be fixed positive sizes", in.GetName(), i+1, what)
		}
		shape[i] = int(v.DimValue)
	}
	r.acts[in.GetName()] = shape
	r.prod[in.GetName()] = models.InputIndex
	return shape, nil
}

// output checks that the graph's one output is the last layer's and,
// where it declares fixed sizes, has the shape the layers give.
func (r *reader) output(g *onnx.GraphProto) error {
	outs := g.GetOutput()
	if len(outs) != 1 {
		return errors.Wrapf(ErrUnsupported, "the graph has %d outputs; want exactly one (the class scores)", len(outs))
	}
	name := outs[0].GetName()
	p, isAct := r.prod[name]
	if !isAct {
		if _, ok := r.pads[name]; ok {
			return errors.Wrapf(ErrUnsupported, "output %q is the output of a Pad", name)
		}
		return errors.Wrapf(ErrFormat, "output %q is not computed by any node", name)
	}
	if len(r.layers) == 0 {
		return errors.Wrap(ErrUnsupported, "the graph has no layers")
	}
	if last := len(r.layers) - 1; p != last {
		return errors.Wrapf(ErrUnsupported, "output %q is not the end of the graph: %s comes after the layer that computes it", name, r.sources[last][0])
	}
	got := r.acts[name]
	if dims := outs[0].GetType().GetTensorType().GetShape().GetDim(); len(dims) > 0 {
		if len(dims) != 1+len(got) {
			return errors.Wrapf(ErrShape, "output %q is declared with rank %d; the layers give [batch %v]", name, len(dims), got)
		}
		for i, d := range dims[1:] {
			if v, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue); ok && int(v.DimValue) != got[i] {
				return errors.Wrapf(ErrShape, "output %q is declared with dimension %d = %d; the layers give [batch %v]", name, i+1, v.DimValue, got)
			}
		}
	}
	return nil
}

// deadEnds refuses layers whose output no layer reads (but the last).
func (r *reader) deadEnds() error {
	read := make([]bool, len(r.layers))
	for _, ins := range r.ins {
		for _, j := range ins {
			if j >= 0 {
				read[j] = true
			}
		}
	}
	for i := range r.layers[:len(r.layers)-1] {
		if !read[i] {
			return errors.Wrapf(ErrUnsupported, "%s: its output is read by no layer and is not the graph's output (a dead branch)", r.sources[i][0])
		}
	}
	return nil
}

// model builds the parameters of spec from the weights found.
func (r *reader) model(spec models.Spec) (*models.Model, error) {
	infos, err := spec.Params()
	if err != nil {
		return nil, errors.Wrapf(ErrUnsupported, "the mapped layers do not form a valid model: %v", err)
	}
	ps := &models.Params{}
	for _, pi := range infos {
		p := models.NewParam(pi.Name, pi.Prunable, tensor.Float32, pi.Shape)
		src := r.weights[pi.Layer][pi.Role]
		if src == nil || len(src.floats) != p.Len() {
			return nil, errors.Errorf("internal error: layer %d has no %s of %d values", pi.Layer, pi.Role, p.Len())
		}
		copy(p.Value.Data().([]float32), src.floats)
		if err := ps.Add(p); err != nil {
			return nil, err
		}
	}
	m := &models.Model{Spec: spec, Params: ps}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrUnsupported)
	}
	return m, nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
