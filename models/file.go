package models

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// Keys and values of the safetensors __metadata__ map of a model file.
const (
	// MetaFormat is the metadata key whose value is FormatName.
	MetaFormat = "format"
	// MetaSpec is the metadata key holding the architecture Spec as JSON.
	MetaSpec = "spred.spec"
	// MetaProvenance is the metadata key holding the Provenance as JSON.
	MetaProvenance = "spred.provenance"
	// FormatName is the value written under MetaFormat.
	FormatName = "spred"
)

// ErrFormat is returned (wrapped) by Decode and ReadFile for every malformed
// or non-spred file. Errors about the spec or the parameters stored in a file
// match ErrSpec or ErrParams as well.
var ErrFormat = errors.New("malformed model file")

// Encode writes m to w as a safetensors file: every parameter, in the order
// m.Spec.Params lists them, as a little-endian F32 tensor (float64 values
// are converted), and the spec and provenance as JSON under the metadata
// keys MetaSpec and MetaProvenance. The header is padded with spaces so that
// the data starts at an 8-byte aligned offset. The output is a deterministic
// function of m. Encode refuses a model that fails Check or holds a value
// that is not finite as a float32. EncodeSparse writes the native sparse
// form of the same model.
func Encode(w io.Writer, m *Model) error {
	vals, infos, err := checkedValues(m)
	if err != nil {
		return errors.Wrap(err, "encode")
	}
	blobs := make([]blob, len(infos))
	for i, pi := range infos {
		blobs[i] = blob{name: pi.Name, dtype: "F32", shape: pi.Shape, data: float32Bytes(vals[i])}
	}
	return errors.Wrap(writeBlobs(w, m, nil, blobs), "encode")
}

// checkedValues checks m and returns the values of its parameters as
// float32, in the order m.Spec.Params lists them (infos).
func checkedValues(m *Model) (vals [][]float32, infos []ParamInfo, err error) {
	if m == nil {
		return nil, nil, errors.New("nil model")
	}
	if err := m.Check(); err != nil {
		return nil, nil, err
	}
	if err := m.Meta.Validate(); err != nil {
		return nil, nil, errors.Wrap(err, "provenance")
	}
	if infos, err = m.Spec.Params(); err != nil {
		return nil, nil, err
	}
	vals = make([][]float32, len(infos))
	for i, pi := range infos {
		if vals[i], err = finiteFloat32s(m.Params.Get(pi.Name)); err != nil {
			return nil, nil, err
		}
	}
	return vals, infos, nil
}

// blob is one tensor of a file being written: its name, safetensors dtype,
// shape and little-endian bytes.
type blob struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// float32Bytes returns vs as little-endian bytes.
func float32Bytes(vs []float32) []byte {
	out := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
	}
	return out
}

// writeBlobs writes a safetensors file holding blobs in order, with m's
// spec and provenance and the extra metadata entries.
func writeBlobs(w io.Writer, m *Model, extra map[string]string, blobs []blob) error {
	header, err := encodeHeader(m, extra, blobs)
	if err != nil {
		return err
	}
	return writeHeaderAndBlobs(w, header, blobs)
}

// writeHeaderAndBlobs writes the length prefix, the header and the data.
func writeHeaderAndBlobs(w io.Writer, header []byte, blobs []blob) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(header)))
	bw.Write(prefix[:]) // errors are sticky; checked at Flush
	bw.Write(header)
	for _, b := range blobs {
		bw.Write(b.data)
	}
	return bw.Flush()
}

// tensorHeader is one tensor's entry in a safetensors header.
type tensorHeader struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// encodeHeader returns the JSON header, space-padded to a multiple of 8
// bytes, listing the metadata first and then the tensors in order.
func encodeHeader(m *Model, extra map[string]string, blobs []blob) ([]byte, error) {
	spec, err := MarshalSpec(m.Spec)
	if err != nil {
		return nil, errors.Wrap(err, "marshal spec")
	}
	prov, err := json.Marshal(m.Meta)
	if err != nil {
		return nil, errors.Wrap(err, "marshal provenance")
	}
	entries := map[string]string{
		MetaFormat:     FormatName,
		MetaSpec:       string(spec),
		MetaProvenance: string(prov),
	}
	for k, v := range extra {
		entries[k] = v
	}
	return headerOf(entries, blobs)
}

// headerOf returns the JSON header listing the metadata entries (none when
// nil) and then the tensors in order, space-padded to a multiple of 8 bytes.
func headerOf(entries map[string]string, blobs []blob) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	if entries != nil {
		meta, err := json.Marshal(entries)
		if err != nil {
			return nil, errors.Wrap(err, "marshal metadata")
		}
		buf.WriteString(`"__metadata__":`)
		buf.Write(meta)
	}
	var off int64
	for i, b := range blobs {
		n := int64(len(b.data))
		name, err := json.Marshal(b.name)
		if err != nil {
			return nil, errors.Wrapf(err, "marshal name %q", b.name)
		}
		entry, err := json.Marshal(tensorHeader{Dtype: b.dtype, Shape: b.shape, Offsets: [2]int64{off, off + n}})
		if err != nil {
			return nil, errors.Wrapf(err, "marshal header of %q", b.name)
		}
		if entries != nil || i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(entry)
		off += n
	}
	buf.WriteByte('}')
	for (8+buf.Len())%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}

// finiteFloat32s returns p's values as float32 (p's own storage when it is
// float32), or an error naming p if one is not finite as a float32.
func finiteFloat32s(p *Param) ([]float32, error) {
	var out []float32
	switch d := p.Value.Data().(type) {
	case []float32:
		out = d
	case float32:
		out = []float32{d}
	case []float64, float64:
		f64 := p.Float64s()
		out = make([]float32, len(f64))
		for i, v := range f64 {
			out[i] = float32(v)
		}
	default:
		return nil, errors.Errorf("parameter %q: unsupported storage %T (want float32 or float64)", p.Name, d)
	}
	if len(out) != p.Len() {
		return nil, errors.Errorf("parameter %q: storage holds %d values for shape %v", p.Name, len(out), p.Shape())
	}
	for i, v := range out {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.Errorf("parameter %q: value %d is %v (NaN, Inf or out of float32 range); refusing to save", p.Name, i, p.Float64s()[i])
		}
	}
	return out, nil
}

// WriteFile atomically stores m at path in the format Encode writes: it
// writes a temporary file in the same directory, syncs and closes it, and
// renames it over path. A model that fails Check or holds a NaN or infinite
// value is refused before anything is written. On any failure the temporary
// file is removed and a previous file at path is left untouched. Errors
// mention path.
func WriteFile(path string, m *Model) (err error) {
	defer func() {
		if err != nil {
			err = errors.Wrapf(err, "write model %s", path)
		}
	}()
	if m == nil {
		return errors.New("nil model")
	}
	if err := m.Check(); err != nil {
		return err
	}
	for _, p := range m.Params.All() {
		if _, err := finiteFloat32s(p); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, m) })
}

// ReadFile reads a model written by WriteFile or WriteSparseFile (or by any
// safetensors writer that stores the spred metadata). See Decode. Errors
// mention path.
func ReadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrapf(err, "read model %s", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errors.Wrapf(err, "read model %s", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.Errorf("read model %s: not a regular file", path)
	}
	m, err := Decode(f, fi.Size())
	if err != nil {
		return nil, errors.Wrapf(err, "read model %s", path)
	}
	return m, nil
}
