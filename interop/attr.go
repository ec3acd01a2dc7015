package interop

import (
	"fmt"
	"strconv"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"
)

// attrs holds the attributes of one node, for typed look-ups that name the
// node in their errors.
type attrs struct {
	where string
	opset int64
	byKey map[string]*onnx.AttributeProto
}

// nodeAttrs indexes the attributes of n and refuses any that the op's
// mapping does not handle at the file's opset (known), naming the node,
// the attribute and the opset.
func (r *reader) nodeAttrs(where string, n *onnx.NodeProto, known ...string) (attrs, error) {
	a := attrs{where: where, opset: r.opset, byKey: map[string]*onnx.AttributeProto{}}
	ok := map[string]bool{}
	for _, k := range known {
		ok[k] = true
	}
	for _, at := range n.GetAttribute() {
		if !ok[at.GetName()] {
			return a, errors.Wrapf(ErrUnsupported, "%s: unsupported attribute %q at opset %d", where, at.GetName(), r.opset)
		}
		if at.GetRefAttrName() != "" {
			return a, errors.Wrapf(ErrUnsupported, "%s: attribute %q refers to a function attribute", where, at.GetName())
		}
		if _, dup := a.byKey[at.GetName()]; dup {
			return a, errors.Wrapf(ErrFormat, "%s: attribute %q given twice", where, at.GetName())
		}
		a.byKey[at.GetName()] = at
	}
	return a, nil
}

func (a attrs) typed(name string, t onnx.AttributeProto_AttributeType) (*onnx.AttributeProto, error) {
	at, ok := a.byKey[name]
	if !ok {
		return nil, nil
	}
	// A writer may leave the type out; then the field it filled decides.
	if at.GetType() != t && at.GetType() != onnx.AttributeProto_UNDEFINED {
		return nil, errors.Wrapf(ErrFormat, "%s: attribute %q is %s, want %s", a.where, name, at.GetType(), t)
	}
	return at, nil
}

func (a attrs) int(name string, def int64) (int64, error) {
	at, err := a.typed(name, onnx.AttributeProto_INT)
	if at == nil || err != nil {
		return def, err
	}
	return at.GetI(), nil
}

func (a attrs) float(name string, def float32) (float32, error) {
	at, err := a.typed(name, onnx.AttributeProto_FLOAT)
	if at == nil || err != nil {
		return def, err
	}
	return at.GetF(), nil
}

func (a attrs) ints(name string) ([]int64, bool, error) {
	at, err := a.typed(name, onnx.AttributeProto_INTS)
	if at == nil || err != nil {
		return nil, false, err
	}
	if n := len(at.GetInts()); n > maxRank {
		return nil, false, errors.Wrapf(ErrFormat, "%s: attribute %q has %d values, more than %d", a.where, name, n, maxRank)
	}
	return at.GetInts(), true, nil
}

func (a attrs) str(name, def string) (string, error) {
	at, err := a.typed(name, onnx.AttributeProto_STRING)
	if at == nil || err != nil {
		return def, err
	}
	return string(at.GetS()), nil
}

func (a attrs) tensor(name string) (*onnx.TensorProto, error) {
	at, err := a.typed(name, onnx.AttributeProto_TENSOR)
	if at == nil || err != nil {
		return nil, err
	}
	return at.GetT(), nil
}

// unsupported reports an attribute value the mapping cannot express.
func (a attrs) unsupported(name string, v interface{}, why string) error {
	return errors.Wrapf(ErrUnsupported, "%s: attribute %s=%v is not supported (%s)", a.where, name, v, why)
}

// before returns names when the file's opset is older than v (the
// attributes an op had up to opset v-1), else nothing.
func (r *reader) before(v int64, names ...string) []string {
	if r.opset < v {
		return names
	}
	return nil
}

// since returns names when the file's opset is v or newer.
func (r *reader) since(v int64, names ...string) []string {
	if r.opset >= v {
		return names
	}
	return nil
}

// legacy is the consumed_inputs attribute many ops had before opset 6, a
// hint for in-place execution that does not change what they compute.
func (r *reader) legacy() []string { return r.before(6, "consumed_inputs") }

// unsupportedAt reports an attribute value the mapping cannot express at
// the file's opset (where its meaning is that opset's).
func (a attrs) unsupportedAt(name string, v interface{}, why string) error {
	return errors.Wrapf(ErrUnsupported, "%s: attribute %s=%v is not supported at opset %d (%s)", a.where, name, v, a.opset, why)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// describe names a node for error messages: its name (or its position
// when it has none) and its op.
func describe(i int, n *onnx.NodeProto) string {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		op = d + "." + op
	}
	if n.GetName() == "" {
		return fmt.Sprintf("node #%d (%s)", i, op)
	}
	return fmt.Sprintf("node %q (%s)", n.GetName(), op)
}

// decimal32 is the float64 of the shortest decimal that reads back as f.
func decimal32(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// decimal rounds x to 7 significant digits (float32 precision), so that
// 1 − 0.9 gives 0.1.
func decimal(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 7, 64), 64)
	return v
}
