package models

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/pkg/errors"

	"github.com/spred-go/spred/internal/atomicfile"
)

// The native sparse form is an ordinary safetensors file with the same
// metadata as the dense form plus one entry, MetaSparse, that lists the
// parameters stored sparse. Each of them is split into two tensors named
// after it; the others stay dense F32 tensors under their own names:
//
//	NAME.mask   U8  [⌈n/8⌉]  bitmask: bit i%8 (least significant first) of
//	                         byte i/8 is set when value i (row-major) is stored
//	NAME.index  U32 [k]      the positions of the stored values, strictly
//	                         increasing (instead of a mask)
//	NAME.values F32 [k]      the stored values in row-major order
//
// A value is stored unless its bits are all zero (so -0 survives and the
// round trip is bit for bit). EncodeSparse picks, for each parameter, the
// smallest of dense (4n bytes), bitmask (⌈n/8⌉ + 4k) and index (8k) form,
// counting 192 bytes of header for a sparse form, so that small tensors stay
// dense; the index form is used only when n ≤ 8·MaxSparseExpansion·k, so
// that no sparse tensor expands to more than MaxSparseExpansion values per
// byte it occupies (a bitmask expands to at most 8).
const (
	// MetaSparse is the metadata key of a native sparse file: a JSON object
	// mapping every parameter stored sparse to a SparseEntry.
	MetaSparse = "spred.sparse"
	// EncodingBitmask marks a parameter stored as NAME.mask and NAME.values.
	EncodingBitmask = "bitmask"
	// EncodingIndex marks a parameter stored as NAME.index and NAME.values.
	EncodingIndex = "index"
	// SuffixMask, SuffixIndex and SuffixValues end the names of the tensors
	// a sparse parameter is stored in.
	SuffixMask   = ".mask"
	SuffixIndex  = ".index"
	SuffixValues = ".values"

	// maxIndexSpread bounds n/k for the index form (8 bytes per stored
	// value).
	maxIndexSpread = 8 * MaxSparseExpansion
	// sparseOverhead is about what storing a parameter sparse adds to the
	// header (its metadata entry and a second tensor entry), in bytes.
	sparseOverhead = 192
)

// MaxSparseExpansion bounds how many dense values a sparse tensor of a model
// file (safetensors or ONNX) may expand to, per byte it occupies in the file,
// so that the sparse tensors of a file of b bytes allocate at most 64·b
// values (256·b bytes as float32) and a small hostile file cannot claim
// gigabytes. It still lets a weight keep 1 value in 512 in the index form
// (and 1 in 768 in ONNX, with 12 bytes per stored value); sparser weights are
// written as a bitmask, or densely, instead.
const MaxSparseExpansion = 64

// SparseEntry describes one parameter in a native sparse file's MetaSparse
// metadata.
type SparseEntry struct {
	Encoding string `json:"encoding"` // EncodingBitmask or EncodingIndex
	Shape    []int  `json:"shape"`    // the dense shape, as in the spec
	Stored   int    `json:"stored"`   // k, the number of stored values
}

// EncodeSparse writes m to w in the native sparse form (see MetaSparse):
// like Encode, with every parameter whose sparse form is smaller than its
// dense one stored as a bitmask or an index list and its non-zero values.
// Decode and ReadFile read it back bit for bit. The output is a
// deterministic function of m.
func EncodeSparse(w io.Writer, m *Model) error {
	vals, infos, err := checkedValues(m)
	if err != nil {
		return errors.Wrap(err, "encode sparse")
	}
	var blobs []blob
	entries := map[string]SparseEntry{}
	for i, pi := range infos {
		b, e := sparseBlobs(pi.Name, pi.Shape, vals[i])
		blobs = append(blobs, b...)
		if e != nil {
			entries[pi.Name] = *e
		}
	}
	extra := map[string]string{}
	if len(entries) > 0 {
		js, err := json.Marshal(entries)
		if err != nil {
			return errors.Wrap(err, "encode sparse")
		}
		extra[MetaSparse] = string(js)
	}
	return errors.Wrap(writeBlobs(w, m, extra, blobs), "encode sparse")
}

// WriteSparseFile atomically stores m at path in the native sparse form,
// with the guarantees of WriteFile.
func WriteSparseFile(path string, m *Model) (err error) {
	defer func() {
		if err != nil {
			err = errors.Wrapf(err, "write model %s", path)
		}
	}()
	if _, _, err := checkedValues(m); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeSparse(w, m) })
}

// EncodedSize returns the size in bytes of m's file in the dense form
// (sparse false) or the native sparse form (sparse true).
func EncodedSize(m *Model, sparse bool) (int64, error) {
	var c byteCounter
	var err error
	if sparse {
		err = EncodeSparse(&c, m)
	} else {
		err = Encode(&c, m)
	}
	return int64(c), err
}

type byteCounter int64

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// sparseBlobs returns the tensors that store one parameter, and its
// SparseEntry when it is stored sparse.
func sparseBlobs(name string, shape []int, vs []float32) ([]blob, *SparseEntry) {
	n := len(vs)
	var pos []uint32
	for i, v := range vs {
		if math.Float32bits(v) != 0 {
			pos = append(pos, uint32(i))
		}
	}
	k := len(pos)
	dense, mask, index := 4*n, (n+7)/8+4*k+sparseOverhead, 8*k+sparseOverhead
	indexOK := k > 0 && n <= maxIndexSpread*k
	if dense <= mask && (!indexOK || dense <= index) {
		return []blob{{name: name, dtype: "F32", shape: shape, data: float32Bytes(vs)}}, nil
	}
	stored := make([]float32, k)
	for j, i := range pos {
		stored[j] = vs[i]
	}
	values := blob{name: name + SuffixValues, dtype: "F32", shape: []int{k}, data: float32Bytes(stored)}
	if indexOK && index < mask {
		data := make([]byte, 4*k)
		for j, i := range pos {
			binary.LittleEndian.PutUint32(data[4*j:], i)
		}
		return []blob{{name: name + SuffixIndex, dtype: "U32", shape: []int{k}, data: data}, values},
			&SparseEntry{Encoding: EncodingIndex, Shape: shape, Stored: k}
	}
	data := make([]byte, (n+7)/8)
	for _, i := range pos {
		data[i/8] |= 1 << (i % 8)
	}
	return []blob{{name: name + SuffixMask, dtype: "U8", shape: []int{len(data)}, data: data}, values},
		&SparseEntry{Encoding: EncodingBitmask, Shape: shape, Stored: k}
}

// sparseParam is one parameter of a sparse file, with its validated tensors.
type sparseParam struct {
	name   string
	n      int          // dense values
	where  *tensorEntry // the mask or the index
	values *tensorEntry
	bitmap bool
}

// splitSparse reads the MetaSparse metadata of h and returns the tensors
// that are not part of a sparse parameter, and the sparse parameters by
// name. Every sparse parameter must be one of infos, with its shape, and
// have exactly the tensors its encoding needs, with consistent sizes.
func splitSparse(h *header, infos []ParamInfo) ([]tensorEntry, map[string]*sparseParam, error) {
	js, ok := h.meta[MetaSparse]
	if !ok {
		return h.tensors, nil, nil
	}
	var entries map[string]SparseEntry
	if err := strictUnmarshal([]byte(js), &entries); err != nil {
		return nil, nil, errors.Errorf("%s metadata: %v", MetaSparse, err)
	}
	shapes := make(map[string][]int, len(infos))
	for _, pi := range infos {
		shapes[pi.Name] = pi.Shape
	}
	byName := make(map[string]*tensorEntry, len(h.tensors))
	for i := range h.tensors {
		byName[h.tensors[i].name] = &h.tensors[i]
	}
	used := map[string]bool{}
	take := func(name, dtype string, count int) (*tensorEntry, error) {
		t := byName[name]
		if t == nil {
			return nil, errors.Errorf("sparse tensor %q is missing", name)
		}
		if t.dtype != dtype || len(t.shape) != 1 || t.shape[0] != count {
			return nil, errors.Errorf("sparse tensor %q is %s %v, want %s [%d]", name, t.dtype, t.shape, dtype, count)
		}
		used[name] = true
		return t, nil
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]*sparseParam, len(entries))
	for _, name := range names {
		e := entries[name]
		shape, ok := shapes[name]
		if !ok {
			return nil, nil, errors.Wrapf(ErrParams, "%s metadata names %q, which is not a parameter of the spec", MetaSparse, name)
		}
		if !sameShape(e.Shape, shape) {
			return nil, nil, errors.Wrapf(ErrParams, "sparse parameter %q has shape %v, the spec needs %v", name, e.Shape, shape)
		}
		n := numel(shape)
		if e.Stored < 0 || e.Stored > n {
			return nil, nil, errors.Errorf("sparse parameter %q: %d stored values for %d slots", name, e.Stored, n)
		}
		sp := &sparseParam{name: name, n: n}
		var err error
		switch e.Encoding {
		case EncodingBitmask:
			sp.bitmap = true
			sp.where, err = take(name+SuffixMask, "U8", (n+7)/8)
		case EncodingIndex:
			if n > maxIndexSpread*e.Stored {
				return nil, nil, errors.Errorf("sparse parameter %q: index form with %d stored values for %d slots (at most %d slots per stored value, %d values per byte: models.MaxSparseExpansion)", name, e.Stored, n, maxIndexSpread, MaxSparseExpansion)
			}
			sp.where, err = take(name+SuffixIndex, "U32", e.Stored)
		default:
			return nil, nil, errors.Errorf("sparse parameter %q: unknown encoding %q (want %q or %q)", name, e.Encoding, EncodingBitmask, EncodingIndex)
		}
		if err != nil {
			return nil, nil, err
		}
		if sp.values, err = take(name+SuffixValues, "F32", e.Stored); err != nil {
			return nil, nil, err
		}
		out[name] = sp
	}
	var dense []tensorEntry
	for _, t := range h.tensors {
		if !used[t.name] {
			dense = append(dense, t)
		}
	}
	return dense, out, nil
}

// read returns the dense values of p.
func (p *sparseParam) read(r io.ReaderAt, dataStart int64) ([]float32, error) {
	stored, err := readValues(r, dataStart, p.values)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, p.where.end-p.where.begin)
	if err := readFull(r, raw, dataStart+p.where.begin); err != nil {
		return nil, errors.Wrapf(err, "tensor %q", p.where.name)
	}
	out := make([]float32, p.n)
	if p.bitmap {
		set := 0
		for _, b := range raw {
			set += bits.OnesCount8(b)
		}
		if tail := p.n % 8; tail != 0 && raw[len(raw)-1]>>tail != 0 {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: bits set past the last of %d values", p.where.name, p.n)
		}
		if set != len(stored) {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: %d bits set for %d stored values", p.where.name, set, len(stored))
		}
		j := 0
		for i := range out {
			if raw[i/8]&(1<<(i%8)) != 0 {
				out[i] = stored[j]
				j++
			}
		}
		return out, nil
	}
	prev := int64(-1)
	for j := range stored {
		i := int64(binary.LittleEndian.Uint32(raw[4*j:]))
		if i <= prev || i >= int64(p.n) {
			return nil, errors.Wrapf(ErrFormat, "tensor %q: position %d at entry %d is out of order or not below %d", p.where.name, i, j, p.n)
		}
		out[i] = stored[j]
		prev = i
	}
	return out, nil
}

// IsSparseFile reports whether the safetensors header of the file at r of
// size bytes names sparse parameters (without reading any tensor).
func IsSparseFile(r io.ReaderAt, size int64) (bool, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return false, err
	}
	_, ok := h.meta[MetaSparse]
	return ok, nil
}
