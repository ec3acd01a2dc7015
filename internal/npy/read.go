package npy

import (
	"encoding/binary"
	"io"
	"math"
	"os"

	"github.com/pkg/errors"
)

// chunk is the number of data bytes read at a time.
const chunk = 64 << 10

// ReadFile reads the .npy file at path (see Read). Errors mention path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrapf(err, "read array %s", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errors.Wrapf(err, "read array %s", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.Errorf("read array %s: not a regular file", path)
	}
	a, err := Read(f, fi.Size())
	return a, errors.Wrapf(err, "read array %s", path)
}

// Read reads a .npy array from r, which holds size bytes: a little-endian
// float32 or float64 array (float64 values are rounded to float32; a finite
// value beyond float32's range is an error) in C order, of at most
// MaxValues values. The header's claims are checked against size before
// anything is allocated: the data must fill the rest of the input exactly.
// When r holds fewer bytes than size, the data read so far is discarded and
// the file is reported truncated.
func Read(r io.Reader, size int64) (*Array, error) {
	var pre [12]byte
	if size < 10 {
		return nil, errors.Wrapf(ErrFormat, "file too short (%d bytes) for the 10-byte .npy preamble", size)
	}
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, shortRead(err, "preamble")
	}
	if string(pre[:6]) != magic {
		return nil, errors.Wrapf(ErrFormat, "not a .npy file (it does not start with \"\\x93NUMPY\")")
	}
	major, minor := pre[6], pre[7]
	var hlen, preamble int64
	switch {
	case major == 1 && minor == 0:
		preamble = 10
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, shortRead(err, "preamble")
		}
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
	case (major == 2 || major == 3) && minor == 0:
		preamble = 12
		if size < preamble {
			return nil, errors.Wrapf(ErrFormat, "file too short (%d bytes) for the 12-byte preamble of version %d.0", size, major)
		}
		if _, err := io.ReadFull(r, pre[8:12]); err != nil {
			return nil, shortRead(err, "preamble")
		}
		hlen = int64(binary.LittleEndian.Uint32(pre[8:12]))
	default:
		return nil, errors.Wrapf(ErrUnsupported, "version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if hlen > MaxHeaderLen {
		return nil, errors.Wrapf(ErrFormat, "header length %d exceeds the %d-byte limit", hlen, MaxHeaderLen)
	}
	if hlen > size-preamble {
		return nil, errors.Wrapf(ErrFormat, "header length %d exceeds the %d bytes after the preamble", hlen, size-preamble)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, shortRead(err, "header")
	}
	h, err := parseHeader(string(hb))
	if err != nil {
		return nil, err
	}
	item, ok := dtypes[h.descr]
	switch {
	case !ok && len(h.descr) > 0 && h.descr[0] == '>':
		return nil, errors.Wrapf(ErrUnsupported, "dtype '%s' is big-endian (want little-endian %s)", h.descr, accepted)
	case !ok:
		return nil, errors.Wrapf(ErrUnsupported, "dtype '%s' is not read (want %s)", h.descr, accepted)
	case h.fortran:
		return nil, errors.Wrapf(ErrUnsupported, "array of shape %v is in Fortran order (want C order: fortran_order False; np.ascontiguousarray converts)", h.shape)
	}
	n, err := count(h.shape)
	if err != nil {
		return nil, err
	}
	need, have := int64(n)*int64(item), size-preamble-hlen
	if have < need {
		return nil, errors.Wrapf(ErrFormat, "truncated: shape %v of '%s' needs %d data bytes, the file has %d", h.shape, h.descr, need, have)
	}
	if have > need {
		return nil, errors.Wrapf(ErrFormat, "%d bytes after the data (shape %v of '%s' needs %d data bytes, the file has %d)", have-need, h.shape, h.descr, need, have)
	}
	a := &Array{Shape: h.shape, Data: make([]float32, n)}
	buf := make([]byte, min(need, chunk))
	for done := 0; done < n; {
		k := min(n-done, len(buf)/item)
		b := buf[:k*item]
		if got, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, errors.Wrapf(ErrFormat, "truncated: shape %v of '%s' needs %d data bytes, the file has %d", h.shape, h.descr, need, int64(done*item+got))
			}
			return nil, errors.Wrap(err, "data")
		}
		out := a.Data[done : done+k]
		if item == 4 {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		} else {
			for i := range out {
				v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
				out[i] = float32(v)
				if math.IsInf(float64(out[i]), 0) && !math.IsInf(v, 0) {
					return nil, errors.Wrapf(ErrUnsupported, "value %d (%g) of the float64 array is beyond float32's range", done+i, v)
				}
			}
		}
		done += k
	}
	return a, nil
}

// shortRead words an error reading part of the file.
func shortRead(err error, part string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.Wrapf(ErrFormat, "truncated in the %s", part)
	}
	return errors.Wrap(err, part)
}
