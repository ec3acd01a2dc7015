package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// file builds a .npy file of the given version around a header dict (padded
// to 64 bytes with spaces and a newline) and data.
func file(major byte, dict string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	hlen := (pre+len(dict)+1+63)/64*64 - pre
	hdr := dict + strings.Repeat(" ", hlen-len(dict)-1) + "\n"
	b := []byte(magic + string([]byte{major, 0}))
	if major > 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	}
	return append(append(b, hdr...), data...)
}

// f32s and f64s encode values little-endian.
func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func f64s(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func dict(descr, fortran, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
}

func encode(t testing.TB, a *Array) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decode(b []byte) (*Array, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// sameBits reports whether two arrays have the same shape and bit-identical
// values (NaNs included).
func sameBits(a, b *Array) bool {
	if !reflect.DeepEqual(append([]int{}, a.Shape...), append([]int{}, b.Shape...)) || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	return true
}

// TestRoundTrip: what Write writes, Read gives back bit for bit, with the
// data starting at a multiple of 64 bytes.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, shape := range [][]int{{}, {0}, {3}, {2, 3}, {2, 0, 4}, {5, 1, 28, 28}, {1, 1, 1, 1, 1, 1, 7}, {20000}} {
		a := &Array{Shape: shape}
		a.Data = make([]float32, a.Len())
		for i := range a.Data {
			a.Data[i] = float32(rng.NormFloat64())
		}
		if len(a.Data) >= 4 {
			a.Data[0], a.Data[1], a.Data[2], a.Data[3] = float32(math.NaN()), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32
		}
		b := encode(t, a)
		hlen := int(binary.LittleEndian.Uint16(b[8:10]))
		if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' || len(b) != 10+hlen+4*len(a.Data) {
			t.Errorf("shape %v: header length %d, file %d bytes", shape, hlen, len(b))
		}
		got, err := decode(b)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if !sameBits(got, a) {
			t.Errorf("shape %v: read back %v, wrote %v", shape, got.Shape, a.Shape)
		}
	}
}

// TestWriteHeader pins the header to what numpy.save writes.
func TestWriteHeader(t *testing.T) {
	b := encode(t, &Array{Shape: []int{2, 3}, Data: make([]float32, 6)})
	want := "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + strings.Repeat(" ", 58) + "\n"
	if got := string(b[:128]); got != want {
		t.Errorf("header\n%q, want\n%q", got, want)
	}
	if got := string(encode(t, &Array{Shape: []int{7}, Data: make([]float32, 7)})[10:70]); !strings.Contains(got, "'shape': (7,), }") {
		t.Errorf("1-D header %q", got)
	}
}

// TestReadVariants reads what other writers may write: float64 (rounded to
// float32), versions 2.0 and 3.0, headers in any key order, with double
// quotes, without padding or the trailing comma.
func TestReadVariants(t *testing.T) {
	cases := []struct {
		name string
		file []byte
		want *Array
	}{
		{"float64", file(1, dict("<f8", "False", "(3,)"), f64s(0.1, -2, 1e-50)), &Array{[]int{3}, []float32{0.1, -2, 0}}},
		{"version 2.0", file(2, dict("<f4", "False", "(1, 2)"), f32s(1, 2)), &Array{[]int{1, 2}, []float32{1, 2}}},
		{"version 3.0", file(3, dict("<f4", "False", "(2,)"), f32s(3, 4)), &Array{[]int{2}, []float32{3, 4}}},
		{"scalar", file(1, dict("<f4", "False", "()"), f32s(5)), &Array{[]int{}, []float32{5}}},
		{"key order, double quotes", file(1, `{"shape": (2,), "fortran_order": False, "descr": "<f4"}`, f32s(6, 7)), &Array{[]int{2}, []float32{6, 7}}},
		{"no padding", append([]byte(magic+"\x01\x00\x32\x00{'descr':'<f4','fortran_order':False,'shape':(1,)}"), f32s(8)...), &Array{[]int{1}, []float32{8}}},
	}
	for _, c := range cases {
		got, err := decode(c.file)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !sameBits(got, c.want) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got.Shape, got.Data, c.want.Shape, c.want.Data)
		}
	}
}

// badFile is a file Read must refuse with a message containing want and
// one of the sentinel errors.
type badFile struct {
	name, want string
	sentinel   error
	file       []byte
}

func badFiles() []badFile {
	good := dict("<f4", "False", "(2, 3)")
	six := f32s(1, 2, 3, 4, 5, 6)
	hugeHeader := []byte(magic + "\x02\x00\xff\xff\x00\x00")
	return []badFile{
		{"empty", "file too short (0 bytes)", ErrFormat, nil},
		{"short", "file too short (9 bytes)", ErrFormat, []byte(magic + "\x01\x00\x10")},
		{"no magic", `does not start with "\x93NUMPY"`, ErrFormat, []byte("PK\x03\x04 a zip file, perhaps an .npz")},
		{"version 4.0", "version 4.0 (want 1.0, 2.0 or 3.0)", ErrUnsupported, append([]byte(magic+"\x04\x00\x10\x00"), make([]byte, 16)...)},
		{"version 2.0 too short", "12-byte preamble of version 2.0", ErrFormat, []byte(magic + "\x02\x00\x00\x00")},
		{"header beyond the file", "header length 118 exceeds the 10 bytes after the preamble", ErrFormat, file(1, good, nil)[:20]},
		{"header over the limit", "header length 65535 exceeds the 10000-byte limit", ErrFormat, append(hugeHeader, make([]byte, 70000)...)},
		{"not a dict", "header does not start with '{'", ErrFormat, file(1, "('<f4', False, (2, 3))", six)},
		{"missing key", `header has no "fortran_order" key`, ErrFormat, file(1, "{'descr': '<f4', 'shape': (2, 3)}", six)},
		{"unknown key", `unknown key "order"`, ErrFormat, file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'order': 'C'}", six)},
		{"key twice", `key "descr" appears twice`, ErrFormat, file(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", six)},
		{"unterminated string", "unterminated string", ErrFormat, file(1, "{'descr': '<f4}", six)},
		{"text after the dict", "text after the header's '}'", ErrFormat, file(1, good+" junk", six)},
		{"fortran_order not a bool", "fortran_order is not True or False", ErrFormat, file(1, dict("<f4", "0", "(2, 3)"), six)},
		{"int64", "dtype '<i8' is not read (want '<f4' (float32) or '<f8' (float64))", ErrUnsupported, file(1, dict("<i8", "False", "(2, 3)"), make([]byte, 48))},
		{"uint8", "dtype '|u1' is not read", ErrUnsupported, file(1, dict("|u1", "False", "(2, 3)"), make([]byte, 6))},
		{"float16", "dtype '<f2' is not read", ErrUnsupported, file(1, dict("<f2", "False", "(2, 3)"), make([]byte, 12))},
		{"big-endian", "dtype '>f4' is big-endian (want little-endian '<f4' (float32) or '<f8' (float64))", ErrUnsupported, file(1, dict(">f4", "False", "(2, 3)"), six)},
		{"structured dtype", "descr is not a string (a structured dtype?)", ErrFormat, file(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}", f32s(1, 2))},
		{"Fortran order", "array of shape [2 3] is in Fortran order (want C order", ErrUnsupported, file(1, dict("<f4", "True", "(2, 3)"), six)},
		{"shape an integer", "shape (6) is an integer, not a tuple (want (6,))", ErrFormat, file(1, dict("<f4", "False", "(6)"), six)},
		{"shape a list", "shape is not a tuple", ErrFormat, file(1, dict("<f4", "False", "[2, 3]"), six)},
		{"negative dimension", "shape holds something other than non-negative integers", ErrFormat, file(1, dict("<f4", "False", "(-1, 3)"), six)},
		{"shape without commas", "no ',' or ')' in the shape", ErrFormat, file(1, dict("<f4", "False", "(2 3)"), six)},
		{"dimension over the limit", "shape dimension 99999999999999999999 exceeds the limit of 2147483648 values", ErrFormat, file(1, dict("<f4", "False", "(99999999999999999999,)"), six)},
		{"product over the limit", "shape [65536 65536] holds more than the limit of 2147483648 values", ErrFormat, file(1, dict("<f4", "False", "(65536, 65536)"), six)},
		{"product overflows", "holds more than the limit", ErrFormat, file(1, dict("<f4", "False", "(2147483648, 2147483648, 2147483648, 4)"), six)},
		{"shape beyond the file", "truncated: shape [1073741824] of '<f4' needs 4294967296 data bytes, the file has 24", ErrFormat, file(1, dict("<f4", "False", "(1073741824,)"), six)},
		{"truncated data", "truncated: shape [2 3] of '<f4' needs 24 data bytes, the file has 20", ErrFormat, file(1, good, six[:20])},
		{"truncated float64", "truncated: shape [2 3] of '<f8' needs 48 data bytes, the file has 24", ErrFormat, file(1, dict("<f8", "False", "(2, 3)"), six)},
		{"bytes after the data", "4 bytes after the data (shape [2 3] of '<f4' needs 24 data bytes, the file has 28)", ErrFormat, file(1, good, append(six, 0, 0, 0, 0))},
		{"float64 beyond float32", "value 1 (1e+300) of the float64 array is beyond float32's range", ErrUnsupported, file(1, dict("<f8", "False", "(2,)"), f64s(1, 1e300))},
	}
}

// TestReadBadFiles: every bad file is refused with a one-line message that
// names the problem, wrapping ErrFormat or ErrUnsupported.
func TestReadBadFiles(t *testing.T) {
	for _, c := range badFiles() {
		a, err := decode(c.file)
		if err == nil {
			t.Errorf("%s: read %v", c.name, a.Shape)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
		if !errors.Is(err, c.sentinel) {
			t.Errorf("%s: error %q is not %v", c.name, err, c.sentinel)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: several lines: %q", c.name, err)
		}
	}
}

// TestReadSizeLies: an input that holds fewer bytes than its declared size
// is reported truncated, not read past.
func TestReadSizeLies(t *testing.T) {
	b := encode(t, &Array{Shape: []int{40000}, Data: make([]float32, 40000)})
	_, err := Read(bytes.NewReader(b[:len(b)-100]), int64(len(b)))
	if err == nil || !strings.Contains(err.Error(), "truncated: shape [40000] of '<f4' needs 160000 data bytes, the file has 159900") {
		t.Errorf("got %v", err)
	}
}

// TestReadFile checks the file wrapper: errors name the path, a folder is
// refused.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	a := &Array{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	if err := WriteFile(path, a); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil || !sameBits(got, a) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "nope.npy")); err == nil || !strings.Contains(err.Error(), "nope.npy") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, file(1, dict("<i8", "False", "(1,)"), make([]byte, 8)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.HasPrefix(err.Error(), "read array "+path+": dtype '<i8'") {
		t.Errorf("bad file: %v", err)
	}
}

// TestWriteRefuses: an array whose shape disagrees with its data is not
// written, and WriteFile leaves no file behind.
func TestWriteRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.npy")
	for _, a := range []*Array{
		{Shape: []int{2, 3}, Data: make([]float32, 5)},
		{Shape: []int{-1}, Data: nil},
		{Shape: make([]int, 4000), Data: nil},
	} {
		if err := WriteFile(path, a); err == nil {
			t.Errorf("shape %v with %d values written", a.Shape, len(a.Data))
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("file left behind: %v", err)
		}
	}
}
