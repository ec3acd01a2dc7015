package models

import (
	"io"
	"os"
	"strings"
	"sync"

	"github.com/pkg/errors"
)

// A Format is a model file format that Open recognises.
type Format struct {
	// Name names the format in messages and in what Open returns, e.g.
	// "onnx".
	Name string
	// Match reports whether a file is in this format, from its name and its
	// first bytes (head, at most 64 of them, fewer in a short file).
	Match func(path string, head []byte) bool
	// Read reads the file at path.
	Read func(path string) (*Model, error)
}

var (
	formatsMu sync.Mutex
	formats   []Format
)

// RegisterFormat makes Open recognise a file format, tried after the
// formats registered before it. Package interop registers ONNX: import it,
// if only for its side effect, to read ONNX files with Open. It panics on an
// incomplete Format or a name already registered.
func RegisterFormat(f Format) {
	if f.Name == "" || f.Match == nil || f.Read == nil {
		panic("models: RegisterFormat of an incomplete Format")
	}
	formatsMu.Lock()
	defer formatsMu.Unlock()
	for _, g := range formats {
		if g.Name == f.Name {
			panic("models: RegisterFormat of " + f.Name + " twice")
		}
	}
	formats = append(formats, f)
}

// Formats returns the names of the registered formats, in the order Open
// tries them.
func Formats() []string {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return names
}

func init() {
	RegisterFormat(Format{Name: "safetensors", Match: isSafetensors, Read: ReadFile})
}

// isSafetensors reports whether head starts as a safetensors file: an
// 8-byte little-endian header length, then the JSON header's '{'.
func isSafetensors(_ string, head []byte) bool {
	return len(head) > 8 && head[8] == '{' && head[5] == 0 && head[6] == 0 && head[7] == 0
}

// Open reads a model file in any registered format (see RegisterFormat),
// recognised from its name and first bytes, and returns the model and the
// format's name; a safetensors file in the sparse form (WriteSparseFile) is
// reported as "safetensors-sparse". A file of no registered format is read
// as safetensors, whose error then says what is wrong with it.
func Open(path string) (*Model, string, error) {
	f, err := Sniff(path)
	if errors.Is(err, ErrUnknownFormat) {
		f, err = Format{Name: "safetensors", Read: ReadFile}, nil
	}
	if err != nil {
		return nil, "", err
	}
	m, err := f.Read(path)
	if err != nil {
		return nil, "", err
	}
	name := f.Name
	if name == "safetensors" {
		if sparse, err := isSparsePath(path); err == nil && sparse {
			name = "safetensors-sparse"
		}
	}
	return m, name, nil
}

// Sniff returns the registered format of the file at path, without reading
// more than its first bytes.
func Sniff(path string) (Format, error) {
	file, err := os.Open(path)
	if err != nil {
		return Format{}, errors.Wrapf(err, "read model %s", path)
	}
	defer file.Close()
	if st, err := file.Stat(); err != nil {
		return Format{}, errors.Wrapf(err, "read model %s", path)
	} else if !st.Mode().IsRegular() {
		return Format{}, errors.Errorf("read model %s: not a regular file", path)
	}
	head := make([]byte, 64)
	n, err := io.ReadFull(file, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return Format{}, errors.Wrapf(err, "read model %s", path)
	}
	head = head[:n]
	formatsMu.Lock()
	fs := append([]Format(nil), formats...)
	formatsMu.Unlock()
	for _, f := range fs {
		if f.Match(path, head) {
			return f, nil
		}
	}
	return Format{}, errors.Wrapf(ErrUnknownFormat, "read model %s: not a model file of a known format (%s)", path, strings.Join(Formats(), ", "))
}

// ErrUnknownFormat is returned (wrapped) by Sniff for a file of no registered
// format.
var ErrUnknownFormat = errors.New("unknown model file format")

// isSparsePath reports whether the safetensors file at path is in the
// sparse form.
func isSparsePath(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	return IsSparseFile(f, st.Size())
}
