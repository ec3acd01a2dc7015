package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Limits on what Decode accepts, so that a hostile file cannot make it
// allocate much more than the file's size.
const (
	maxHeaderLen   = 100 << 20 // bytes of JSON header
	maxTensors     = 1 << 16   // tensors in a header
	maxRank        = 64        // dimensions of a tensor
	maxMetaEntries = 1024      // entries of __metadata__
	maxMetaJSON    = 1 << 20   // bytes of the spec and of the provenance JSON
)

// tensorEntry is one validated tensor of a safetensors header.
type tensorEntry struct {
	name       string
	dtype      string
	elem       int64 // bytes per value
	shape      []int
	begin, end int64 // relative to the start of the data section
}

// header is a validated safetensors header.
type header struct {
	tensors   []tensorEntry // sorted by offset
	meta      map[string]string
	dataStart int64
}

// formatError marks an error about the contents of a file (one that may wrap
// ErrSpec or ErrParams) as matching ErrFormat too.
type formatError struct{ err error }

func (e formatError) Error() string   { return e.err.Error() + ": " + ErrFormat.Error() }
func (e formatError) Unwrap() []error { return []error{e.err, ErrFormat} }

// Decode reads a model file of size bytes from r, in the dense form Encode
// writes or the native sparse form EncodeSparse writes. size must be the
// true size of the file: every length and offset in the file is checked
// against it before any tensor memory is allocated, so a corrupt or hostile
// file costs at most a small multiple of the size of its header (itself
// limited to 100 MiB, with at most 65536 tensors), plus, for a sparse file,
// the dense values it expands to: at most 8 per byte of a bitmask and
// MaxSparseExpansion (64) per byte of an index form (see EncodeSparse).
//
// The parameters come back as float32 tensors in the order m.Spec.Params
// lists them, with the spec's prunable marks; F64 tensors are converted. The
// file must hold exactly the spec's parameters with the spec's shapes, and
// only finite values. Every error about the file's contents matches
// ErrFormat (a reader that returns fewer than size bytes makes a truncated
// file); those about the spec or the parameters also match ErrSpec or
// ErrParams. Other read errors from r are returned wrapped, as they are.
func Decode(r io.ReaderAt, size int64) (*Model, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	specJSON, ok := h.meta[MetaSpec]
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "not a spred model file: no %s metadata", MetaSpec)
	}
	for _, key := range []string{MetaSpec, MetaProvenance, MetaSparse} {
		if n := len(h.meta[key]); n > maxMetaJSON {
			return nil, errors.Wrapf(ErrFormat, "%s metadata is %d bytes, over the %d-byte limit", key, n, maxMetaJSON)
		}
	}
	spec, err := ParseSpec([]byte(specJSON))
	if err != nil {
		return nil, formatError{errors.Wrapf(err, "%s metadata", MetaSpec)}
	}
	var prov Provenance
	if s, ok := h.meta[MetaProvenance]; ok {
		if err := json.Unmarshal([]byte(s), &prov); err != nil {
			return nil, errors.Wrapf(ErrFormat, "%s metadata: %v", MetaProvenance, err)
		}
		if err := prov.Validate(); err != nil {
			return nil, errors.Wrapf(ErrFormat, "%s metadata: %v", MetaProvenance, err)
		}
	}
	infos, err := spec.Params()
	if err != nil {
		return nil, formatError{err}
	}
	dense, sparse, err := splitSparse(h, infos)
	if err != nil {
		return nil, formatError{err}
	}
	entries, err := matchSpec(dense, infos, sparse)
	if err != nil {
		return nil, formatError{err}
	}
	ps := &Params{}
	for i, pi := range infos {
		var vals []float32
		if sp := sparse[pi.Name]; sp != nil {
			vals, err = sp.read(r, h.dataStart)
		} else {
			vals, err = readValues(r, h.dataStart, entries[i])
		}
		if err != nil {
			return nil, err
		}
		p := &Param{Name: pi.Name, Prunable: pi.Prunable, Value: tensor.New(tensor.WithShape(pi.Shape...), tensor.WithBacking(vals))}
		if err := ps.Add(p); err != nil {
			return nil, formatError{fmt.Errorf("%w: %w", err, ErrParams)}
		}
	}
	m := &Model{Spec: spec, Params: ps, Meta: prov}
	if err := m.Check(); err != nil {
		return nil, formatError{err}
	}
	return m, nil
}

// matchSpec returns the file's dense tensor for each of infos (nil for those
// stored sparse), or an error naming the first tensor the spec lacks,
// parameter the file lacks, shape that differs, or dtype that is not F32 or
// F64.
func matchSpec(tensors []tensorEntry, infos []ParamInfo, sparse map[string]*sparseParam) ([]*tensorEntry, error) {
	byName := make(map[string]*tensorEntry, len(tensors))
	for i := range tensors {
		byName[tensors[i].name] = &tensors[i]
	}
	want := make(map[string]bool, len(infos))
	for _, pi := range infos {
		want[pi.Name] = true
	}
	for _, t := range tensors {
		if !want[t.name] {
			return nil, errors.Wrapf(ErrParams, "tensor %q (shape %v) is not a parameter of the spec", t.name, t.shape)
		}
	}
	out := make([]*tensorEntry, len(infos))
	for i, pi := range infos {
		t := byName[pi.Name]
		if sparse[pi.Name] != nil {
			if t != nil {
				return nil, errors.Wrapf(ErrParams, "parameter %q is stored both dense and sparse", pi.Name)
			}
			continue
		}
		if t == nil {
			return nil, errors.Wrapf(ErrParams, "parameter %q (shape %v) is missing from the file", pi.Name, pi.Shape)
		}
		if !sameShape(t.shape, pi.Shape) {
			return nil, errors.Wrapf(ErrParams, "parameter %q has shape %v in the file, the spec needs %v", pi.Name, t.shape, pi.Shape)
		}
		if t.dtype != "F32" && t.dtype != "F64" {
			return nil, errors.Errorf("tensor %q: unsupported dtype %q for a parameter (want F32 or F64)", t.name, t.dtype)
		}
		out[i] = t
	}
	return out, nil
}

// readValues reads and converts the values of t, rejecting non-finite ones.
func readValues(r io.ReaderAt, dataStart int64, t *tensorEntry) ([]float32, error) {
	out := make([]float32, (t.end-t.begin)/t.elem)
	buf := make([]byte, 64<<10)
	off := dataStart + t.begin
	for i := 0; i < len(out); {
		k := min(len(buf)/int(t.elem), len(out)-i)
		chunk := buf[:k*int(t.elem)]
		if err := readFull(r, chunk, off); err != nil {
			return nil, errors.Wrapf(err, "tensor %q", t.name)
		}
		for j := range k {
			var v float64
			if t.elem == 4 {
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(chunk[4*j:])))
			} else {
				v = math.Float64frombits(binary.LittleEndian.Uint64(chunk[8*j:]))
			}
			out[i+j] = float32(v)
			if f := float64(out[i+j]); math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, errors.Wrapf(ErrFormat, "tensor %q: value %d is %v (NaN, Inf or out of float32 range)", t.name, i+j, v)
			}
		}
		off += int64(len(chunk))
		i += k
	}
	return out, nil
}

// readFull reads len(p) bytes at off, reporting a short read as a truncated
// file.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.Wrapf(ErrFormat, "file truncated: got %d of %d bytes at offset %d", n, len(p), off)
	}
	return errors.Wrapf(err, "read %d bytes at offset %d", len(p), off)
}

// readHeader reads and validates the header of a safetensors file of size
// bytes: the tensors must tile the data section exactly.
func readHeader(r io.ReaderAt, size int64) (*header, error) {
	if size < 8 {
		return nil, errors.Wrapf(ErrFormat, "file too short (%d bytes) for the 8-byte safetensors header length", size)
	}
	var prefix [8]byte
	if err := readFull(r, prefix[:], 0); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(prefix[:])
	switch {
	case n < 2:
		return nil, errors.Wrapf(ErrFormat, "header length %d is too small for a JSON object", n)
	case n > maxHeaderLen:
		return nil, errors.Wrapf(ErrFormat, "header length %d exceeds the %d-byte limit (not a safetensors file?)", n, maxHeaderLen)
	case n > uint64(size-8):
		return nil, errors.Wrapf(ErrFormat, "header length %d exceeds the %d bytes after the length prefix (truncated file?)", n, size-8)
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, 8); err != nil {
		return nil, err
	}
	if !utf8.Valid(buf) {
		return nil, errors.Wrap(ErrFormat, "header is not valid UTF-8")
	}
	h, err := parseHeader(buf)
	if err != nil {
		return nil, errors.Wrapf(ErrFormat, "header: %v", err)
	}
	h.dataStart = 8 + int64(n)
	if err := checkLayout(h.tensors, size-h.dataStart); err != nil {
		return nil, err
	}
	return h, nil
}

// checkLayout validates every tensor against the data section of dataLen
// bytes and sorts them by offset; they must tile the section exactly.
func checkLayout(ts []tensorEntry, dataLen int64) error {
	for _, t := range ts {
		if t.begin > t.end {
			return errors.Wrapf(ErrFormat, "tensor %q: data_offsets [%d %d] begin after they end", t.name, t.begin, t.end)
		}
		if t.end > dataLen {
			return errors.Wrapf(ErrFormat, "tensor %q: data_offsets [%d %d] exceed the %d-byte data section (truncated file?)", t.name, t.begin, t.end, dataLen)
		}
		n, ok := byteSize(t.shape, t.elem)
		if !ok || n != t.end-t.begin {
			return errors.Wrapf(ErrFormat, "tensor %q: shape %v of %s needs %s bytes, data_offsets [%d %d] hold %d", t.name, t.shape, t.dtype, sizeString(n, ok), t.begin, t.end, t.end-t.begin)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].begin != ts[j].begin {
			return ts[i].begin < ts[j].begin
		}
		return ts[i].end < ts[j].end
	})
	var at int64
	for _, t := range ts {
		if t.begin != at {
			return errors.Wrapf(ErrFormat, "tensor %q: data_offsets [%d %d] overlap or leave a gap (expected to start at %d)", t.name, t.begin, t.end, at)
		}
		at = t.end
	}
	if at != dataLen {
		return errors.Wrapf(ErrFormat, "tensors cover %d bytes of the %d-byte data section", at, dataLen)
	}
	return nil
}

// byteSize returns the product of shape times elem, or false on overflow.
func byteSize(shape []int, elem int64) (int64, bool) {
	n := elem
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

func sizeString(n int64, ok bool) string {
	if !ok {
		return "more than 2^63"
	}
	return strconv.FormatInt(n, 10)
}

// parseHeader parses the JSON header: an object of tensor entries plus an
// optional "__metadata__" object of strings. Keys must be unique. The limits
// keep the memory needed to a small multiple of the header's size.
func parseHeader(b []byte) (*header, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	h := &header{}
	err := eachKey(dec, "header", func(key string) error {
		if key == "__metadata__" {
			return parseMeta(dec, h)
		}
		if len(h.tensors) == maxTensors {
			return errors.Errorf("more than %d tensors", maxTensors)
		}
		t, err := parseTensor(dec, key)
		if err != nil {
			return err
		}
		h.tensors = append(h.tensors, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return h, nil
}

func parseMeta(dec *json.Decoder, h *header) error {
	h.meta = map[string]string{}
	return eachKey(dec, "__metadata__", func(key string) error {
		if len(h.meta) == maxMetaEntries {
			return errors.Errorf("__metadata__ has more than %d entries", maxMetaEntries)
		}
		var v *string
		if err := dec.Decode(&v); err != nil {
			return errors.Wrapf(err, "__metadata__ %q", key)
		}
		if v == nil {
			return errors.Errorf("__metadata__ %q is null, want a string", key)
		}
		h.meta[key] = *v
		return nil
	})
}

// parseTensor parses one tensor entry, checking the dtype and the ranges
// of the numbers (offsets and dimensions fit an int64 and an int).
func parseTensor(dec *json.Decoder, name string) (tensorEntry, error) {
	t := tensorEntry{name: name}
	var dtype *string
	var shape, offsets []uint64
	err := eachKey(dec, fmt.Sprintf("tensor %q", name), func(key string) error {
		var err error
		switch key {
		case "dtype":
			err = dec.Decode(&dtype)
		case "shape":
			shape, err = decodeUints(dec, "shape", maxRank)
		case "data_offsets":
			offsets, err = decodeUints(dec, "data_offsets", 2)
		default:
			err = errors.Errorf("unknown field %q", key)
		}
		return err
	})
	if err != nil {
		return t, errors.Wrapf(err, "tensor %q", name)
	}
	switch {
	case dtype == nil:
		return t, errors.Errorf("tensor %q: no dtype", name)
	case *dtype == "F32", *dtype == "U32":
		t.elem = 4
	case *dtype == "F64":
		t.elem = 8
	case *dtype == "U8":
		t.elem = 1
	default:
		return t, errors.Errorf("tensor %q: unsupported dtype %q (want F32 or F64; U8 and U32 only in sparse files)", name, *dtype)
	}
	t.dtype = *dtype
	if shape == nil {
		return t, errors.Errorf("tensor %q: no shape", name)
	}
	t.shape = make([]int, len(shape))
	for i, d := range shape {
		if d > math.MaxInt {
			return t, errors.Errorf("tensor %q: shape dimension %d does not fit an int", name, d)
		}
		t.shape[i] = int(d)
	}
	if len(offsets) != 2 {
		return t, errors.Errorf("tensor %q: data_offsets must be [begin, end], got %d numbers", name, len(offsets))
	}
	if offsets[0] > math.MaxInt64 || offsets[1] > math.MaxInt64 {
		return t, errors.Errorf("tensor %q: data_offsets %v do not fit an int64", name, offsets)
	}
	t.begin, t.end = int64(offsets[0]), int64(offsets[1])
	return t, nil
}

// decodeUints reads a JSON array of at most limit non-negative integers from
// dec (which must use json.Number).
func decodeUints(dec *json.Decoder, what string, limit int) ([]uint64, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.Errorf("%s is %v, want an array of integers", what, tok)
	}
	out := []uint64{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, errors.Errorf("%s: %v is not an integer", what, tok)
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return nil, errors.Errorf("%s: %s is not a non-negative 64-bit integer", what, num)
		}
		if len(out) == limit {
			return nil, errors.Errorf("%s has more than %d numbers", what, limit)
		}
		out = append(out, v)
	}
	_, err = dec.Token() // the closing bracket
	return out, err
}

// eachKey reads a JSON object from dec and calls f with each key; f must
// consume the value. Duplicate keys are an error.
func eachKey(dec *json.Decoder, what string, f func(key string) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.Errorf("%s is not a JSON object", what)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.Errorf("%s: bad key %v", what, tok)
		}
		if seen[key] {
			return errors.Errorf("%s: duplicate key %q", what, key)
		}
		seen[key] = true
		if err := f(key); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}
