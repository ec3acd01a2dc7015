package interop

import (
	"encoding/binary"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/pkg/errors"

	"github.com/spred-go/spred/models"
)

// value is a tensor whose contents are known when the graph is read: an
// initializer, the output of a Constant node, or shape arithmetic. Exactly
// one of floats and ints is set.
type value struct {
	dims   []int
	floats []float32 // FLOAT and DOUBLE tensors
	ints   []dim     // INT64 and INT32 tensors (shape arithmetic)
}

// dim is one integer of shape arithmetic: a number, or the batch size,
// which is unknown while the graph is read.
type dim struct {
	n     int64
	batch bool
}

func (d dim) String() string {
	if d.batch {
		return "batch"
	}
	return formatInt(d.n)
}

func (v *value) size() int { return numel(v.dims) }

func numel(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// maxValues bounds the number of values in one tensor of an ONNX file
// (the largest parameter a model spec allows).
const maxValues = math.MaxInt32

// maxRank bounds the dimensions of a tensor and the values of a list
// attribute (kernel_shape, pads, perm, ...), so that no error message
// prints millions of them; a model file allows 64 as well.
const maxRank = 64

// tensorDims checks and converts the dimensions of a tensor.
func tensorDims(name string, ds []int64) ([]int, error) {
	if len(ds) > maxRank {
		return nil, errors.Wrapf(ErrFormat, "tensor %q: rank %d is more than %d", name, len(ds), maxRank)
	}
	out := make([]int, len(ds))
	n := int64(1)
	for i, d := range ds {
		if d < 0 || d > maxValues || (d > 0 && n > maxValues/d) {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: dimensions %v are negative or hold more than %d values", name, ds, maxValues)
		}
		n *= d
		out[i] = int(d)
	}
	return out, nil
}

// decodeTensor reads the contents of an initializer or a Constant node's
// tensor: FLOAT or DOUBLE (as float32) or INT64 or INT32, stored in
// raw_data or the typed fields. Data held outside the file is refused.
func decodeTensor(t *onnx.TensorProto) (*value, error) {
	name := t.GetName()
	if t.GetDataLocation() == onnx.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, errors.Wrapf(ErrUnsupported, "tensor %q: data stored outside the file (external data) is not supported", name)
	}
	if t.GetSegment() != nil {
		return nil, errors.Wrapf(ErrUnsupported, "tensor %q: segmented tensors are not supported", name)
	}
	dims, err := tensorDims(name, t.GetDims())
	if err != nil {
		return nil, err
	}
	n := numel(dims)
	raw := t.GetRawData()
	count := func(got int) error {
		if got != n {
			return errors.Wrapf(ErrFormat, "tensor %q: %d values for dimensions %v", name, got, dims)
		}
		return nil
	}
	v := &value{dims: dims}
	switch dt := onnx.TensorProto_DataType(t.GetDataType()); dt {
	case onnx.TensorProto_FLOAT:
		if raw != nil {
			if len(raw)%4 != 0 {
				return nil, errors.Wrapf(ErrFormat, "tensor %q: %d bytes of raw FLOAT data", name, len(raw))
			}
			if err := count(len(raw) / 4); err != nil {
				return nil, err
			}
			v.floats = make([]float32, n)
			for i := range v.floats {
				v.floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			if err := count(len(t.GetFloatData())); err != nil {
				return nil, err
			}
			v.floats = append([]float32{}, t.GetFloatData()...)
		}
	case onnx.TensorProto_DOUBLE:
		var f64 []float64
		if raw != nil {
			if len(raw)%8 != 0 {
				return nil, errors.Wrapf(ErrFormat, "tensor %q: %d bytes of raw DOUBLE data", name, len(raw))
			}
			if err := count(len(raw) / 8); err != nil {
				return nil, err
			}
			f64 = make([]float64, n)
			for i := range f64 {
				f64[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			if err := count(len(t.GetDoubleData())); err != nil {
				return nil, err
			}
			f64 = t.GetDoubleData()
		}
		v.floats = make([]float32, n)
		for i, x := range f64 {
			v.floats[i] = float32(x)
		}
	case onnx.TensorProto_INT64:
		if raw != nil {
			if len(raw)%8 != 0 {
				return nil, errors.Wrapf(ErrFormat, "tensor %q: %d bytes of raw INT64 data", name, len(raw))
			}
			if err := count(len(raw) / 8); err != nil {
				return nil, err
			}
			v.ints = make([]dim, n)
			for i := range v.ints {
				v.ints[i] = dim{n: int64(binary.LittleEndian.Uint64(raw[8*i:]))}
			}
		} else {
			if err := count(len(t.GetInt64Data())); err != nil {
				return nil, err
			}
			v.ints = make([]dim, n)
			for i, x := range t.GetInt64Data() {
				v.ints[i] = dim{n: x}
			}
		}
	case onnx.TensorProto_INT32:
		if raw != nil {
			if len(raw)%4 != 0 {
				return nil, errors.Wrapf(ErrFormat, "tensor %q: %d bytes of raw INT32 data", name, len(raw))
			}
			if err := count(len(raw) / 4); err != nil {
				return nil, err
			}
			v.ints = make([]dim, n)
			for i := range v.ints {
				v.ints[i] = dim{n: int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))}
			}
		} else {
			if err := count(len(t.GetInt32Data())); err != nil {
				return nil, err
			}
			v.ints = make([]dim, n)
			for i, x := range t.GetInt32Data() {
				v.ints[i] = dim{n: int64(x)}
			}
		}
	default:
		return nil, errors.Wrapf(ErrUnsupported, "tensor %q: data type %s is not supported (want FLOAT, DOUBLE, INT64 or INT32)", name, dt)
	}
	for i, f := range v.floats {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: value %d is %v", name, i, f)
		}
	}
	return v, nil
}

// minSparseBudget is the file size, in bytes, below which the sparse
// initializers of a file may still expand to models.MaxSparseExpansion
// values per byte of it (a few MiB in all).
const minSparseBudget = 1 << 12

// decodeSparse expands a sparse tensor (a sparse initializer, or the
// sparse_value of a Constant) of a file of size bytes.
// maxDense bounds the number of dense values it may expand to: what is
// left of models.MaxSparseExpansion values per byte of the file once the
// sparse tensors before it are expanded. Nothing is allocated for a
// tensor over the bound.
func decodeSparse(s *onnx.SparseTensorProto, maxDense, size int) (string, *value, error) {
	if s.GetValues() == nil {
		return "", nil, errors.Wrap(ErrFormat, "sparse tensor without values")
	}
	name := s.GetValues().GetName()
	dims, err := tensorDims(name, s.GetDims())
	if err != nil {
		return "", nil, err
	}
	n := numel(dims)
	if n > maxDense {
		return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q: dimensions %v hold %d dense values, more than the %d left to the sparse tensors of a %d-byte file (models.MaxSparseExpansion = %d per byte)", name, dims, n, max(maxDense, 0), size, models.MaxSparseExpansion)
	}
	vals, err := decodeTensor(s.GetValues())
	if err != nil {
		return "", nil, err
	}
	if vals.floats == nil || len(vals.dims) != 1 {
		return "", nil, errors.Wrapf(ErrUnsupported, "sparse tensor %q: values must be a 1-D FLOAT or DOUBLE tensor", name)
	}
	if s.GetIndices() == nil {
		return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q has no indices", name)
	}
	idx, err := decodeTensor(s.GetIndices())
	if err != nil {
		return "", nil, errors.Wrapf(err, "sparse tensor %q", name)
	}
	k := vals.dims[0]
	if idx.ints == nil || len(idx.dims) < 1 || len(idx.dims) > 2 || idx.dims[0] != k || (len(idx.dims) == 2 && idx.dims[1] != len(dims)) {
		return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q: indices of dimensions %v for %d values of a rank-%d tensor", name, idx.dims, k, len(dims))
	}
	out := &value{dims: dims, floats: make([]float32, n)}
	seen := make([]uint64, (n+63)/64) // a bit per position
	for j := 0; j < k; j++ {
		var pos int64
		if len(idx.dims) == 1 {
			pos = idx.ints[j].n
		} else {
			for a, d := range dims {
				c := idx.ints[j*len(dims)+a].n
				if c < 0 || c >= int64(d) {
					return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q: index %d of value %d is outside dimension %d", name, c, j, d)
				}
				pos = pos*int64(d) + c
			}
		}
		if pos < 0 || pos >= int64(n) {
			return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q: index %d of value %d is outside its %d values", name, pos, j, n)
		}
		if seen[pos/64]&(1<<(pos%64)) != 0 {
			return "", nil, errors.Wrapf(ErrFormat, "sparse tensor %q: index %d appears twice", name, pos)
		}
		seen[pos/64] |= 1 << (pos % 64)
		out.floats[pos] = vals.floats[j]
	}
	return name, out, nil
}

// floatTensor makes a FLOAT tensor stored in raw_data.
func floatTensor(name string, dims []int, vs []float32) *onnx.TensorProto {
	raw := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return &onnx.TensorProto{Name: name, Dims: int64s(dims), DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
}

// int64Tensor makes an INT64 tensor stored in raw_data.
func int64Tensor(name string, dims []int, vs []int64) *onnx.TensorProto {
	raw := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return &onnx.TensorProto{Name: name, Dims: int64s(dims), DataType: int32(onnx.TensorProto_INT64), RawData: raw}
}

func int64s(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
